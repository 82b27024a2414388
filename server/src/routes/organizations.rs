//! The organizations of the Bangsamoro government: reference data every signed-in
//! user may read.

use axum::extract::State;
use axum::Json;
use bmms_shared::api::OrganizationSummary;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::routes::extract::ApiPath;

type Row = (Uuid, String, String, String);

fn summary((id, code, name, kind): Row) -> Result<OrganizationSummary, ApiError> {
    let kind = kind.parse().map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
    Ok(OrganizationSummary { id, code, name, kind })
}

/// `GET /api/v1/organizations`: every organization, by code.
pub async fn list(State(state): State<AppState>, _: SignedIn) -> Result<Json<Vec<OrganizationSummary>>, ApiError> {
    let rows: Vec<Row> = sqlx::query_as("select id, code, name, kind from organizations order by code")
        .fetch_all(state.db.pool())
        .await?;
    Ok(Json(rows.into_iter().map(summary).collect::<Result<_, _>>()?))
}

/// `GET /api/v1/organizations/{id}`.
pub async fn show(
    State(state): State<AppState>,
    _: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<OrganizationSummary>, ApiError> {
    let row: Option<Row> = sqlx::query_as("select id, code, name, kind from organizations where id = $1")
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    let row = row.ok_or_else(|| ApiError::not_found("There is no organization with that id."))?;
    Ok(Json(summary(row)?))
}

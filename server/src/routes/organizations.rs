//! The organizations of the Bangsamoro government: reference data every signed-in
//! user may read.

use axum::extract::State;
use axum::Json;
use bmms_shared::api::OrganizationSummary;
use bmms_shared::OrgId;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::routes::extract::ApiPath;

#[derive(sqlx::FromRow)]
struct Row {
    id: OrgId,
    code: String,
    name: String,
    kind: String,
}

fn summary(row: Row) -> Result<OrganizationSummary, ApiError> {
    let kind = row.kind.parse().map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
    Ok(OrganizationSummary { id: row.id, code: row.code, name: row.name, kind })
}

/// `GET /api/v1/organizations`: every organization, by code.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Vec<OrganizationSummary>>, ApiError> {
    signed_in.require_member()?;
    let rows: Vec<Row> = sqlx::query_as("select id, code, name, kind from organizations order by code")
        .fetch_all(state.db.pool())
        .await?;
    Ok(Json(rows.into_iter().map(summary).collect::<Result<_, _>>()?))
}

/// `GET /api/v1/organizations/{id}`.
pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<OrgId>,
) -> Result<Json<OrganizationSummary>, ApiError> {
    signed_in.require_member()?;
    let row: Option<Row> = sqlx::query_as("select id, code, name, kind from organizations where id = $1")
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    let row = row.ok_or_else(|| ApiError::not_found("There is no organization with that id."))?;
    Ok(Json(summary(row)?))
}

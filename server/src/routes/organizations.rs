//! The organizations of the Bangsamoro government: reference data every signed-in user
//! may read, and which the system administrator creates, renames, deactivates and
//! reactivates. Each change is audited in that organization's own chain.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::api::{NewOrganization, OrganizationName, OrganizationSummary};
use bmms_shared::{policy, OrgId, OrgKind};
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{session_store, Caller, SignedIn};
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::extract::{ApiJson, ApiPath};

/// The columns of an [`OrganizationSummary`].
const COLUMNS: &str = "id, code, name, kind, deactivated_at is not null as deactivated";

#[derive(sqlx::FromRow)]
struct Row {
    id: OrgId,
    code: String,
    name: String,
    kind: String,
    deactivated: bool,
}

fn summary(row: Row) -> Result<OrganizationSummary, ApiError> {
    let kind = row.kind.parse().map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
    Ok(OrganizationSummary { id: row.id, code: row.code, name: row.name, kind, deactivated: row.deactivated })
}

/// The organization `id`, if there is one.
pub(crate) async fn find(conn: &mut sqlx::PgConnection, id: OrgId) -> Result<Option<OrganizationSummary>, ApiError> {
    let row: Option<Row> = sqlx::query_as(&format!("select {COLUMNS} from organizations where id = $1")).bind(id).fetch_optional(conn).await?;
    row.map(summary).transpose()
}

fn not_found() -> ApiError {
    ApiError::not_found("There is no organization with that id.")
}

/// `GET /api/v1/organizations`: every organization, by code.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Vec<OrganizationSummary>>, ApiError> {
    signed_in.require_member()?;
    let rows: Vec<Row> = sqlx::query_as(&format!("select {COLUMNS} from organizations order by code")).fetch_all(state.db.pool()).await?;
    Ok(Json(rows.into_iter().map(summary).collect::<Result<_, _>>()?))
}

/// `GET /api/v1/organizations/{id}`.
pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<OrgId>,
) -> Result<Json<OrganizationSummary>, ApiError> {
    signed_in.require_member()?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(Json(find(&mut conn, id).await?.ok_or_else(not_found)?))
}

/// A name people will recognise: 3 to 200 characters.
fn valid_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if !(3..=200).contains(&name.chars().count()) || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field("name", "Give the organization's full name, 3 to 200 characters."));
    }
    Ok(name)
}

async fn audited(mut tx: OrgTx, caller: &Caller, action: &str, details: serde_json::Value) -> Result<Json<OrganizationSummary>, ApiError> {
    let id = tx.org_id();
    audit::append(&mut tx, Event { actor: &caller.actor(), action, subject: format!("organization:{id}"), details }).await?;
    let organization = find(&mut tx, id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(Json(organization))
}

/// `POST /api/v1/organizations`: a new ministry, office or agency. Its first
/// administrator is then added from its People tab.
pub async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Result<ApiJson<NewOrganization>, ApiError>,
) -> Result<(StatusCode, Json<OrganizationSummary>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_organizations)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let ApiJson(NewOrganization { code, name }) = body?;
    let code = code.trim().to_uppercase();
    let valid_code = code.len() >= 2
        && code.len() <= 16
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    if !valid_code {
        return Err(ApiError::invalid_field("code", "A code is 2 to 16 capital letters, digits or dashes, starting with a letter: MILG, BARMM-ICT."));
    }
    let name = valid_name(&name)?;
    let id = OrgId(uuid::Uuid::new_v4());
    // The row is reference data (no row-level security); its audit entry is the new
    // organization's own, so the transaction is its.
    let mut tx = OrgTx::begin(&state.db, id).await?;
    sqlx::query("insert into organizations (id, code, name, kind) values ($1, $2, $3, $4)")
        .bind(id)
        .bind(&code)
        .bind(name)
        .bind(OrgKind::Moa.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|err| ApiError::unless_unique(err, || ApiError::invalid_field("code", format!("An organization with the code {code} or this name exists already."))))?;
    let created = audited(tx, &caller, "organization.create", json!({ "code": code, "name": name })).await?;
    Ok((StatusCode::CREATED, created))
}

/// `PUT /api/v1/organizations/{id}`: a new name; the code stays.
pub async fn rename(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<OrgId>,
    body: Result<ApiJson<OrganizationName>, ApiError>,
) -> Result<Json<OrganizationSummary>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_organizations)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let ApiJson(OrganizationName { name }) = body?;
    let name = valid_name(&name)?;
    let mut tx = OrgTx::begin(&state.db, id).await?;
    let before = find(&mut tx, id).await?.ok_or_else(not_found)?;
    sqlx::query("update organizations set name = $2 where id = $1")
        .bind(id)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(|err| ApiError::unless_unique(err, || ApiError::invalid_field("name", "Another organization has this name.")))?;
    audited(tx, &caller, "organization.rename", json!({ "from": before.name, "to": name })).await
}

/// `POST /api/v1/organizations/{id}/deactivate`: its people can no longer sign in, and
/// every session of theirs ends now; nothing of its data is deleted. OCM, BPDA, MFBM and
/// the system administrator's own organization stay.
pub async fn deactivate(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<OrgId>) -> Result<Json<OrganizationSummary>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_organizations)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, id).await?;
    let organization = find(&mut tx, id).await?.ok_or_else(not_found)?;
    if organization.kind != OrgKind::Moa || id == caller.org_id {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "organization_stays",
            format!("{} cannot be deactivated: OCM, BPDA, MFBM and your own organization always stay.", organization.code),
        ));
    }
    sqlx::query("update organizations set deactivated_at = coalesce(deactivated_at, now()) where id = $1").bind(id).execute(&mut *tx).await?;
    let ended = session_store::end_sessions_of_organization(&mut tx).await?;
    audited(tx, &caller, "organization.deactivate", json!({ "sessions_ended": ended })).await
}

/// `POST /api/v1/organizations/{id}/reactivate`: its people can sign in again.
pub async fn reactivate(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<OrgId>) -> Result<Json<OrganizationSummary>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_organizations)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, id).await?;
    find(&mut tx, id).await?.ok_or_else(not_found)?;
    sqlx::query("update organizations set deactivated_at = null where id = $1").bind(id).execute(&mut *tx).await?;
    audited(tx, &caller, "organization.reactivate", json!({})).await
}

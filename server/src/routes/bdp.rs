//! The Bangsamoro Development Plan's framework: every signed-in user reads it (and scores
//! a proposal against it); BPDA's planners keep it: its settings, goals, outcome
//! indicators with their targets, and priority areas. The rows are BPDA's
//! (migrations/0010): PostgreSQL refuses a write from any other organization.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::api::{Bdp, BdpGoal, BdpIndicator, BdpPriority, BdpSettings, GoalInput, IndicatorInput, PriorityInput};
use bmms_shared::plans::{self, ProposalOutline, Score};
use bmms_shared::policy;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Caller, SignedIn};
use crate::bdp::{check_goal_exists, goal_of, indicator_of, load, save_targets};
use crate::db::OrgTx;
use crate::error::ApiError;
use bmms_shared::psgc;
use crate::routes::extract::{ApiJson, ApiPath};

/// `GET /api/v1/bdp`
pub async fn show(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Bdp>, ApiError> {
    let caller = signed_in.require_member()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let bdp = load(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(bdp))
}

/// `POST /api/v1/bdp/score`: the score a proposal outline would get now, component by
/// component, with what would raise each.
pub async fn score(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<ProposalOutline>, ApiError>) -> Result<Json<Score>, ApiError> {
    let caller = signed_in.require_member()?;
    let ApiJson(outline) = body?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let bdp = load(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(plans::score(&bdp.for_scoring(), &outline)))
}

/// `PUT /api/v1/bdp`: the framework's name, period and full-reach count; `sample: false`
/// says it is the plan's own now.
pub async fn put_settings(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<BdpSettings>, ApiError>) -> Result<Json<Bdp>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_keep_the_bdp)?;
    let ApiJson(settings) = body?;
    let title = settings.title.trim();
    check_length("title", title, 3, 200)?;
    check_year("first_year", settings.first_year)?;
    check_year("last_year", settings.last_year)?;
    if settings.last_year < settings.first_year {
        return Err(ApiError::invalid_field("last_year", "The plan's last year comes before its first."));
    }
    if !(1..=100_000_000).contains(&settings.full_reach) {
        return Err(ApiError::invalid_field("full_reach", "Give the full-reach count as a whole number from 1 to 100,000,000."));
    }
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    sqlx::query("update bdp_framework set title = $1, first_year = $2, last_year = $3, full_reach = $4, sample = $5, updated_at = now()")
        .bind(title)
        .bind(settings.first_year)
        .bind(settings.last_year)
        .bind(settings.full_reach as i32)
        .bind(settings.sample)
        .execute(&mut *tx)
        .await?;
    let details = json!({"title": title, "first_year": settings.first_year, "last_year": settings.last_year, "full_reach": settings.full_reach, "sample": settings.sample});
    record(&mut tx, &caller, "bdp.settings", "bdp".into(), details).await?;
    let bdp = load(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(bdp))
}

/// `POST /api/v1/bdp/goals`
pub async fn create_goal(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<GoalInput>, ApiError>) -> Result<(StatusCode, Json<BdpGoal>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_keep_the_bdp)?;
    let ApiJson(goal) = body?;
    let goal = checked_goal(goal)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let id: Uuid = sqlx::query_scalar("insert into bdp_goals (org_id, code, title, description) values ($1, $2, $3, $4) returning id")
        .bind(tx.org_id())
        .bind(&goal.code)
        .bind(&goal.title)
        .bind(&goal.description)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| taken(e, "code", &goal.code))?;
    record(&mut tx, &caller, "bdp.goal.create", format!("bdp_goal:{id}"), json!(goal)).await?;
    let created = goal_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PUT /api/v1/bdp/goals/{id}`
pub async fn update_goal(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    body: Result<ApiJson<GoalInput>, ApiError>,
) -> Result<Json<BdpGoal>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_keep_the_bdp)?;
    let ApiJson(goal) = body?;
    let goal = checked_goal(goal)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let updated = sqlx::query("update bdp_goals set code = $2, title = $3, description = $4, updated_at = now() where id = $1")
        .bind(id)
        .bind(&goal.code)
        .bind(&goal.title)
        .bind(&goal.description)
        .execute(&mut *tx)
        .await
        .map_err(|e| taken(e, "code", &goal.code))?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::not_found("There is no such goal in the development plan."));
    }
    record(&mut tx, &caller, "bdp.goal.update", format!("bdp_goal:{id}"), json!(goal)).await?;
    let changed = goal_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(changed))
}

/// `POST /api/v1/bdp/indicators`
pub async fn create_indicator(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Result<ApiJson<IndicatorInput>, ApiError>,
) -> Result<(StatusCode, Json<BdpIndicator>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_keep_the_bdp)?;
    let ApiJson(indicator) = body?;
    let indicator = checked_indicator(indicator)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    check_goal_exists(&mut tx, indicator.goal_id).await?;
    let id: Uuid = sqlx::query_scalar(
        "insert into bdp_indicators (org_id, goal_id, code, name, unit, baseline, baseline_year) values ($1, $2, $3, $4, $5, $6, $7) returning id",
    )
    .bind(tx.org_id())
    .bind(indicator.goal_id)
    .bind(&indicator.code)
    .bind(&indicator.name)
    .bind(&indicator.unit)
    .bind(indicator.baseline)
    .bind(indicator.baseline_year)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| taken(e, "code", &indicator.code))?;
    save_targets(&mut tx, id, &indicator.targets).await?;
    record(&mut tx, &caller, "bdp.indicator.create", format!("bdp_indicator:{id}"), json!(indicator)).await?;
    let created = indicator_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PUT /api/v1/bdp/indicators/{id}`: its targets are replaced by those sent.
pub async fn update_indicator(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    body: Result<ApiJson<IndicatorInput>, ApiError>,
) -> Result<Json<BdpIndicator>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_keep_the_bdp)?;
    let ApiJson(indicator) = body?;
    let indicator = checked_indicator(indicator)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    check_goal_exists(&mut tx, indicator.goal_id).await?;
    let updated = sqlx::query(
        "update bdp_indicators set goal_id = $2, code = $3, name = $4, unit = $5, baseline = $6, baseline_year = $7, updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(indicator.goal_id)
    .bind(&indicator.code)
    .bind(&indicator.name)
    .bind(&indicator.unit)
    .bind(indicator.baseline)
    .bind(indicator.baseline_year)
    .execute(&mut *tx)
    .await
    .map_err(|e| taken(e, "code", &indicator.code))?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::not_found("There is no such indicator in the development plan."));
    }
    sqlx::query("delete from bdp_indicator_targets where indicator_id = $1").bind(id).execute(&mut *tx).await?;
    save_targets(&mut tx, id, &indicator.targets).await?;
    record(&mut tx, &caller, "bdp.indicator.update", format!("bdp_indicator:{id}"), json!(indicator)).await?;
    let changed = indicator_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(changed))
}

/// `DELETE /api/v1/bdp/goals/{id}`: the goal goes, with its indicators and their targets
/// (a sample goal, or one the plan no longer has).
pub async fn delete_goal(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    let caller = signed_in.require_allowed(policy::may_keep_the_bdp)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let code: Option<String> = sqlx::query_scalar("delete from bdp_goals where id = $1 returning code").bind(id).fetch_optional(&mut *tx).await?;
    let code = code.ok_or_else(|| ApiError::not_found("There is no such goal in the development plan."))?;
    record(&mut tx, &caller, "bdp.goal.remove", format!("bdp_goal:{id}"), json!({"code": code})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/bdp/indicators/{id}`: the indicator goes, with its targets.
pub async fn delete_indicator(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    let caller = signed_in.require_allowed(policy::may_keep_the_bdp)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let code: Option<String> =
        sqlx::query_scalar("delete from bdp_indicators where id = $1 returning code").bind(id).fetch_optional(&mut *tx).await?;
    let code = code.ok_or_else(|| ApiError::not_found("There is no such indicator in the development plan."))?;
    record(&mut tx, &caller, "bdp.indicator.remove", format!("bdp_indicator:{id}"), json!({"code": code})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/bdp/priorities/{place_code}`
pub async fn put_priority(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(place_code): ApiPath<String>,
    body: Result<ApiJson<PriorityInput>, ApiError>,
) -> Result<Json<BdpPriority>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_keep_the_bdp)?;
    let ApiJson(priority) = body?;
    let place_name = psgc::name_of(&place_code).ok_or_else(|| unknown_place(&place_code))?;
    let note = priority.note.trim();
    check_length("note", note, 0, 1000)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    sqlx::query(
        "insert into bdp_priorities (org_id, place_code, level, note) values ($1, $2, $3, $4)
         on conflict (place_code) do update set level = excluded.level, note = excluded.note, updated_at = now()",
    )
    .bind(tx.org_id())
    .bind(&place_code)
    .bind(priority.level.as_str())
    .bind(note)
    .execute(&mut *tx)
    .await?;
    let details = json!({"place": place_name, "level": priority.level, "note": note});
    record(&mut tx, &caller, "bdp.priority.set", format!("place:{place_code}"), details).await?;
    tx.commit().await?;
    Ok(Json(BdpPriority { place_code, place_name: place_name.to_owned(), level: priority.level, note: note.to_owned() }))
}

/// `DELETE /api/v1/bdp/priorities/{place_code}`: the place is no longer a priority area.
pub async fn delete_priority(State(state): State<AppState>, signed_in: SignedIn, ApiPath(place_code): ApiPath<String>) -> Result<StatusCode, ApiError> {
    let caller = signed_in.require_allowed(policy::may_keep_the_bdp)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let deleted = sqlx::query("delete from bdp_priorities where place_code = $1").bind(&place_code).execute(&mut *tx).await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::not_found("That place is not a priority area of the development plan."));
    }
    record(&mut tx, &caller, "bdp.priority.remove", format!("place:{place_code}"), json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn record(tx: &mut OrgTx, caller: &Caller, action: &str, subject: String, details: serde_json::Value) -> Result<(), ApiError> {
    audit::append(tx, Event { actor: &caller.actor(), action, subject, details }).await?;
    Ok(())
}

/// A code already used by another goal or indicator is a 409 that says so; any other
/// database error stays a fault.
fn taken(err: sqlx::Error, field: &str, code: &str) -> ApiError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            ApiError::client(StatusCode::CONFLICT, "code_taken", format!("The {field} {code} is taken in the development plan; choose another."))
        }
        _ => err.into(),
    }
}

fn unknown_place(code: &str) -> ApiError {
    ApiError::invalid_field("place_code", format!("No place of BARMM has the PSGC code \"{code}\"; give the ten-digit code of a province, city, municipality or barangay."))
}

fn check_length(field: &str, text: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let chars = text.chars().count();
    if chars < min || chars > max {
        let message = if min == 0 { format!("Keep it to {max} characters.") } else { format!("Write between {min} and {max} characters.") };
        return Err(ApiError::invalid_field(field, message));
    }
    Ok(())
}

fn check_year(field: &str, year: i32) -> Result<(), ApiError> {
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::invalid_field(field, "Give a year between 2000 and 2100."));
    }
    Ok(())
}

/// A goal's or indicator's code: a letter or digit, then up to 15 letters, digits, dots
/// or hyphens (`G1`, `G1.2`).
fn check_code(code: &str) -> Result<(), ApiError> {
    let mut chars = code.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !first_ok || code.len() > 16 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return Err(ApiError::invalid_field("code", "Write the code as a capital letter or digit followed by up to 15 letters, digits, dots or hyphens, e.g. G1.2."));
    }
    Ok(())
}

fn checked_goal(goal: GoalInput) -> Result<GoalInput, ApiError> {
    let goal = GoalInput { code: goal.code.trim().to_owned(), title: goal.title.trim().to_owned(), description: goal.description.trim().to_owned() };
    check_code(&goal.code)?;
    check_length("title", &goal.title, 3, 300)?;
    check_length("description", &goal.description, 0, 5000)?;
    Ok(goal)
}

fn checked_indicator(indicator: IndicatorInput) -> Result<IndicatorInput, ApiError> {
    let indicator = IndicatorInput {
        code: indicator.code.trim().to_owned(),
        name: indicator.name.trim().to_owned(),
        unit: indicator.unit.trim().to_owned(),
        ..indicator
    };
    check_code(&indicator.code)?;
    check_length("name", &indicator.name, 3, 300)?;
    check_length("unit", &indicator.unit, 0, 40)?;
    if indicator.baseline.is_some_and(|b| !b.is_finite()) {
        return Err(ApiError::invalid_field("baseline", "Give the baseline as a number."));
    }
    if let Some(year) = indicator.baseline_year {
        check_year("baseline_year", year)?;
    }
    if indicator.targets.len() > 30 {
        return Err(ApiError::invalid_field("targets", "Give at most 30 yearly targets."));
    }
    for (at, target) in indicator.targets.iter().enumerate() {
        check_year("targets", target.year)?;
        if !target.value.is_finite() {
            return Err(ApiError::invalid_field("targets", format!("The target for {} is not a number.", target.year)));
        }
        if indicator.targets[..at].iter().any(|t| t.year == target.year) {
            return Err(ApiError::invalid_field("targets", format!("{} has two targets; keep one.", target.year)));
        }
    }
    Ok(indicator)
}

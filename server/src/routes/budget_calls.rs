//! MFBM's budget call: for a fiscal year, a message, the calendar (a deadline for each
//! stage after the call) and the indicative ceiling of each ministry, office or agency.
//! MFBM's budget officers issue and amend it; every organization reads the call and its
//! calendar, and its own ceiling (MFBM and OCM read every ceiling). The rows are MFBM's
//! (migrations/0023): PostgreSQL refuses a write from any other organization.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::api::{BudgetCall, BudgetCallInput, CeilingInput, Items};
use bmms_shared::budget::{scheduled_stages, stage_name, MAX_CEILING_CENTAVOS};
use bmms_shared::records::ppa::FISCAL_YEARS;
use bmms_shared::{policy, OrgId};
use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::budget::calls;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::routes::extract::{ApiJson, ApiPath};

/// A call as checked: the calendar's dates in the stages' order, each ceiling with its
/// organization's id.
struct Checked {
    fiscal_year: i32,
    message: String,
    deadlines: Vec<(&'static str, NaiveDate)>,
    ceilings: Vec<(OrgId, CeilingInput)>,
}

fn check_amount(field: &str, code: &str, amount: i64) -> Result<(), ApiError> {
    if !(0..=MAX_CEILING_CENTAVOS).contains(&amount) {
        return Err(ApiError::invalid_field(
            "ceilings",
            format!("The {field} ceiling of {code} must be whole centavos from 0 to {MAX_CEILING_CENTAVOS} (a trillion pesos)."),
        ));
    }
    Ok(())
}

/// Checks a call against the calendar's rules and the organizations, naming the first
/// part to correct.
async fn checked(tx: &mut OrgTx, input: BudgetCallInput) -> Result<Checked, ApiError> {
    if !FISCAL_YEARS.contains(&input.fiscal_year) {
        return Err(ApiError::invalid_field("fiscal_year", format!("Give a fiscal year from {} to {}.", FISCAL_YEARS.start(), FISCAL_YEARS.end())));
    }
    let message = input.message.trim().to_owned();
    if message.is_empty() || message.chars().count() > 10_000 {
        return Err(ApiError::invalid_field("message", "Write the call's message, up to 10,000 characters."));
    }
    // Preparation for a year runs through the year before it; the dates must fall from
    // two years before to the year's end.
    let earliest = NaiveDate::from_ymd_opt(input.fiscal_year - 2, 1, 1).unwrap_or_default();
    let latest = NaiveDate::from_ymd_opt(input.fiscal_year, 12, 31).unwrap_or_default();
    let mut deadlines: Vec<(&'static str, NaiveDate)> = Vec::new();
    for (stage, name) in scheduled_stages() {
        let Some(text) = input.deadlines.get(stage) else {
            return Err(ApiError::invalid_field("deadlines", format!("Give the deadline of {name}.")));
        };
        let due = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid_field("deadlines", format!("Give the deadline of {name} as a date (YYYY-MM-DD).")))?;
        if due < earliest || due > latest {
            return Err(ApiError::invalid_field("deadlines", format!("The deadline of {name} must fall between {earliest} and {latest}.")));
        }
        if let Some(&(before, previous)) = deadlines.last() {
            if due < previous {
                return Err(ApiError::invalid_field("deadlines", format!("{name} cannot be due before {}.", stage_name(before))));
            }
        }
        deadlines.push((stage, due));
    }
    if let Some(unknown) = input.deadlines.keys().find(|stage| !scheduled_stages().any(|(s, _)| s == stage.as_str())) {
        return Err(ApiError::invalid_field("deadlines", format!("There is no stage \"{unknown}\" with a deadline.")));
    }
    let mut ceilings: Vec<(OrgId, CeilingInput)> = Vec::new();
    for ceiling in input.ceilings {
        let code = ceiling.organization_code.trim().to_owned();
        let found: Option<(OrgId, String)> = sqlx::query_as("select id, kind from organizations where code = $1").bind(&code).fetch_optional(&mut **tx).await?;
        let id = match found {
            Some((id, kind)) if kind == "moa" => id,
            Some(_) => return Err(ApiError::invalid_field("ceilings", format!("{code} is not a ministry, office or agency that proposes a budget."))),
            None => return Err(ApiError::invalid_field("ceilings", format!("There is no organization {code}."))),
        };
        if ceilings.iter().any(|(other, _)| *other == id) {
            return Err(ApiError::invalid_field("ceilings", format!("{code} has two ceilings; keep one.")));
        }
        check_amount("total", &code, ceiling.total)?;
        for (class, amount) in [("PS", ceiling.ps), ("MOOE", ceiling.mooe), ("CO", ceiling.co)] {
            if let Some(amount) = amount {
                check_amount(class, &code, amount)?;
                if amount > ceiling.total {
                    return Err(ApiError::invalid_field("ceilings", format!("The {class} ceiling of {code} is above its total ceiling.")));
                }
            }
        }
        ceilings.push((id, CeilingInput { organization_code: code, ..ceiling }));
    }
    Ok(Checked { fiscal_year: input.fiscal_year, message, deadlines, ceilings })
}

/// Writes the call's calendar and ceilings (replacing any there were).
async fn write_parts(tx: &mut OrgTx, call_id: Uuid, call: &Checked) -> Result<(), ApiError> {
    sqlx::query("delete from budget_call_deadlines where call_id = $1").bind(call_id).execute(&mut **tx).await?;
    sqlx::query("delete from budget_ceilings where call_id = $1").bind(call_id).execute(&mut **tx).await?;
    for (stage, due) in &call.deadlines {
        sqlx::query("insert into budget_call_deadlines (org_id, call_id, stage, due) values ($1, $2, $3, $4)")
            .bind(tx.org_id())
            .bind(call_id)
            .bind(stage)
            .bind(due)
            .execute(&mut **tx)
            .await?;
    }
    for (moa_id, ceiling) in &call.ceilings {
        sqlx::query("insert into budget_ceilings (org_id, call_id, moa_id, total, ps, mooe, co) values ($1, $2, $3, $4, $5, $6, $7)")
            .bind(tx.org_id())
            .bind(call_id)
            .bind(moa_id)
            .bind(ceiling.total)
            .bind(ceiling.ps)
            .bind(ceiling.mooe)
            .bind(ceiling.co)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Every organization's screens of the call refresh: it concerns them all.
async fn announce_to_all(state: &AppState) -> Result<(), ApiError> {
    let everyone: Vec<OrgId> = sqlx::query_scalar("select id from organizations").fetch_all(state.db.pool()).await?;
    for org_id in everyone {
        state.events.announce(org_id, Topic::Records);
    }
    Ok(())
}

/// `GET /api/v1/budget-calls`: every year's call, the newest year first.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Items<BudgetCall>>, ApiError> {
    let caller = signed_in.require_member()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let items = calls(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Json(Items { items }))
}

/// `POST /api/v1/budget-calls`: MFBM issues a year's call.
pub async fn issue(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<BudgetCallInput>, ApiError>) -> Result<(StatusCode, Json<BudgetCall>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_issue_budget_call)?;
    let ApiJson(input) = body?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let call = checked(&mut tx, input).await?;
    let call_id: Uuid = sqlx::query_scalar("insert into budget_calls (org_id, fiscal_year, message, issued_by, updated_by) values ($1, $2, $3, $4, $4) returning id")
        .bind(tx.org_id())
        .bind(call.fiscal_year)
        .bind(&call.message)
        .bind(caller.user_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| {
            ApiError::unless_unique(err, || {
                let message = format!("The budget call for {} is issued already; amend it instead.", call.fiscal_year);
                ApiError::client(StatusCode::CONFLICT, "already_issued", message)
            })
        })?;
    write_parts(&mut tx, call_id, &call).await?;
    let issued = calls(&mut tx, Some(call.fiscal_year)).await?.remove(0);
    let details = json!({"call": call_id, "after": issued});
    audit::append(&mut tx, Event { actor: &caller.actor(), action: "budget_call.issue", subject: format!("budget_call:{}", call.fiscal_year), details }).await?;
    tx.commit().await?;
    announce_to_all(&state).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// `PUT /api/v1/budget-calls/{year}`: MFBM amends a year's call (its message, calendar and
/// ceilings, as a whole); the audit keeps the call before and after.
pub async fn amend(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(year): ApiPath<i32>,
    body: Result<ApiJson<BudgetCallInput>, ApiError>,
) -> Result<Json<BudgetCall>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_issue_budget_call)?;
    let ApiJson(input) = body?;
    if input.fiscal_year != year {
        return Err(ApiError::invalid_field("fiscal_year", format!("This is the call for {year}; its fiscal year cannot change.")));
    }
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let call = checked(&mut tx, input).await?;
    let before = calls(&mut tx, Some(year)).await?.pop().ok_or_else(|| ApiError::not_found(format!("No budget call is issued for {year}.")))?;
    let call_id: Uuid = sqlx::query_scalar("update budget_calls set message = $2, updated_by = $3, updated_at = now() where fiscal_year = $1 returning id")
        .bind(year)
        .bind(&call.message)
        .bind(caller.user_id)
        .fetch_one(&mut *tx)
        .await?;
    write_parts(&mut tx, call_id, &call).await?;
    let after = calls(&mut tx, Some(year)).await?.remove(0);
    let details = json!({"call": call_id, "before": before, "after": after});
    audit::append(&mut tx, Event { actor: &caller.actor(), action: "budget_call.amend", subject: format!("budget_call:{year}"), details }).await?;
    tx.commit().await?;
    announce_to_all(&state).await?;
    Ok(Json(after))
}

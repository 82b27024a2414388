//! An organization's budget proposal for a fiscal year (`crate::budget` reads it):
//! - while `preparing`, its desk staff add the organization's certified PPAs (each bound
//!   to the version BPDA certified, with that version's cost for the year by quarter and
//!   class) and remove them;
//! - one of them signs it as its preparer (`prepared`; or reopens it to change it);
//! - the organization's administrator, as its head and never its preparer, submits it to
//!   MFBM (`submitted`): only when the compliance check finds no error, and, after the
//!   call's deadline, with a reason (flagged).
//!
//! Every move is kept with the proposal before and after (`budget_transitions`) and in
//! the audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::api::{AddToBudget, BudgetProposal, SubmitBudget};
use bmms_shared::budget::compliance;
use bmms_shared::{policy, DocId, OrgId, UserId};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Caller, SignedIn};
use crate::budget::{self, Stored, CLASSES, HOLDS, YEAR_COST};
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::routes::extract::{ApiJson, ApiPath};

/// The caller's organization's proposal for `year` (`crate::budget::load`), after taking
/// in MFBM's return of it, if MFBM sent it back since it was last read.
async fn load(tx: &mut OrgTx, year: i32, late_reason: Option<String>) -> Result<Stored, ApiError> {
    take_return(tx, year).await?;
    let org = tx.org_id();
    budget::load(tx, org, year, late_reason).await
}

/// If MFBM sent the submitted proposal back (its review of this submission says
/// `returned`), the proposal goes back to preparation: its signatures are withdrawn, and
/// the move is kept as the reviewer's. MFBM's review is its own row; this follow-up runs
/// in the organization's own transaction, and does nothing the second time.
async fn take_return(tx: &mut OrgTx, year: i32) -> Result<(), ApiError> {
    let returned: Option<(Uuid, UserId, String)> = sqlx::query_as(
        "select b.id, r.reviewed_by, u.username from budget_proposals b
         join budget_reviews r on r.budget_proposal_id = b.id and r.submitted_at = b.submitted_at
         join users u on u.id = r.reviewed_by
         where b.org_id = $1 and b.fiscal_year = $2 and b.status = 'submitted' and r.decision = 'returned'
         for update of b",
    )
    .bind(tx.org_id())
    .bind(year)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((id, reviewer, username)) = returned else { return Ok(()) };
    let org = tx.org_id();
    let before = budget::load(tx, org, year, None).await?.proposal;
    sqlx::query(
        "update budget_proposals set status = 'preparing', prepared_by = null, prepared_at = null, submitted_by = null,
                submitted_at = null, updated_at = now() where id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let reviewer = Caller { user_id: reviewer, username, org_id: org, role: bmms_shared::Role::MfbmBudgetOfficer };
    moved(tx, &reviewer, year, &before, id).await?;
    Ok(())
}

/// Refuses an organization that proposes no budget (OCM, BPDA, MFBM).
async fn proposing(tx: &mut OrgTx) -> Result<(), ApiError> {
    let kind: String = sqlx::query_scalar("select kind from organizations where id = $1").bind(tx.org_id()).fetch_one(&mut **tx).await?;
    if kind != "moa" {
        return Err(ApiError::forbidden("not_allowed", "Only ministries, offices and agencies propose a budget."));
    }
    Ok(())
}

fn summary(proposal: &BudgetProposal) -> Value {
    json!({
        "status": proposal.status,
        "ppas": proposal.ppas.iter().map(|p| json!({"proposal_id": p.proposal_id, "version": p.version, "total": p.total})).collect::<Vec<_>>(),
        "total": proposal.total,
        "prepared_by": proposal.prepared_by,
        "submitted_by": proposal.submitted_by,
        "late_reason": proposal.late_reason,
    })
}

/// Refuses a change of the PPAs once the proposal is signed.
fn while_preparing(stored: &Stored) -> Result<(), ApiError> {
    if stored.proposal.status != "preparing" {
        let message = format!("This budget proposal is {}; reopen it to change its PPAs.", stored.proposal.status);
        return Err(ApiError::client(StatusCode::CONFLICT, "not_preparing", message));
    }
    Ok(())
}

/// The budget proposal's row, locked for this transaction, created on first need.
async fn locked_id(tx: &mut OrgTx, year: i32) -> Result<Uuid, ApiError> {
    sqlx::query("insert into budget_proposals (org_id, fiscal_year) values ($1, $2) on conflict (org_id, fiscal_year) do nothing")
        .bind(tx.org_id())
        .bind(year)
        .execute(&mut **tx)
        .await?;
    Ok(sqlx::query_scalar("select id from budget_proposals where org_id = $1 and fiscal_year = $2 for update").bind(tx.org_id()).bind(year).fetch_one(&mut **tx).await?)
}

/// Keeps the move just made (the proposal `before` it, and as it is now) and answers the
/// proposal as it is now.
async fn moved(tx: &mut OrgTx, caller: &Caller, year: i32, before: &BudgetProposal, id: Uuid) -> Result<BudgetProposal, ApiError> {
    let org = tx.org_id();
    let after = budget::load(tx, org, year, None).await?.proposal;
    let (before, after_summary) = (summary(before), summary(&after));
    sqlx::query("insert into budget_transitions (org_id, budget_proposal_id, from_status, to_status, moved_by, before, after) values ($1, $2, $3, $4, $5, $6, $7)")
        .bind(tx.org_id())
        .bind(id)
        .bind(before["status"].as_str())
        .bind(&after.status)
        .bind(caller.user_id)
        .bind(&before)
        .bind(&after_summary)
        .execute(&mut **tx)
        .await?;
    let action = format!("budget_proposal.{}", after.status);
    let details = json!({"fiscal_year": year, "before": before, "after": after_summary});
    audit::append(tx, Event { actor: &caller.actor(), action: &action, subject: format!("budget_proposal:{id}"), details }).await?;
    // Read again, with this move in its history.
    Ok(budget::load(tx, org, year, None).await?.proposal)
}

/// Opens a change of the year's proposal: the caller's transaction, the proposal's row
/// locked (created on first need) and the proposal as it stands, checked with
/// `late_reason`.
async fn begin_change(state: &AppState, caller: &Caller, year: i32, late_reason: Option<String>) -> Result<(OrgTx, Uuid, Stored), ApiError> {
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    proposing(&mut tx).await?;
    let id = locked_id(&mut tx, year).await?;
    let stored = load(&mut tx, year, late_reason).await?;
    Ok((tx, id, stored))
}

/// Ends a move of the proposal: keeps it (with the proposal `before` it), commits, and
/// tells the organization's screens and those of `also`.
async fn end_move(state: &AppState, mut tx: OrgTx, caller: &Caller, year: i32, before: &BudgetProposal, id: Uuid, also: Vec<OrgId>) -> Result<Json<BudgetProposal>, ApiError> {
    let proposal = moved(&mut tx, caller, year, before, id).await?;
    tx.commit().await?;
    state.metrics.budget_moved(&proposal.status);
    for org_id in also.into_iter().chain([caller.org_id]) {
        state.events.announce(org_id, Topic::Records);
    }
    Ok(Json(proposal))
}

/// `GET /api/v1/budget-proposals/{year}`
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiPath(year): ApiPath<i32>) -> Result<Json<BudgetProposal>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_prepare_budget)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    proposing(&mut tx).await?;
    let stored = load(&mut tx, year, None).await?;
    tx.commit().await?;
    Ok(Json(stored.proposal))
}

/// `POST /api/v1/budget-proposals/{year}/ppas`: adds a certified PPA, bound to its
/// certified version, with that version's cost for the year.
pub async fn add_ppa(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(year): ApiPath<i32>,
    body: Result<ApiJson<AddToBudget>, ApiError>,
) -> Result<Json<BudgetProposal>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_prepare_budget)?;
    let ApiJson(AddToBudget { proposal_id }) = body?;
    let (mut tx, id, stored) = begin_change(&state, &caller, year, None).await?;
    while_preparing(&stored)?;
    if stored.proposal.ppas.iter().any(|p| p.proposal_id == proposal_id) {
        return Err(ApiError::invalid_field("proposal_id", "This PPA is in the budget already."));
    }
    let certified: Option<(Uuid, serde_json::Value, bool, String, i32, i64)> = sqlx::query_as(&format!(
        "select s.id, c.content, s.cost_by_year ? $3::text, coalesce(s.title, ''), s.version, {}
         from ppa_submissions s join ppa_submission_contents c on c.submission_id = s.id
         where s.org_id = $1 and s.proposal_id = $2 and {HOLDS}",
        YEAR_COST.replace("$2", "$3")
    ))
    .bind(tx.org_id())
    .bind(proposal_id)
    .bind(year)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((submission_id, content, costed, title, version, year_cost)) = certified else {
        let message = "This PPA is not certified by BPDA, or its certification no longer holds: only certified PPAs are budgeted. Submit it to BPDA first.";
        return Err(ApiError::invalid_field("proposal_id", message));
    };
    if !costed {
        return Err(ApiError::invalid_field("proposal_id", format!("This PPA has no cost in {year}; budget it in a year it is costed.")));
    }
    sqlx::query(
        "insert into budget_proposal_ppas (org_id, budget_proposal_id, proposal_id, submission_id, title, version, year_cost)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tx.org_id())
    .bind(id)
    .bind(proposal_id)
    .bind(submission_id)
    .bind(&title)
    .bind(version)
    .bind(year_cost)
    .execute(&mut *tx)
    .await?;
    for quarter in 1..=4i16 {
        for class in CLASSES {
            let amount = content.get(bmms_shared::records::ppa::cost_field(year, quarter as u8, class)).and_then(|v| v.as_i64()).unwrap_or(0);
            sqlx::query("insert into budget_lines (org_id, budget_proposal_id, proposal_id, quarter, class, amount) values ($1, $2, $3, $4, $5, $6)")
                .bind(tx.org_id())
                .bind(id)
                .bind(proposal_id)
                .bind(quarter)
                .bind(class)
                .bind(amount)
                .execute(&mut *tx)
                .await?;
        }
    }
    let details = json!({"fiscal_year": year, "proposal_id": proposal_id, "submission_id": submission_id});
    audit::append(&mut tx, Event { actor: &caller.actor(), action: "budget_proposal.add_ppa", subject: format!("budget_proposal:{id}"), details }).await?;
    let proposal = load(&mut tx, year, None).await?.proposal;
    tx.commit().await?;
    state.events.announce(caller.org_id, Topic::Records);
    Ok(Json(proposal))
}

/// `DELETE /api/v1/budget-proposals/{year}/ppas/{proposal_id}`
pub async fn remove_ppa(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath((year, proposal_id)): ApiPath<(i32, DocId)>,
) -> Result<Json<BudgetProposal>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_prepare_budget)?;
    let (mut tx, id, stored) = begin_change(&state, &caller, year, None).await?;
    while_preparing(&stored)?;
    let removed = sqlx::query("delete from budget_proposal_ppas where budget_proposal_id = $1 and proposal_id = $2").bind(id).bind(proposal_id).execute(&mut *tx).await?;
    if removed.rows_affected() == 0 {
        return Err(ApiError::not_found("This PPA is not in the budget."));
    }
    let details = json!({"fiscal_year": year, "proposal_id": proposal_id});
    audit::append(&mut tx, Event { actor: &caller.actor(), action: "budget_proposal.remove_ppa", subject: format!("budget_proposal:{id}"), details }).await?;
    let proposal = load(&mut tx, year, None).await?.proposal;
    tx.commit().await?;
    state.events.announce(caller.org_id, Topic::Records);
    Ok(Json(proposal))
}

/// Refuses to move a proposal that the compliance check blocks, naming the first error.
/// What the check finds at each try to sign or submit is counted for the metrics.
fn compliant(state: &AppState, stored: &Stored) -> Result<(), ApiError> {
    for violation in &stored.proposal.violations {
        state.metrics.compliance_found(&violation.rule, violation.severity);
    }
    if let Some(error) = stored.proposal.violations.iter().find(|v| v.severity == compliance::Severity::Error) {
        let count = stored.proposal.violations.iter().filter(|v| v.severity == compliance::Severity::Error).count();
        let message = format!("The compliance check finds {count} error(s); correct them first. {} ({})", error.message, error.rule);
        return Err(ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, "not_compliant", message));
    }
    Ok(())
}

/// `POST /api/v1/budget-proposals/{year}/prepare`: the preparer signs the proposal.
pub async fn prepare(State(state): State<AppState>, signed_in: SignedIn, ApiPath(year): ApiPath<i32>) -> Result<Json<BudgetProposal>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_prepare_budget)?;
    let (mut tx, id, stored) = begin_change(&state, &caller, year, None).await?;
    while_preparing(&stored)?;
    compliant(&state, &stored)?;
    sqlx::query("update budget_proposals set status = 'prepared', prepared_by = $2, prepared_at = now(), updated_at = now() where id = $1")
        .bind(id)
        .bind(caller.user_id)
        .execute(&mut *tx)
        .await?;
    end_move(&state, tx, &caller, year, &stored.proposal, id, Vec::new()).await
}

/// `POST /api/v1/budget-proposals/{year}/reopen`: a prepared proposal goes back to
/// preparation (its preparer's signature is withdrawn).
pub async fn reopen(State(state): State<AppState>, signed_in: SignedIn, ApiPath(year): ApiPath<i32>) -> Result<Json<BudgetProposal>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_prepare_budget)?;
    let (mut tx, id, stored) = begin_change(&state, &caller, year, None).await?;
    if stored.proposal.status != "prepared" {
        let message = format!("This budget proposal is {}; only a prepared one is reopened.", stored.proposal.status);
        return Err(ApiError::client(StatusCode::CONFLICT, "not_prepared", message));
    }
    sqlx::query("update budget_proposals set status = 'preparing', prepared_by = null, prepared_at = null, updated_at = now() where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    end_move(&state, tx, &caller, year, &stored.proposal, id, Vec::new()).await
}

/// `POST /api/v1/budget-proposals/{year}/submit`: the head submits the prepared proposal
/// to MFBM.
pub async fn submit(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(year): ApiPath<i32>,
    body: Result<ApiJson<SubmitBudget>, ApiError>,
) -> Result<Json<BudgetProposal>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_submit_budget)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let ApiJson(SubmitBudget { late_reason }) = body?;
    let late_reason = late_reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if late_reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(ApiError::invalid_field("late_reason", "Keep the reason to 2,000 characters."));
    }
    let (mut tx, id, stored) = begin_change(&state, &caller, year, late_reason.clone()).await?;
    if stored.proposal.status != "prepared" {
        let message = match stored.proposal.status.as_str() {
            "submitted" => "This budget proposal is submitted already.".to_owned(),
            _ => "Its preparer signs the budget proposal first (Prepared); then its head submits it.".to_owned(),
        };
        return Err(ApiError::client(StatusCode::CONFLICT, "not_prepared", message));
    }
    if stored.prepared_by == Some(caller.user_id) {
        let message = "You prepared this budget proposal: another person, the organization's head, submits it.";
        return Err(ApiError::forbidden("own_step", message));
    }
    compliant(&state, &stored)?;
    if stored.draft.late && late_reason.is_none() {
        let message = "The budget submission deadline has passed: say why it is late, and it goes to MFBM flagged.";
        return Err(ApiError::invalid_field("late_reason", message));
    }
    sqlx::query("update budget_proposals set status = 'submitted', submitted_by = $2, submitted_at = now(), late_reason = $3, updated_at = now() where id = $1")
        .bind(id)
        .bind(caller.user_id)
        .bind(&late_reason)
        .execute(&mut *tx)
        .await?;
    // MFBM's screens learn of it too.
    let mfbm: Vec<OrgId> = sqlx::query_scalar("select id from organizations where kind = 'mfbm'").fetch_all(&mut *tx).await?;
    end_move(&state, tx, &caller, year, &stored.proposal, id, mfbm).await
}

//! MFBM's technical review of the budgets submitted to it: every organization's
//! submission of a year in one list, each with what the compliance check finds in it now
//! (a PPA's certification may have been voided since); one submission in full; and the
//! review itself, which sends the budget back with comments or recommends it. The review
//! is MFBM's own row (migrations/0026); the organization takes a return into its
//! proposal at its next read (routes/budget_proposals.rs).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::api::{BudgetProposal, BudgetSubmission, Items, ReviewBudget};
use bmms_shared::budget::compliance::{self, Severity};
use bmms_shared::{policy, OrgId};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::budget::load;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::routes::extract::{ApiJson, ApiPath, ApiQuery};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearQuery {
    pub year: i32,
}

/// The submitted proposals of `year` the transaction reads: id, organization and when.
async fn submitted(tx: &mut OrgTx, year: i32, code: Option<&str>) -> Result<Vec<(Uuid, OrgId, String, DateTime<Utc>)>, ApiError> {
    Ok(sqlx::query_as(
        "select b.id, b.org_id, o.name, b.submitted_at from budget_proposals b join organizations o on o.id = b.org_id
         where b.fiscal_year = $1 and b.status = 'submitted' and ($2::text is null or o.code = $2) order by o.code",
    )
    .bind(year)
    .bind(code)
    .fetch_all(&mut **tx)
    .await?)
}

fn none_submitted(code: &str, year: i32) -> ApiError {
    ApiError::not_found(format!("{code} has no budget for {year} submitted to MFBM."))
}

/// `GET /api/v1/budget-submissions?year=`: every organization's submitted budget of the
/// year, with its compliance findings counted.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<YearQuery>) -> Result<Json<Items<BudgetSubmission>>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_review_budgets)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let mut items = Vec::new();
    for (_, org, name, submitted_at) in submitted(&mut tx, query.year, None).await? {
        let proposal = load(&mut tx, org, query.year, None).await?.proposal;
        let count = |severity: Severity| proposal.violations.iter().filter(|v| v.severity == severity).count();
        items.push(BudgetSubmission {
            organization_code: proposal.organization_code.clone(),
            organization_name: name,
            total: proposal.total,
            ceiling: proposal.ceiling.as_ref().map(|c| c.total),
            submitted_at: crate::wire::timestamp(submitted_at),
            late: proposal.violations.iter().any(|v| v.rule == compliance::ON_TIME),
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            // A review of an earlier submission (returned, then submitted again) is not this one's.
            review: proposal.review.as_ref().filter(|r| Some(&r.reviewed_at) >= proposal.submitted_at.as_ref()).map(|r| r.decision.clone()),
            violations: proposal.violations,
        });
    }
    tx.commit().await?;
    Ok(Json(Items { items }))
}

/// `GET /api/v1/budget-submissions/{year}/{organization_code}`: one submitted budget in full.
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiPath((year, code)): ApiPath<(i32, String)>) -> Result<Json<BudgetProposal>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_review_budgets)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let (_, org, _, _) = submitted(&mut tx, year, Some(&code)).await?.pop().ok_or_else(|| none_submitted(&code, year))?;
    let proposal = load(&mut tx, org, year, None).await?.proposal;
    tx.commit().await?;
    Ok(Json(proposal))
}

/// `POST /api/v1/budget-submissions/{year}/{organization_code}/review`: MFBM sends the
/// submitted budget back with comments, or recommends it. One review per submission.
pub async fn review(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath((year, code)): ApiPath<(i32, String)>,
    body: Result<ApiJson<ReviewBudget>, ApiError>,
) -> Result<(StatusCode, Json<BudgetProposal>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_review_budgets)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let ApiJson(ReviewBudget { decision, comments }) = body?;
    if !matches!(decision.as_str(), "returned" | "recommended") {
        return Err(ApiError::invalid_field("decision", "Choose returned (back to the organization, with comments) or recommended."));
    }
    let comments = comments.trim().to_owned();
    if comments.is_empty() || comments.chars().count() > 5000 {
        return Err(ApiError::invalid_field("comments", "Write the review's comments, up to 5,000 characters: what to correct, or why it is recommended."));
    }
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let (id, org, _, submitted_at) = submitted(&mut tx, year, Some(&code)).await?.pop().ok_or_else(|| none_submitted(&code, year))?;
    sqlx::query(
        "insert into budget_reviews (org_id, budget_proposal_id, proposal_org_id, submitted_at, decision, comments, reviewed_by)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tx.org_id())
    .bind(id)
    .bind(org)
    .bind(submitted_at)
    .bind(&decision)
    .bind(&comments)
    .bind(caller.user_id)
    .execute(&mut *tx)
    .await
    .map_err(|err| ApiError::unless_unique(err, || ApiError::client(StatusCode::CONFLICT, "already_reviewed", format!("MFBM has reviewed this submission of {code} already."))))?;
    let details = json!({"fiscal_year": year, "organization": code, "budget_proposal": id, "decision": decision, "comments": comments});
    audit::append(&mut tx, Event { actor: &caller.actor(), action: "budget.review", subject: format!("budget_proposal:{id}"), details }).await?;
    let proposal = load(&mut tx, org, year, None).await?.proposal;
    tx.commit().await?;
    state.metrics.budget_decided("review", &decision, submitted_at);
    for org_id in [org, caller.org_id] {
        state.events.announce(org_id, Topic::Records);
    }
    Ok((StatusCode::CREATED, Json(proposal)))
}

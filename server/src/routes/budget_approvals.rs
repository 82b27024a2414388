//! OCM's executive approval of the budgets MFBM recommended: OCM's executives and analysts
//! see the year's recommended budgets; an executive approves one, as OCM's own decision
//! (its own row, migrations/0027), which changes nothing of the ministry's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::api::{BudgetForApproval, BudgetProposal, Items};
use bmms_shared::{policy, OrgId};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::budget::load;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::routes::budget_reviews::YearQuery;
use crate::routes::extract::{ApiPath, ApiQuery};
use crate::wire::{maybe_timestamp, timestamp};

#[derive(sqlx::FromRow)]
struct Recommended {
    id: Uuid,
    org_id: OrgId,
    code: String,
    name: String,
    submitted_at: DateTime<Utc>,
    recommended_by: String,
    recommended_at: DateTime<Utc>,
    comments: String,
    approved_by: Option<String>,
    approved_at: Option<DateTime<Utc>>,
}

/// The year's submitted budgets that MFBM recommended (this submission of each), with
/// OCM's approval where given; or one organization's.
async fn recommended(tx: &mut OrgTx, year: i32, code: Option<&str>) -> Result<Vec<Recommended>, ApiError> {
    Ok(sqlx::query_as(
        "select b.id, b.org_id, o.code, o.name, b.submitted_at, ru.display_name as recommended_by, r.reviewed_at as recommended_at,
                r.comments, au.display_name as approved_by, a.approved_at
         from budget_proposals b join organizations o on o.id = b.org_id
         join budget_reviews r on r.budget_proposal_id = b.id and r.submitted_at = b.submitted_at and r.decision = 'recommended'
         join users ru on ru.id = r.reviewed_by
         left join budget_approvals a on a.budget_proposal_id = b.id and a.submitted_at = b.submitted_at
         left join users au on au.id = a.approved_by
         where b.fiscal_year = $1 and b.status = 'submitted' and ($2::text is null or o.code = $2) order by o.code",
    )
    .bind(year)
    .bind(code)
    .fetch_all(&mut **tx)
    .await?)
}

/// `GET /api/v1/budget-approvals?year=`: the budgets MFBM recommended for the year.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<YearQuery>) -> Result<Json<Items<BudgetForApproval>>, ApiError> {
    let caller = signed_in.require_permitted(policy::may_read_expenditure_program)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let mut items = Vec::new();
    for r in recommended(&mut tx, query.year, None).await? {
        let proposal = load(&mut tx, r.org_id, query.year, None).await?.proposal;
        items.push(BudgetForApproval {
            organization_code: r.code,
            organization_name: r.name,
            total: proposal.total,
            ceiling: proposal.ceiling.map(|c| c.total),
            recommended_by: r.recommended_by,
            recommended_at: timestamp(r.recommended_at),
            comments: r.comments,
            approved_by: r.approved_by,
            approved_at: maybe_timestamp(r.approved_at),
        });
    }
    tx.commit().await?;
    Ok(Json(Items { items }))
}

/// `POST /api/v1/budget-approvals/{year}/{organization_code}`: an OCM executive approves
/// the budget MFBM recommended.
pub async fn approve(State(state): State<AppState>, signed_in: SignedIn, ApiPath((year, code)): ApiPath<(i32, String)>) -> Result<(StatusCode, Json<BudgetProposal>), ApiError> {
    let caller = signed_in.require_executive_decision()?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let Some(r) = recommended(&mut tx, year, Some(&code)).await?.pop() else {
        let message = format!("{code} has no budget for {year} that MFBM recommended: OCM approves what MFBM's technical review recommends.");
        return Err(ApiError::client(StatusCode::CONFLICT, "not_recommended", message));
    };
    let already = || ApiError::client(StatusCode::CONFLICT, "already_approved", format!("OCM has approved {code}'s budget for {year} already."));
    if r.approved_by.is_some() {
        return Err(already());
    }
    sqlx::query("insert into budget_approvals (org_id, budget_proposal_id, proposal_org_id, submitted_at, approved_by) values ($1, $2, $3, $4, $5)")
        .bind(tx.org_id())
        .bind(r.id)
        .bind(r.org_id)
        .bind(r.submitted_at)
        .bind(caller.user_id)
        .execute(&mut *tx)
        .await
        // Another executive approved it a moment ago.
        .map_err(|err| ApiError::unless_unique(err, already))?;
    let details = json!({"fiscal_year": year, "organization": code, "budget_proposal": r.id, "before": "recommended", "after": "approved"});
    audit::append(&mut tx, Event { actor: &caller.actor(), action: "budget.approve", subject: format!("budget_proposal:{}", r.id), details }).await?;
    let proposal = load(&mut tx, r.org_id, year, None).await?.proposal;
    let mfbm: Vec<OrgId> = sqlx::query_scalar("select id from organizations where kind = 'mfbm'").fetch_all(&mut *tx).await?;
    tx.commit().await?;
    state.metrics.budget_decided("approval", "approved", r.submitted_at);
    for org_id in mfbm.into_iter().chain([r.org_id, caller.org_id]) {
        state.events.announce(org_id, Topic::Records);
    }
    Ok((StatusCode::CREATED, Json(proposal)))
}

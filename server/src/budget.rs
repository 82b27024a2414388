//! The budget as a transaction reads it: MFBM's budget calls ([`calls`], migrations/0023)
//! and an organization's budget proposal for a fiscal year ([`load`], migrations/0025): the call's ceiling and deadline for it, its PPAs with the year's
//! cost by quarter and class, what the compliance check finds (`bmms_shared::budget::
//! compliance`), the certified PPAs it could add, and its history.

use bmms_shared::api::{BudgetCall, BudgetCandidate, BudgetPpa, BudgetProposal, BudgetReview, BudgetTransition, Ceiling, Deadline};
use bmms_shared::budget::stage_name;
use bmms_shared::budget::compliance::{self, BudgetDraft, BudgetedPpa};
use bmms_shared::{DocId, OrgId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::db::OrgTx;
use crate::error::ApiError;
use crate::wire::{maybe_timestamp, timestamp};

/// The expense classes as the lines store them, in the order of `BudgetPpa::lines`.
pub const CLASSES: [&str; 3] = ["ps", "mooe", "co"];

/// Whether a submission's certification holds: certified, the PPA's latest version, and
/// the PPA unchanged since (the same test as the AIP's, migrations/0019).
pub const HOLDS: &str = "(s.decision = 'certified' and not s.superseded and not s.proposal_changed)";

/// The year's cost of a submission as it stated it (`cost_by_year`, migrations/0015).
pub const YEAR_COST: &str = "coalesce((select sum(x::bigint) from jsonb_array_elements_text(s.cost_by_year -> $2::text) x), 0)::int8";

/// A budget proposal as stored, with what the handlers need beyond the API's answer.
pub struct Stored {
    /// None until its first PPA is added.
    pub id: Option<Uuid>,
    pub prepared_by: Option<UserId>,
    pub proposal: BudgetProposal,
    /// What the compliance check read.
    pub draft: BudgetDraft,
}

fn no_call(year: i32) -> ApiError {
    ApiError::not_found(format!("MFBM has not issued the budget call for {year}; a budget proposal follows the call."))
}

#[derive(sqlx::FromRow)]
struct ProposalRow {
    id: Uuid,
    status: String,
    prepared_by: Option<UserId>,
    prepared_by_name: Option<String>,
    prepared_at: Option<DateTime<Utc>>,
    submitted_by_name: Option<String>,
    submitted_at: Option<DateTime<Utc>>,
    late_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PpaRow {
    proposal_id: DocId,
    title: String,
    version: i32,
    holds: bool,
    year_cost: i64,
}

/// The budget proposal of organization `org` for `year` as the transaction reads it (an
/// empty one in preparation if it has none yet), checked as it stands, `late_reason`
/// being the reason it would be submitted with. 404 when MFBM has issued no call for the
/// year. The certified PPAs it could add are listed to the organization itself only.
pub async fn load(tx: &mut OrgTx, org: OrgId, year: i32, late_reason: Option<String>) -> Result<Stored, ApiError> {
    let code: String = sqlx::query_scalar("select code from organizations where id = $1").bind(org).fetch_one(&mut **tx).await?;
    // The organization reads its own ceiling alone (migrations/0023).
    let call = calls(tx, Some(year)).await?.pop().ok_or_else(|| no_call(year))?;
    let ceiling = call.ceilings.into_iter().find(|c| c.organization_code == code);
    let deadline: Option<NaiveDate> =
        call.deadlines.iter().find(|d| d.stage == "budget_submission").and_then(|d| d.due.parse().ok());
    let row: Option<ProposalRow> = sqlx::query_as(
        "select b.id, b.status, b.prepared_by, p.display_name as prepared_by_name, b.prepared_at,
                s.display_name as submitted_by_name, b.submitted_at, b.late_reason
         from budget_proposals b left join users p on p.id = b.prepared_by left join users s on s.id = b.submitted_by
         where b.org_id = $1 and b.fiscal_year = $2",
    )
    .bind(org)
    .bind(year)
    .fetch_optional(&mut **tx)
    .await?;
    let id = row.as_ref().map(|r| r.id);

    // (A reader who may not read the PPAs' submissions sees no certification holding.)
    let ppas: Vec<PpaRow> = sqlx::query_as(&format!(
        "select bp.proposal_id, bp.title, bp.version, coalesce({HOLDS}, false) as holds, bp.year_cost
         from budget_proposal_ppas bp left join ppa_submissions s on s.id = bp.submission_id
         where bp.budget_proposal_id = $1 order by 2, 1"
    ))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let lines: Vec<(DocId, i16, String, i64)> = sqlx::query_as("select proposal_id, quarter, class, amount from budget_lines where budget_proposal_id = $1")
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
    let budgeted: Vec<BudgetedPpa> = ppas
        .into_iter()
        .map(|p| {
            let mut quarters = [[0i64; 3]; 4];
            for (_, quarter, class, amount) in lines.iter().filter(|l| l.0 == p.proposal_id) {
                if let (Some(q), Some(c)) = (quarters.get_mut(*quarter as usize - 1), CLASSES.iter().position(|k| k == class)) {
                    q[c] = *amount;
                }
            }
            BudgetedPpa { proposal_id: p.proposal_id, title: p.title, version: p.version, certification_holds: p.holds, year_cost: p.year_cost, lines: quarters }
        })
        .collect();

    // The certified PPAs it could add: for the organization itself, while it prepares.
    let status = row.as_ref().map_or("preparing".to_owned(), |r| r.status.clone());
    let offers = status == "preparing" && org == tx.org_id();
    let candidates: Vec<(DocId, String, i32, i64)> = sqlx::query_as(&format!(
        "select s.proposal_id, coalesce(s.title, ''), s.version, {YEAR_COST}
         from ppa_submissions s
         where s.org_id = $1 and {HOLDS} and s.cost_by_year ? $2::text
           and not exists (select 1 from budget_proposal_ppas bp where bp.budget_proposal_id = $3 and bp.proposal_id = s.proposal_id)
           and $4
         order by 2, 1"
    ))
    .bind(org)
    .bind(year)
    .bind(id)
    .bind(offers)
    .fetch_all(&mut **tx)
    .await?;
    let review: Option<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "select r.decision, r.comments, u.display_name, r.reviewed_at from budget_reviews r join users u on u.id = r.reviewed_by
         where r.budget_proposal_id = $1 order by r.reviewed_at desc limit 1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let approval: Option<(String, DateTime<Utc>)> = sqlx::query_as(
        "select u.display_name, a.approved_at from budget_approvals a join users u on u.id = a.approved_by
         join budget_proposals b on b.id = a.budget_proposal_id and b.submitted_at = a.submitted_at
         where a.budget_proposal_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let in_parliament_at: Option<DateTime<Utc>> =
        sqlx::query_scalar("select submitted_at from budget_parliament_submissions where fiscal_year = $1 and $2 = any(proposals)")
            .bind(year)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    let history: Vec<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "select t.from_status, t.to_status, u.display_name, t.moved_at from budget_transitions t join users u on u.id = t.moved_by
         where t.budget_proposal_id = $1 order by t.id",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;

    let submitted_at = row.as_ref().and_then(|r| r.submitted_at);
    let today = Utc::now().date_naive();
    // Late: submitted after the deadline, or not submitted and the deadline has passed.
    let late = deadline.is_some_and(|due| submitted_at.map_or(today, |at| at.date_naive()) > due);
    let late_reason = row.as_ref().and_then(|r| r.late_reason.clone()).or(late_reason);
    let draft = BudgetDraft { ppas: budgeted, ceiling: ceiling.clone(), late, late_reason: late_reason.clone() };
    let violations = compliance::check(&draft);
    let mut by_class = [0i64; 3];
    let mut by_quarter = [0i64; 4];
    for (q, classes) in draft.ppas.iter().flat_map(|p| p.lines.iter().enumerate()) {
        for (c, amount) in classes.iter().enumerate() {
            by_class[c] += amount;
            by_quarter[q] += amount;
        }
    }
    let proposal = BudgetProposal {
        fiscal_year: year,
        organization_code: code,
        status: status.clone(),
        prepared_by: row.as_ref().and_then(|r| r.prepared_by_name.clone()),
        prepared_at: maybe_timestamp(row.as_ref().and_then(|r| r.prepared_at)),
        submitted_by: row.as_ref().and_then(|r| r.submitted_by_name.clone()),
        submitted_at: maybe_timestamp(submitted_at),
        late_reason,
        ppas: draft
            .ppas
            .iter()
            .map(|p| BudgetPpa { proposal_id: p.proposal_id, title: p.title.clone(), version: p.version, certification_holds: p.certification_holds, lines: p.lines, total: p.total() })
            .collect(),
        by_class,
        by_quarter,
        total: by_class.iter().sum(),
        ceiling,
        deadline: deadline.map(|d| d.to_string()),
        violations,
        candidates: candidates.into_iter().map(|(proposal_id, title, version, year_cost)| BudgetCandidate { proposal_id, title, version, year_cost }).collect(),
        history: history
            .into_iter()
            .map(|(from_status, to_status, moved_by, moved_at)| BudgetTransition { from_status, to_status, moved_by, moved_at: timestamp(moved_at) })
            .collect(),
        review: review.map(|(decision, comments, reviewed_by, at)| BudgetReview { decision, comments, reviewed_by, reviewed_at: timestamp(at) }),
        approved_by: approval.as_ref().map(|(by, _)| by.clone()),
        approved_at: maybe_timestamp(approval.map(|(_, at)| at)),
        in_parliament_at: maybe_timestamp(in_parliament_at),
    };
    Ok(Stored { id, prepared_by: row.and_then(|r| r.prepared_by), proposal, draft })
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: Uuid,
    fiscal_year: i32,
    message: String,
    issued_by: String,
    issued_at: DateTime<Utc>,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CeilingRow {
    call_id: Uuid,
    code: String,
    name: String,
    total: i64,
    ps: Option<i64>,
    mooe: Option<i64>,
    co: Option<i64>,
}

/// The calls the transaction reads (one year's, or every year's newest first), with the
/// ceilings it may read.
pub async fn calls(tx: &mut OrgTx, year: Option<i32>) -> Result<Vec<BudgetCall>, ApiError> {
    let calls: Vec<CallRow> = sqlx::query_as(
        "select c.id, c.fiscal_year, c.message, i.display_name as issued_by, c.issued_at, u.display_name as updated_by, c.updated_at
         from budget_calls c join users i on i.id = c.issued_by join users u on u.id = c.updated_by
         where $1::int is null or c.fiscal_year = $1 order by c.fiscal_year desc",
    )
    .bind(year)
    .fetch_all(&mut **tx)
    .await?;
    let ids: Vec<Uuid> = calls.iter().map(|c| c.id).collect();
    let deadlines: Vec<(Uuid, String, NaiveDate)> = sqlx::query_as("select call_id, stage, due from budget_call_deadlines where call_id = any($1) order by due, stage")
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
    let ceilings: Vec<CeilingRow> = sqlx::query_as(
        "select c.call_id, o.code, o.name, c.total, c.ps, c.mooe, c.co
         from budget_ceilings c join organizations o on o.id = c.moa_id where c.call_id = any($1) order by o.code",
    )
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    Ok(calls
        .into_iter()
        .map(|call| BudgetCall {
            fiscal_year: call.fiscal_year,
            message: call.message,
            issued_by: call.issued_by,
            issued_at: timestamp(call.issued_at),
            updated_by: call.updated_by,
            updated_at: timestamp(call.updated_at),
            deadlines: deadlines
                .iter()
                .filter(|(id, _, _)| *id == call.id)
                .map(|(_, stage, due)| Deadline { stage: stage.clone(), name: stage_name(stage).to_owned(), due: due.to_string() })
                .collect(),
            ceilings: ceilings
                .iter()
                .filter(|c| c.call_id == call.id)
                .map(|c| Ceiling { organization_code: c.code.clone(), organization_name: c.name.clone(), total: c.total, ps: c.ps, mooe: c.mooe, co: c.co })
                .collect(),
        })
        .collect())
}

//! How PPAs are being carried out, read from the monitoring tasks that point at them and
//! the milestones in their proposals:
//! - `GET /api/v1/proposals/{id}/implementation`: one PPA, for its organization's members
//!   and, with `?org=`, for OCM's analysts (as they drill into records);
//! - `GET /api/v1/implementation` and `/implementation/export`: the PPAs submitted to
//!   BPDA, the late ones first, with counts by status and organization. OCM reads every
//!   organization's through its oversight transaction (the one row per PPA that
//!   migrations/0017 keeps, and nothing else of theirs); everyone else their own.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bmms_shared::api::{
    Implementation, ImplementationOf, ImplementationQuery, ImplementationRow, Milestone, Page, PpaImplementation, PpaTask, STALLED_AFTER_DAYS,
};
use bmms_shared::records::ppa::STATUSES;
use bmms_shared::spreadsheet::csv_text;
use bmms_shared::{DocId, OrgId};
use chrono::NaiveDate;
use std::sync::Arc;

use crate::app::AppState;
use crate::auth::{Caller, SignedIn};
use crate::db::ReadTx;
use crate::error::ApiError;
use crate::routes::extract::{paging, ApiPath, ApiQuery};
use crate::proposals::named_milestones;
use crate::routes::implementation_counts as counts;
use crate::wire::maybe_date;

/// The share of the time from `start_date` to `end_date` that has passed today, 0 to 100.
const EXPECTED_PERCENT: &str = "case when start_date is null or end_date is null or end_date <= start_date then null
     else greatest(0, least(100, round(100.0 * (current_date - start_date) / (end_date - start_date))))::int8 end";

/// The risk test of one `ppa_implementation` row (`$1`: [`STALLED_AFTER_DAYS`]).
pub(super) const AT_RISK: &str = "(coalesce(late_since < current_date, false)
     or coalesce(oldest_open_change < now() - make_interval(days => $1), false))";

fn no_such_ppa() -> ApiError {
    ApiError::not_found("There is no such PPA among those you can see.")
}

/// The organization whose PPA a caller opens: their own, or for OCM's analysts the one
/// they name (OCM's executives see the totals only).
fn drill_into(signed_in: &SignedIn, caller: &Caller, asked: Option<OrgId>) -> Result<OrgId, ApiError> {
    if !caller.role.oversees_all() {
        return match asked {
            Some(org) if org != caller.org_id => Err(no_such_ppa()),
            _ => Ok(caller.org_id),
        };
    }
    signed_in.require_drill_down()?;
    asked.ok_or_else(|| ApiError::invalid_field("org", "Choose the organization whose PPA to open."))
}

#[derive(sqlx::FromRow)]
struct StoredProposal {
    title: Option<String>,
    status: String,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    content: serde_json::Value,
    expected_percent: Option<i64>,
    today: NaiveDate,
}

#[derive(sqlx::FromRow)]
struct StoredTask {
    id: DocId,
    title: Option<String>,
    status: String,
    assignee: Option<String>,
    due_date: Option<NaiveDate>,
    progress_percent: Option<i32>,
    ppa_milestone: Option<i32>,
    /// When it is done: the day it was last changed.
    done_on: Option<NaiveDate>,
    overdue: bool,
    stalled: bool,
}

/// `GET /api/v1/proposals/{id}/implementation?org=`
pub async fn of_proposal(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<DocId>,
    ApiQuery(query): ApiQuery<ImplementationOf>,
) -> Result<Json<PpaImplementation>, ApiError> {
    let caller = signed_in.require_member()?;
    let org = drill_into(&signed_in, &caller, query.org)?;
    let mut tx = ReadTx::organization(&state.db, org).await?;
    let proposal: StoredProposal = sqlx::query_as(&format!(
        "select title, status, start_date, end_date, content, {EXPECTED_PERCENT} as expected_percent, current_date as today
         from ppa_proposals where id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(no_such_ppa)?;
    let tasks: Vec<StoredTask> = sqlx::query_as(
        "select id, title, status, assignee, due_date, progress_percent, ppa_milestone,
                case when status = 'done' then updated_at::date end as done_on,
                coalesce(status <> 'done' and due_date < current_date, false) as overdue,
                status <> 'done' and updated_at < now() - make_interval(days => $2) as stalled
         from monitoring_tasks where ppa_id = $1 order by due_date nulls last, id",
    )
    .bind(id)
    .bind(STALLED_AFTER_DAYS)
    .fetch_all(&mut *tx)
    .await?;
    tx.finish().await?;

    let milestones = milestones_of(&proposal.content, proposal.today, &tasks);
    let progress: Vec<i64> = tasks.iter().map(|t| if t.status == "done" { 100 } else { t.progress_percent.unwrap_or(0).into() }).collect();
    let progress_percent = (!progress.is_empty()).then(|| (progress.iter().sum::<i64>() as f64 / progress.len() as f64).round() as i64);
    let count = |n: usize, one: &str, many: &str| if n == 1 { one.replace("{n}", "1") } else { many.replace("{n}", &n.to_string()) };
    let mut risks = Vec::new();
    let overdue_milestones = milestones.iter().filter(|m| m.overdue).count();
    if overdue_milestones > 0 {
        risks.push(count(overdue_milestones, "{n} milestone is overdue.", "{n} milestones are overdue."));
    }
    let overdue_tasks = tasks.iter().filter(|t| t.overdue).count();
    if overdue_tasks > 0 {
        risks.push(count(overdue_tasks, "{n} monitoring task is overdue.", "{n} monitoring tasks are overdue."));
    }
    let stalled = tasks.iter().filter(|t| t.stalled).count();
    if stalled > 0 {
        risks.push(count(stalled, "{n} task has not moved", "{n} tasks have not moved") + &format!(" in {STALLED_AFTER_DAYS} days."));
    }
    Ok(Json(PpaImplementation {
        proposal_id: id,
        title: proposal.title,
        status: proposal.status,
        start_date: maybe_date(proposal.start_date),
        end_date: maybe_date(proposal.end_date),
        progress_percent,
        expected_percent: proposal.expected_percent,
        milestones,
        tasks: tasks
            .into_iter()
            .map(|t| PpaTask {
                id: t.id,
                title: t.title,
                status: t.status,
                assignee: t.assignee,
                due_date: maybe_date(t.due_date),
                progress_percent: t.progress_percent,
                milestone: t.ppa_milestone.and_then(|n| u32::try_from(n).ok()),
                overdue: t.overdue,
                stalled: t.stalled,
            })
            .collect(),
        risks,
    }))
}

/// The milestones a proposal names, from the content its row keeps, each done as the
/// proposal says or by the first done task that checks it.
fn milestones_of(content: &serde_json::Value, today: NaiveDate, tasks: &[StoredTask]) -> Vec<Milestone> {
    named_milestones(content)
        .into_iter()
        .map(|mut m| {
            let checked = tasks.iter().filter(|t| t.ppa_milestone == Some(m.n as i32)).filter_map(|t| Some((t.done_on?, t.id))).min();
            if m.done_on.is_none() {
                m.done_on = checked.map(|(day, _)| day.to_string());
            }
            m.checked_by = checked.map(|(_, id)| id);
            m.overdue = m.done_on.is_none() && m.due.as_deref().and_then(|d| d.parse::<NaiveDate>().ok()).is_some_and(|d| d < today);
            m
        })
        .collect()
}

/// Checks the view's filters.
fn check_filters(query: &ImplementationQuery) -> Result<(), ApiError> {
    match query.status.as_deref() {
        Some("draft") => Err(ApiError::invalid_field("status", "Drafts are not in the implementation view; choose submitted, returned or certified.")),
        Some(status) if !STATUSES.contains(&status) => Err(ApiError::invalid_field(
            "status",
            format!("There is no status \"{status}\"; choose submitted, returned or certified."),
        )),
        _ => Ok(()),
    }
}

/// The transaction a caller reads the view through, and the organization it narrows to.
async fn open_view(state: &AppState, caller: &Caller, asked: Option<OrgId>) -> Result<(ReadTx, Option<OrgId>), ApiError> {
    let org = caller
        .organization_to_open(asked)
        .map_err(|_| ApiError::not_found("There is no such organization among those you can see."))?;
    if caller.role.oversees_all() {
        return Ok((ReadTx::oversight(&state.oversight_db()).await?, org));
    }
    Ok((ReadTx::organization(&state.db, caller.org_id).await?, org))
}

/// Filters shared by the counts and the rows (`$2` org, `$3` goal). The goals are read
/// only when a goal is asked for, so that the counts can be read from the covering index
/// alone (migrations/0017) otherwise.
pub(super) fn filters(query: &ImplementationQuery) -> &'static str {
    match query.goal {
        Some(_) => "i.status <> 'draft' and ($2::uuid is null or i.org_id = $2) and $3 = any(i.goals)",
        None => "i.status <> 'draft' and ($2::uuid is null or i.org_id = $2) and $3::text is null",
    }
}

#[derive(sqlx::FromRow)]
struct StoredRow {
    org_id: OrgId,
    org_code: String,
    proposal_id: DocId,
    title: Option<String>,
    status: String,
    certification_void: bool,
    goals: Vec<String>,
    end_date: Option<NaiveDate>,
    progress_percent: Option<i64>,
    expected_percent: Option<i64>,
    tasks: i32,
    milestones: i32,
    milestones_done: i32,
    overdue_milestones: i32,
    late_since: Option<NaiveDate>,
    at_risk: bool,
}

impl From<StoredRow> for ImplementationRow {
    fn from(r: StoredRow) -> Self {
        ImplementationRow {
            org_id: r.org_id,
            org_code: r.org_code,
            proposal_id: r.proposal_id,
            title: r.title,
            status: r.status,
            certification_void: r.certification_void,
            goals: r.goals,
            end_date: maybe_date(r.end_date),
            progress_percent: r.progress_percent,
            expected_percent: r.expected_percent,
            tasks: r.tasks,
            milestones: r.milestones,
            milestones_done: r.milestones_done,
            overdue_milestones: r.overdue_milestones,
            late_since: maybe_date(r.late_since),
            at_risk: r.at_risk,
        }
    }
}

/// The rows of the view, the late ones first (`$4` status, `$5` at risk only, `$6`
/// limit, `$7` offset).
///
/// A filter that is asked for is written into the statement, not switched on by its
/// parameter: each combination is then its own prepared statement with its own plan.
/// With one statement for all, PostgreSQL settled on a generic plan that read every row
/// and sorted them whichever filter came (docs/benchmarks.md, the plans).
async fn rows(tx: &mut ReadTx, org: Option<OrgId>, query: &ImplementationQuery, limit: i64, offset: i64) -> Result<Vec<ImplementationRow>, ApiError> {
    let status = if query.status.is_some() { "i.status = $4" } else { "$4::text is null" };
    let at_risk = if query.at_risk { format!("$5 and {AT_RISK}") } else { "not $5".to_owned() };
    let rows: Vec<StoredRow> = sqlx::query_as(&format!(
        "select i.org_id, o.code as org_code, i.proposal_id, i.title, i.status, i.certification_void, i.goals, i.end_date,
                case when i.tasks > 0 then round(i.progress_sum::numeric / i.tasks)::int8 end as progress_percent,
                {EXPECTED_PERCENT} as expected_percent, i.tasks, i.milestones, i.milestones_done,
                (select count(*)::int4 from unnest(i.open_milestone_dues) as d where d < current_date) as overdue_milestones,
                i.late_since, {AT_RISK} as at_risk
         from ppa_implementation i join organizations o on o.id = i.org_id
         where {} and {status} and {at_risk}
         order by i.late_since nulls last, i.org_id, i.proposal_id limit $6 offset $7",
        filters(query)
    ))
    .bind(STALLED_AFTER_DAYS)
    .bind(org)
    .bind(&query.goal)
    .bind(&query.status)
    .bind(query.at_risk)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(ImplementationRow::from).collect())
}

/// `GET /api/v1/implementation?org=&status=&goal=&at_risk=&limit=&offset=`
pub async fn overview(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<ImplementationQuery>) -> Result<Json<Implementation>, ApiError> {
    let caller = signed_in.require_member()?;
    check_filters(&query)?;
    let (limit, offset) = paging::check(query.limit, query.offset)?;
    let (mut tx, org) = open_view(&state, &caller, query.org).await?;
    // OCM's whole-government counts come from memory (at most seconds old); the rows are
    // read afresh.
    let counted = match (caller.role.oversees_all(), org, &query.goal) {
        (true, None, None) => state.implementation_counts.get(&mut tx).await?,
        _ => Arc::new(counts::count(&mut tx, org, &query).await?),
    };
    let items = rows(&mut tx, org, &query, limit, offset).await?;
    tx.finish().await?;
    let (by_status, by_organization, total) = counts::summarize(&counted, &query);
    Ok(Json(Implementation { by_status, by_organization, rows: Page { items, limit, offset, total } }))
}

/// `GET /api/v1/implementation/export?format=csv|json&org=&status=&goal=&at_risk=`: every
/// row of the view, the late ones first.
pub async fn export(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<ImplementationQuery>) -> Result<Response, ApiError> {
    let caller = signed_in.require_member()?;
    signed_in.require_fresh_second_factor(&state).await?;
    check_filters(&query)?;
    let format = query.format.as_deref().unwrap_or("csv");
    if !matches!(format, "csv" | "json") {
        return Err(ApiError::invalid_field("format", "Choose csv or json."));
    }
    let (mut tx, org) = open_view(&state, &caller, query.org).await?;
    // Every row: `limit all` in SQL's terms.
    let items = rows(&mut tx, org, &query, i64::MAX, 0).await?;
    tx.finish().await?;
    if format == "json" {
        return Ok(Json(items).into_response());
    }
    let body = csv_of(items).map_err(ApiError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"implementation.csv\"")),
        ],
        body,
    )
        .into_response())
}

/// The view as CSV: one line a PPA.
fn csv_of(items: Vec<ImplementationRow>) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "organization_code", "ppa_id", "title", "status", "certification_void", "goals", "end_date", "progress_percent", "expected_percent", "tasks",
        "milestones", "milestones_done", "overdue_milestones", "late_since", "at_risk",
    ])?;
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    for r in items {
        writer.write_record([
            csv_text(&r.org_code).into_owned(),
            r.proposal_id.to_string(),
            csv_text(r.title.as_deref().unwrap_or_default()).into_owned(),
            r.status,
            if r.certification_void { "yes" } else { "no" }.to_owned(),
            csv_text(&r.goals.join("; ")).into_owned(),
            r.end_date.unwrap_or_default(),
            number(r.progress_percent),
            number(r.expected_percent),
            r.tasks.to_string(),
            r.milestones.to_string(),
            r.milestones_done.to_string(),
            r.overdue_milestones.to_string(),
            r.late_since.unwrap_or_default(),
            if r.at_risk { "yes" } else { "no" }.to_owned(),
        ])?;
    }
    Ok(writer.into_inner()?)
}

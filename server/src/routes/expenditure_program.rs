//! The last stage of a fiscal year's budget: MFBM submits the consolidated budget (every
//! budget OCM approved) to Parliament, once, and the expenditure program it makes:
//! organization × PPA × expense class × quarter, with totals, shown and exported as CSV
//! and JSON. MFBM and OCM read it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use bmms_shared::api::{ExpenditureProgram, ProgramLine, ProgramTotal};
use bmms_shared::spreadsheet::{csv_text, pesos_number};
use bmms_shared::{policy, DocId};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::budget::CLASSES;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::download::{self, Format};
use crate::events::Topic;
use crate::routes::extract::{ApiPath, ApiQuery};
use crate::wire::maybe_timestamp;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramQuery {
    /// For the export: `csv` (the default) or `json`.
    pub format: Option<String>,
}

/// The approved budgets of `year` (`only`: those MFBM sent to Parliament), as lines of
/// organization, PPA, class, quarter and amount.
const APPROVED_LINES: &str = "
    select o.code, o.name, bp.proposal_id, bp.title, l.class, l.quarter, l.amount
    from budget_proposals b
    join budget_approvals a on a.budget_proposal_id = b.id and a.submitted_at = b.submitted_at
    join organizations o on o.id = b.org_id
    join budget_proposal_ppas bp on bp.budget_proposal_id = b.id
    join budget_lines l on l.budget_proposal_id = b.id and l.proposal_id = bp.proposal_id
    where b.fiscal_year = $1 and b.status = 'submitted' and ($2::uuid[] is null or b.id = any($2))
    order by o.code, bp.title, bp.proposal_id, l.class, l.quarter";

type Line = (String, String, DocId, String, String, i16, i64);

/// The program of `year` as the transaction reads it.
async fn program(tx: &mut OrgTx, year: i32) -> Result<ExpenditureProgram, ApiError> {
    let parliament: Option<(Vec<Uuid>, String, DateTime<Utc>)> = sqlx::query_as(
        "select p.proposals, u.display_name, p.submitted_at from budget_parliament_submissions p join users u on u.id = p.submitted_by
         where p.fiscal_year = $1",
    )
    .bind(year)
    .fetch_optional(&mut **tx)
    .await?;
    let lines: Vec<Line> = sqlx::query_as(APPROVED_LINES).bind(year).bind(parliament.as_ref().map(|p| p.0.clone())).fetch_all(&mut **tx).await?;
    let mut program = ExpenditureProgram {
        fiscal_year: year,
        submitted_to_parliament_by: parliament.as_ref().map(|p| p.1.clone()),
        submitted_to_parliament_at: maybe_timestamp(parliament.map(|p| p.2)),
        lines: Vec::new(),
        by_organization: Vec::new(),
        by_class: [0; 3],
        by_quarter: [0; 4],
        total: 0,
    };
    for (code, name, proposal_id, title, class, quarter, amount) in lines {
        let at = CLASSES.iter().position(|c| *c == class).unwrap_or(0);
        let q = (quarter as usize).clamp(1, 4) - 1;
        let label = ["PS", "MOOE", "CO"][at].to_owned();
        match program.lines.last_mut() {
            Some(line) if line.proposal_id == proposal_id && line.class == label => line.quarters[q] += amount,
            _ => {
                let mut quarters = [0; 4];
                quarters[q] = amount;
                program.lines.push(ProgramLine { organization_code: code.clone(), proposal_id, title, class: label, quarters, total: 0 });
            }
        }
        match program.by_organization.last_mut() {
            Some(total) if total.organization_code == code => total.by_class[at] += amount,
            _ => {
                let mut by_class = [0; 3];
                by_class[at] = amount;
                program.by_organization.push(ProgramTotal { organization_code: code, organization_name: name, by_class, total: 0 });
            }
        }
        program.by_class[at] += amount;
        program.by_quarter[q] += amount;
        program.total += amount;
    }
    // Lines with nothing in them say nothing.
    program.lines.retain(|l| l.quarters.iter().any(|a| *a != 0));
    for line in &mut program.lines {
        line.total = line.quarters.iter().sum();
    }
    for total in &mut program.by_organization {
        total.total = total.by_class.iter().sum();
    }
    Ok(program)
}

/// `GET /api/v1/expenditure-program/{year}`
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiPath(year): ApiPath<i32>) -> Result<Json<ExpenditureProgram>, ApiError> {
    let caller = signed_in.require_permitted(policy::may_read_expenditure_program)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let program = program(&mut tx, year).await?;
    tx.commit().await?;
    Ok(Json(program))
}

fn csv_of(program: &ExpenditureProgram) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["fiscal_year", "organization_code", "ppa_id", "title", "expense_class", "q1_pesos", "q2_pesos", "q3_pesos", "q4_pesos", "total_pesos"])?;
    for line in &program.lines {
        let mut record = vec![
            program.fiscal_year.to_string(),
            csv_text(&line.organization_code).into_owned(),
            line.proposal_id.to_string(),
            csv_text(&line.title).into_owned(),
            line.class.clone(),
        ];
        record.extend(line.quarters.iter().map(|a| pesos_number(*a)));
        record.push(pesos_number(line.total));
        writer.write_record(record)?;
    }
    let mut total = vec![program.fiscal_year.to_string(), "ALL".into(), String::new(), "Total".into(), String::new()];
    total.extend(program.by_quarter.iter().map(|a| pesos_number(*a)));
    total.push(pesos_number(program.total));
    writer.write_record(total)?;
    Ok(writer.into_inner()?)
}

/// `GET /api/v1/expenditure-program/{year}/export?format=csv|json`
pub async fn export(State(state): State<AppState>, signed_in: SignedIn, ApiPath(year): ApiPath<i32>, ApiQuery(query): ApiQuery<ProgramQuery>) -> Result<Response, ApiError> {
    let caller = signed_in.require_permitted(policy::may_read_expenditure_program)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let format = Format::asked(query.format.as_deref())?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let program = program(&mut tx, year).await?;
    tx.commit().await?;
    download::file(&program, format, &format!("expenditure-program-{year}"), csv_of)
}

/// `POST /api/v1/expenditure-program/{year}/parliament`: MFBM submits the year's
/// consolidated budget (every budget OCM approved) to Parliament, once.
pub async fn submit_to_parliament(State(state): State<AppState>, signed_in: SignedIn, ApiPath(year): ApiPath<i32>) -> Result<(StatusCode, Json<ExpenditureProgram>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_review_budgets)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let approved: Vec<Uuid> = sqlx::query_scalar(
        "select b.id from budget_proposals b join budget_approvals a on a.budget_proposal_id = b.id and a.submitted_at = b.submitted_at
         where b.fiscal_year = $1 and b.status = 'submitted' order by b.id",
    )
    .bind(year)
    .fetch_all(&mut *tx)
    .await?;
    if approved.is_empty() {
        let message = format!("No budget for {year} has OCM's executive approval yet: Parliament receives the approved budgets.");
        return Err(ApiError::client(StatusCode::CONFLICT, "nothing_approved", message));
    }
    let inserted = sqlx::query("insert into budget_parliament_submissions (org_id, fiscal_year, proposals, submitted_by) values ($1, $2, $3, $4)")
        .bind(tx.org_id())
        .bind(year)
        .bind(&approved)
        .bind(caller.user_id)
        .execute(&mut *tx)
        .await;
    match inserted {
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(ApiError::client(StatusCode::CONFLICT, "already_in_parliament", format!("MFBM has submitted the budget for {year} to Parliament already.")));
        }
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => return Err(ApiError::not_found(format!("No budget call is issued for {year}."))),
        other => other?,
    };
    let program = program(&mut tx, year).await?;
    let details = json!({"fiscal_year": year, "budgets": approved, "total": program.total});
    audit::append(&mut tx, Event { actor: &caller.actor(), action: "budget.parliament", subject: format!("budget_year:{year}"), details }).await?;
    let everyone: Vec<bmms_shared::OrgId> = sqlx::query_scalar("select id from organizations").fetch_all(&mut *tx).await?;
    tx.commit().await?;
    for org_id in everyone {
        state.events.announce(org_id, Topic::Records);
    }
    Ok((StatusCode::CREATED, Json(program)))
}

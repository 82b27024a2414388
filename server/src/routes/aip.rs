//! The Annual Investment Program: the year's PPAs across the government, for BPDA's
//! planners (and MFBM's budget officers), read from what each organization submitted
//! (BPDA's and MFBM's select policies on `ppa_submissions`, migrations/0012). A PPA is in
//! a year's AIP when the latest version submitted has a cost in that year and BPDA has
//! either certified it (and it has not changed since) or not decided yet; one sent back,
//! or whose certification is void, is not. Shown, and exported as CSV or JSON.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bmms_shared::api::{Aip, AipQuery, AipRow, AipTotal};
use bmms_shared::plans::score::shown;
use bmms_shared::spreadsheet::csv_text;
use bmms_shared::{policy, DocId};
use chrono::Datelike;
use std::collections::BTreeMap;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::bdp;
use crate::certification::HOLDS;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::places;
use crate::routes::extract::ApiQuery;

/// The fiscal years an AIP may be asked for.
const YEARS: std::ops::RangeInclusive<i32> = bmms_shared::records::ppa::FISCAL_YEARS;

#[derive(sqlx::FromRow)]
struct LatestRow {
    proposal_id: DocId,
    version: i32,
    code: String,
    name: String,
    title: Option<String>,
    ppa_type: Option<String>,
    score: i32,
    goals: Vec<String>,
    provinces: Vec<String>,
    decision: Option<String>,
    cost: Option<sqlx::types::Json<[i64; 3]>>,
}

fn year_of(query: &AipQuery) -> Result<i32, ApiError> {
    let year = query.year.unwrap_or_else(|| chrono::Utc::now().year());
    if !YEARS.contains(&year) {
        return Err(ApiError::invalid_field("year", format!("Ask for a fiscal year from {} to {}.", YEARS.start(), YEARS.end())));
    }
    Ok(year)
}

/// Adds `row`'s cost to the total of `code` in `totals`.
fn add(totals: &mut BTreeMap<String, AipTotal>, code: &str, name: impl FnOnce() -> String, row: &AipRow) {
    let total = totals.entry(code.to_owned()).or_insert_with(|| AipTotal { code: code.to_owned(), name: name(), ppas: 0, certified: 0, pending: 0 });
    total.ppas += 1;
    if row.status == "certified" {
        total.certified += row.total;
    } else {
        total.pending += row.total;
    }
}

/// The AIP of `year`, as the caller's transaction reads it.
async fn aip_of(tx: &mut OrgTx, year: i32) -> Result<Aip, ApiError> {
    let rows: Vec<LatestRow> = sqlx::query_as(&format!(
        "select * from (
             select distinct on (s.proposal_id) s.proposal_id, s.version, o.code, o.name, s.content ->> 'title' as title,
                    s.content ->> 'ppa_type' as ppa_type, coalesce(d.score, s.score) as score, s.goals, s.provinces,
                    d.decision, case when d.decision = 'certified' then {HOLDS} end as holds, s.cost_by_year -> $1 as cost
             from ppa_submissions s join organizations o on o.id = s.org_id
             left join ppa_decisions d on d.submission_id = s.id
             left join ppa_proposals p on p.org_id = s.org_id and p.id = s.proposal_id
             order by s.proposal_id, s.version desc
         ) latest
         where cost is not null and (decision is null or (decision = 'certified' and holds))
         order by code, title, proposal_id"
    ))
    .bind(year.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let goal_titles: BTreeMap<String, String> = bdp::load(tx).await?.goals.into_iter().map(|g| (g.code, g.title)).collect();

    let rows: Vec<AipRow> = rows
        .into_iter()
        .map(|r| {
            let [ps, mooe, co] = r.cost.map_or([0; 3], |c| c.0);
            AipRow {
                proposal_id: r.proposal_id,
                version: r.version,
                organization_code: r.code,
                organization_name: r.name,
                title: r.title.unwrap_or_default(),
                ppa_type: r.ppa_type,
                status: if r.decision.is_some() { "certified" } else { "pending" }.to_owned(),
                score: r.score.max(0) as u32,
                goals: r.goals,
                provinces: r.provinces,
                ps,
                mooe,
                co,
                total: ps + mooe + co,
            }
        })
        .collect();
    let (mut by_goal, mut by_province, mut by_organization) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for row in &rows {
        for goal in &row.goals {
            add(&mut by_goal, goal, || goal_titles.get(goal).cloned().unwrap_or_default(), row);
        }
        for province in &row.provinces {
            add(&mut by_province, province, || places::name_of(province).unwrap_or_default().to_owned(), row);
        }
        add(&mut by_organization, &row.organization_code, || row.organization_name.clone(), row);
    }
    let sum = |status: &str| rows.iter().filter(|r| r.status == status).map(|r| r.total).sum();
    Ok(Aip {
        year,
        certified: sum("certified"),
        pending: sum("pending"),
        by_goal: by_goal.into_values().collect(),
        by_province: by_province.into_values().collect(),
        by_organization: by_organization.into_values().collect(),
        rows,
    })
}

/// `GET /api/v1/aip?year=2026`
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<AipQuery>) -> Result<Json<Aip>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_read_submissions)?;
    let year = year_of(&query)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let aip = aip_of(&mut tx, year).await?;
    tx.commit().await?;
    Ok(Json(aip))
}

/// Whole centavos as a spreadsheet reads a number of pesos: `150000.00`.
fn pesos_number(centavos: i64) -> String {
    let sign = if centavos < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", centavos.unsigned_abs() / 100, centavos.unsigned_abs() % 100)
}

fn csv_of(aip: &Aip) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "fiscal_year", "organization_code", "organization", "ppa_id", "title", "type", "status", "score", "goals", "provinces",
        "ps_pesos", "mooe_pesos", "co_pesos", "total_pesos",
    ])?;
    for row in &aip.rows {
        let provinces: Vec<&str> = row.provinces.iter().map(|code| places::name_of(code).unwrap_or(code)).collect();
        writer.write_record([
            aip.year.to_string(),
            csv_text(&row.organization_code).into_owned(),
            csv_text(&row.organization_name).into_owned(),
            row.proposal_id.to_string(),
            csv_text(&row.title).into_owned(),
            row.ppa_type.clone().unwrap_or_default(),
            row.status.clone(),
            shown(row.score),
            csv_text(&row.goals.join("; ")).into_owned(),
            csv_text(&provinces.join("; ")).into_owned(),
            pesos_number(row.ps),
            pesos_number(row.mooe),
            pesos_number(row.co),
            pesos_number(row.total),
        ])?;
    }
    Ok(writer.into_inner()?)
}

/// `GET /api/v1/aip/export?year=2026&format=csv|json`: the year's AIP as a file (CSV: one
/// line a PPA, amounts in pesos; JSON: the same as `GET /api/v1/aip`).
pub async fn export(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<AipQuery>) -> Result<Response, ApiError> {
    let caller = signed_in.require_allowed(policy::may_read_submissions)?;
    let year = year_of(&query)?;
    let csv = match query.format.as_deref().unwrap_or("csv") {
        "csv" => true,
        "json" => false,
        _ => return Err(ApiError::invalid_field("format", "Export as csv or json.")),
    };
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let aip = aip_of(&mut tx, year).await?;
    tx.commit().await?;
    let (body, content_type, extension) = if csv {
        (csv_of(&aip).map_err(ApiError::Internal)?, "text/csv; charset=utf-8", "csv")
    } else {
        (serde_json::to_vec_pretty(&aip).map_err(|e| ApiError::Internal(e.into()))?, "application/json", "json")
    };
    let disposition = format!("attachment; filename=\"aip-{year}.{extension}\"");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|e| ApiError::Internal(e.into()))?),
    ];
    Ok((headers, body).into_response())
}

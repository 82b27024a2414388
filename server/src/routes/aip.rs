//! The Annual Investment Program: the year's PPAs across the government, for BPDA's
//! planners (and MFBM's budget officers). A PPA is in a year's AIP when the latest version
//! submitted has a cost in that year and BPDA has either certified it (and it has not
//! changed since) or not decided yet; one sent back, or whose certification is void, is
//! not. Triggers keep the year's lines and totals as each submission's standing changes
//! (migrations/0019), readable by BPDA and MFBM alone. Shown, and exported as CSV or JSON.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use bmms_shared::api::{Aip, AipQuery, AipRow, AipTotal};
use bmms_shared::plans::score::shown;
use bmms_shared::spreadsheet::{csv_text, pesos_number};
use bmms_shared::policy;
use bmms_shared::records::ppa::sector_name;
use chrono::Datelike;
use std::collections::BTreeMap;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::bdp;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::download::{self, Format};
use bmms_shared::psgc;
use crate::routes::extract::ApiQuery;

/// The fiscal years an AIP may be asked for.
const YEARS: std::ops::RangeInclusive<i32> = bmms_shared::records::ppa::FISCAL_YEARS;

fn year_of(query: &AipQuery) -> Result<i32, ApiError> {
    let year = query.year.unwrap_or_else(|| chrono::Utc::now().year());
    if !YEARS.contains(&year) {
        return Err(ApiError::invalid_field("year", format!("Ask for a fiscal year from {} to {}.", YEARS.start(), YEARS.end())));
    }
    Ok(year)
}

/// The rows of a year's AIP shown at once (the largest PPAs); the export holds every one.
pub const ROWS_SHOWN: i64 = 500;

#[derive(sqlx::FromRow)]
struct AipAnswer {
    totals: sqlx::types::Json<Vec<DimensionTotal>>,
    rows: sqlx::types::Json<Vec<AipRow>>,
}

#[derive(serde::Deserialize)]
struct DimensionTotal {
    dimension: String,
    code: String,
    name: String,
    ppas: u32,
    certified: i64,
    pending: i64,
}

/// The AIP of `year`, as the caller's transaction reads it: the totals that triggers keep
/// (`aip_totals`, migrations/0019) and the [`ROWS_SHOWN`] largest PPAs (`all_rows`: every
/// one) from `aip_lines`, by organization and title.
async fn aip_of(tx: &mut OrgTx, year: i32, all_rows: bool) -> Result<Aip, ApiError> {
    let answer: AipAnswer = sqlx::query_as(
        "select
           (select coalesce(json_agg(t), '[]') from (
               select t.dimension, coalesce(o.code, t.code) as code, coalesce(o.name, '') as name, t.ppas, t.certified, t.pending
               from aip_totals t left join organizations o on t.dimension = 'organization' and o.id::text = t.code
               where t.year = $1 and t.ppas > 0
           ) t) as totals,
           (select coalesce(json_agg(r), '[]') from (
               select l.proposal_id, s.version, o.code as organization_code, o.name as organization_name,
                      coalesce(s.title, '') as title, s.ppa_type, s.sector,
                      case when l.certified then 'certified' else 'pending' end as status,
                      greatest(coalesce(d.score, s.score), 0) as score, s.goals, s.provinces, l.ps, l.mooe, l.co, l.total
               from (select * from aip_lines where year = $1 order by total desc, proposal_id limit $2) l
               join organizations o on o.id = l.org_id join ppa_submissions s on s.id = l.submission_id
               left join ppa_decisions d on d.submission_id = l.submission_id
           ) r) as rows",
    )
    .bind(year)
    .bind(if all_rows { i64::MAX } else { ROWS_SHOWN })
    .fetch_one(&mut **tx)
    .await?;
    let goal_titles: BTreeMap<String, String> = bdp::load(tx).await?.goals.into_iter().map(|g| (g.code, g.title)).collect();

    let mut rows = answer.rows.0;
    rows.sort_by(|a, b| (&a.organization_code, &a.title, a.proposal_id).cmp(&(&b.organization_code, &b.title, b.proposal_id)));
    let mut aip = Aip { year, rows, rows_total: 0, by_goal: Vec::new(), by_sector: Vec::new(), by_province: Vec::new(), by_organization: Vec::new(), certified: 0, pending: 0 };
    let mut totals = answer.totals.0;
    totals.sort_by(|a, b| a.code.cmp(&b.code));
    for t in totals {
        let name = match t.dimension.as_str() {
            "goal" => goal_titles.get(&t.code).cloned().unwrap_or_default(),
            "sector" => sector_name(&t.code).to_owned(),
            "province" => psgc::name_of(&t.code).unwrap_or_default().to_owned(),
            _ => t.name,
        };
        let total = AipTotal { code: t.code, name, ppas: t.ppas, certified: t.certified, pending: t.pending };
        match t.dimension.as_str() {
            "goal" => aip.by_goal.push(total),
            "sector" => aip.by_sector.push(total),
            "province" => aip.by_province.push(total),
            "organization" => aip.by_organization.push(total),
            _ => (aip.rows_total, aip.certified, aip.pending) = (total.ppas, total.certified, total.pending),
        }
    }
    Ok(aip)
}

/// `GET /api/v1/aip?year=2026`
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<AipQuery>) -> Result<Json<Aip>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_read_submissions)?;
    let year = year_of(&query)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let aip = aip_of(&mut tx, year, false).await?;
    tx.commit().await?;
    Ok(Json(aip))
}

fn csv_of(aip: &Aip) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "fiscal_year", "organization_code", "organization", "ppa_id", "title", "type", "sector", "status", "score", "goals", "provinces",
        "ps_pesos", "mooe_pesos", "co_pesos", "total_pesos",
    ])?;
    for row in &aip.rows {
        let provinces: Vec<&str> = row.provinces.iter().map(|code| psgc::name_of(code).unwrap_or(code)).collect();
        writer.write_record([
            aip.year.to_string(),
            csv_text(&row.organization_code).into_owned(),
            csv_text(&row.organization_name).into_owned(),
            row.proposal_id.to_string(),
            csv_text(&row.title).into_owned(),
            row.ppa_type.clone().unwrap_or_default(),
            sector_name(row.sector.as_deref().unwrap_or("unclassified")).to_owned(),
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
    signed_in.require_fresh_second_factor(&state).await?;
    let year = year_of(&query)?;
    let format = Format::asked(query.format.as_deref())?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let aip = aip_of(&mut tx, year, true).await?;
    tx.commit().await?;
    download::file(&aip, format, &format!("aip-{year}"), csv_of)
}

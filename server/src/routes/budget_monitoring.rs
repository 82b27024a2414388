//! Where the enacted budget stands (OCM's budget monitoring): for a fiscal year, each
//! organization's budget as enacted (its quarters as planned) against what MFBM released
//! and what the organization obligated and disbursed, by quarter; and an alert for each
//! organization whose obligations at a quarter's end were below a threshold share of what
//! had been released to it. OCM and MFBM see every organization; a ministry its own (the
//! tables' row-level security decides). Shown, and exported as CSV and JSON.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use bmms_shared::api::{AlertThreshold, BudgetMonitoring, MonitoringQuery, OrganizationUtilization, Utilization, UtilizationAlert};
use bmms_shared::spreadsheet::{csv_text, pesos_number};
use chrono::NaiveDate;
use serde_json::json;
use std::collections::BTreeMap;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::download::{self, Format};
use crate::routes::extract::{ApiJson, ApiQuery};

/// The threshold when none is asked for, in percent.
const DEFAULT_THRESHOLD: u32 = 50;

fn add(into: &mut Utilization, from: &Utilization) {
    into.planned += from.planned;
    into.released += from.released;
    into.obligated += from.obligated;
    into.disbursed += from.disbursed;
}

async fn monitoring(tx: &mut OrgTx, year: i32, asked: Option<u32>) -> Result<BudgetMonitoring, ApiError> {
    // Each organization's quarters: kept by triggers (migrations/0029).
    let quarters: Vec<(String, String, i16, i64, i64, i64, i64)> = sqlx::query_as(
        "select o.code, o.name, t.quarter, t.planned, t.released, t.obligated, t.disbursed
         from budget_execution_totals t join organizations o on o.id = t.moa_id where t.fiscal_year = $1",
    )
    .bind(year)
    .fetch_all(&mut **tx)
    .await?;
    let (today, set): (NaiveDate, Option<i16>) =
        sqlx::query_as("select current_date, (select threshold from budget_alert_thresholds limit 1)").fetch_one(&mut **tx).await?;
    let threshold = asked.unwrap_or_else(|| set.map_or(DEFAULT_THRESHOLD, |t| t.clamp(0, 100) as u32));

    let mut organizations: BTreeMap<String, OrganizationUtilization> = BTreeMap::new();
    for (code, name, quarter, planned, released, obligated, disbursed) in quarters {
        let org = organizations.entry(code.clone()).or_insert_with(|| blank(code, name));
        org.by_quarter[quarter_index(quarter)] = Utilization { planned, released, obligated, disbursed };
    }
    let mut totals = Utilization::default();
    let mut by_quarter = vec![Utilization::default(); 4];
    let mut alerts = Vec::new();
    for org in organizations.values_mut() {
        for (at, quarter) in org.by_quarter.iter().enumerate() {
            add(&mut org.utilization, quarter);
            add(&mut by_quarter[at], quarter);
        }
        add(&mut totals, &org.utilization);
        alerts.extend(alerts_of(org, year, today, threshold));
    }
    Ok(BudgetMonitoring { fiscal_year: year, threshold, totals, by_organization: organizations.into_values().collect(), by_quarter, alerts })
}

/// At the end of each quarter that has ended, an alert if the organization had obligated
/// less than `threshold` percent of what had been released to it by then.
fn alerts_of(org: &OrganizationUtilization, year: i32, today: NaiveDate, threshold: u32) -> Vec<UtilizationAlert> {
    let mut through = Utilization::default();
    let mut alerts = Vec::new();
    for (at, quarter) in org.by_quarter.iter().enumerate() {
        add(&mut through, quarter);
        let ended = quarter_end(year, at as u32 + 1).is_some_and(|end| end < today);
        if !ended || through.released == 0 {
            continue;
        }
        let percent = (through.obligated as f64 * 1000.0 / through.released as f64).round() / 10.0;
        if percent < threshold as f64 {
            let code = &org.organization_code;
            alerts.push(UtilizationAlert {
                organization_code: code.clone(),
                quarter: at as u32 + 1,
                utilization_percent: percent,
                message: format!("{code} had obligated {percent} % of its releases by the end of Q{}, below {threshold} %.", at + 1),
            });
        }
    }
    alerts
}

fn blank(code: String, name: String) -> OrganizationUtilization {
    OrganizationUtilization { organization_code: code, organization_name: name, utilization: Utilization::default(), by_quarter: vec![Utilization::default(); 4] }
}

fn quarter_index(quarter: i16) -> usize {
    (quarter.clamp(1, 4) - 1) as usize
}

/// The last day of a quarter of a fiscal year (the calendar year).
fn quarter_end(year: i32, quarter: u32) -> Option<NaiveDate> {
    let (month, day) = [(3, 31), (6, 30), (9, 30), (12, 31)][(quarter.clamp(1, 4) - 1) as usize];
    NaiveDate::from_ymd_opt(year, month, day)
}

fn checked(threshold: Option<u32>) -> Result<Option<u32>, ApiError> {
    if threshold.is_some_and(|t| t > 100) {
        return Err(ApiError::invalid_field("threshold", "Give the threshold in percent, from 0 to 100."));
    }
    Ok(threshold)
}

/// `GET /api/v1/budget-monitoring?year=&threshold=`
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<MonitoringQuery>) -> Result<Json<BudgetMonitoring>, ApiError> {
    let caller = signed_in.require_member()?;
    let threshold = checked(query.threshold)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let read = monitoring(&mut tx, query.year, threshold).await?;
    tx.commit().await?;
    Ok(Json(read))
}

/// `PUT /api/v1/budget-monitoring/threshold`: OCM sets the alerts' threshold for everyone.
pub async fn set_threshold(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<AlertThreshold>, ApiError>) -> Result<Json<AlertThreshold>, ApiError> {
    let caller = signed_in.require_ocm_setting()?;
    let ApiJson(AlertThreshold { threshold }) = body?;
    checked(Some(threshold))?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    sqlx::query(
        "insert into budget_alert_thresholds (org_id, threshold, set_by) values ($1, $2, $3)
         on conflict (org_id) do update set threshold = excluded.threshold, set_by = excluded.set_by, set_at = now()",
    )
    .bind(tx.org_id())
    .bind(threshold as i16)
    .bind(caller.user_id)
    .execute(&mut *tx)
    .await?;
    let event = Event { actor: &caller.actor(), action: "budget.alert_threshold", subject: "budget-monitoring".into(), details: json!({"threshold": threshold}) };
    audit::append(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Json(AlertThreshold { threshold }))
}

fn csv_of(m: &BudgetMonitoring) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["fiscal_year", "organization_code", "organization", "quarter", "planned_pesos", "released_pesos", "obligated_pesos", "disbursed_pesos"])?;
    for org in &m.by_organization {
        for (at, q) in org.by_quarter.iter().enumerate() {
            writer.write_record([
                m.fiscal_year.to_string(),
                csv_text(&org.organization_code).into_owned(),
                csv_text(&org.organization_name).into_owned(),
                (at + 1).to_string(),
                pesos_number(q.planned),
                pesos_number(q.released),
                pesos_number(q.obligated),
                pesos_number(q.disbursed),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}

/// `GET /api/v1/budget-monitoring/export?year=&threshold=&format=csv|json`
pub async fn export(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<MonitoringQuery>) -> Result<Response, ApiError> {
    let caller = signed_in.require_member()?;
    signed_in.require_fresh_second_factor(&state).await?;
    let threshold = checked(query.threshold)?;
    let format = Format::asked(query.format.as_deref())?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let read = monitoring(&mut tx, query.year, threshold).await?;
    tx.commit().await?;
    download::file(&read, format, &format!("budget-monitoring-{}", query.year), csv_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(released: i64, obligated: i64) -> Utilization {
        Utilization { planned: 0, released, obligated, disbursed: 0 }
    }

    #[test]
    fn an_alert_for_each_ended_quarter_whose_obligations_are_below_the_threshold_of_releases_so_far() {
        let mut org = blank("MOH".into(), "Ministry of Health".into());
        org.by_quarter = vec![used(100, 30), used(100, 80), used(100, 90), used(100, 0)];
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        // Through Q1 30 %, through Q2 55 %, through Q3 66.7 %; Q4 has not ended.
        let alerts = alerts_of(&org, 2026, day(12, 7), 60);
        let seen: Vec<(u32, f64)> = alerts.iter().map(|a| (a.quarter, a.utilization_percent)).collect();
        assert_eq!(seen, [(1, 30.0), (2, 55.0)]);
        assert!(alerts[0].message.ends_with("below 60 %."));
        assert_eq!(alerts_of(&org, 2026, day(3, 31), 60), [], "a quarter's last day is not its end yet");
        assert_eq!(alerts_of(&org, 2026, day(12, 7), 30).len(), 0, "30 % is not below 30 %");
        assert_eq!(alerts_of(&blank("MILG".into(), String::new()), 2026, day(12, 7), 100), [], "nothing released, nothing to alert");
    }
}

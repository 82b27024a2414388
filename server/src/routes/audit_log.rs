//! An organization's audit log for its administrator: browse it (who, what, when), check
//! its chain, and export it. Read inside the organization's transaction: row-level
//! security keeps each administrator to their own chain.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use bmms_shared::api::{AuditEntry, AuditPage, AuditQuery, AuditVerification, ForOrganization};
use bmms_shared::policy;
use bmms_shared::spreadsheet::csv_text;
use chrono::{DateTime, NaiveDate, Utc};

use crate::app::AppState;
use crate::audit;
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::download::{self, Format};
use crate::routes::extract::ApiQuery;

/// Entries a page holds.
const PAGE: i64 = 100;

/// The filters, checked.
struct Filters {
    actor: Option<String>,
    action: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    before: Option<i64>,
}

impl Filters {
    fn read(query: &AuditQuery) -> Result<Self, ApiError> {
        let day = |field: &'static str, value: &Option<String>| -> Result<Option<NaiveDate>, ApiError> {
            value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| ApiError::invalid_field(field, "Give a day as YYYY-MM-DD, for example 2026-12-01.")))
                .transpose()
        };
        let text = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        Ok(Filters { actor: text(&query.actor), action: text(&query.action), from: day("from", &query.from)?, to: day("to", &query.to)?, before: query.before })
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    subject: String,
    details: serde_json::Value,
}

/// The entries `filters` select, newest first, at most `limit` (none: all).
async fn entries(tx: &mut OrgTx, filters: &Filters, limit: Option<i64>) -> sqlx::Result<Vec<AuditEntry>> {
    let rows: Vec<Row> = sqlx::query_as(
        "select seq, at, actor, action, subject, details from audit_log
         where ($1::text is null or actor = $1)
           and ($2::text is null or starts_with(action, $2))
           and ($3::date is null or at >= $3::date::timestamptz)
           and ($4::date is null or at < ($4::date + 1)::timestamptz)
           and ($5::bigint is null or seq < $5)
         order by seq desc
         limit $6",
    )
    .bind(&filters.actor)
    .bind(&filters.action)
    .bind(filters.from)
    .bind(filters.to)
    .bind(filters.before)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            seq: r.seq,
            at: crate::wire::timestamp(r.at),
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            details: r.details,
        })
        .collect())
}

/// `GET /api/v1/audit?actor=&action=&from=&to=&before=`: a page of the organization's
/// audit log, newest first.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<AuditQuery>) -> Result<Json<AuditPage>, ApiError> {
    let caller = signed_in.require_permitted(policy::may_read_audit)?;
    let filters = Filters::read(&query)?;
    let mut tx = OrgTx::begin_read_only(&state.db, caller.acting_for(query.org)?).await?;
    let mut items = entries(&mut tx, &filters, Some(PAGE + 1)).await?;
    tx.commit().await?;
    let more = items.len() as i64 > PAGE;
    items.truncate(PAGE as usize);
    let next_before = more.then(|| items.last().map(|e| e.seq)).flatten();
    Ok(Json(AuditPage { items, next_before }))
}

/// `GET /api/v1/audit/verify`: the organization's chain checked from its first entry.
pub async fn verify(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(scope): ApiQuery<ForOrganization>) -> Result<Json<AuditVerification>, ApiError> {
    let caller = signed_in.require_permitted(policy::may_read_audit)?;
    let mut tx = OrgTx::begin_read_only(&state.db, caller.acting_for(scope.org)?).await?;
    let (entries, broken) = audit::verify_organization(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(AuditVerification {
        entries: entries as i64,
        broken_at: broken.map(|(seq, _)| seq),
        reason: broken.map(|(_, reason)| reason.to_owned()),
    }))
}

/// `GET /api/v1/audit/export?…&format=csv|json`: every entry the filters select, as a file.
pub async fn export(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<AuditQuery>) -> Result<Response, ApiError> {
    let caller = signed_in.require_permitted(policy::may_read_audit)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let filters = Filters::read(&query)?;
    let format = Format::asked(query.format.as_deref())?;
    let mut tx = OrgTx::begin_read_only(&state.db, caller.acting_for(query.org)?).await?;
    let items = entries(&mut tx, &filters, None).await?;
    tx.commit().await?;
    download::file(&items, format, "audit-log", |items| csv_of(items))
}

fn csv_of(items: &[AuditEntry]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["seq", "at", "actor", "action", "subject", "details"])?;
    for entry in items {
        // Names and details are typed by people: neutralized for spreadsheets.
        writer.write_record([
            entry.seq.to_string(),
            entry.at.clone(),
            csv_text(&entry.actor).into_owned(),
            entry.action.clone(),
            csv_text(&entry.subject).into_owned(),
            csv_text(&entry.details.to_string()).into_owned(),
        ])?;
    }
    Ok(writer.into_inner()?)
}

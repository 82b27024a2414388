//! Desktop reads of the organization's records: lists from the materialized tables (with
//! the records table's filters and sorting), one record with its current values and open
//! conflicts, and a record's history (who changed which field, when).

use axum::extract::State;
use axum::Json;
use bmms_shared::records::{self, mana, RecordKind};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::QueryAs;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::extract::{ApiPath, ApiQuery};
use crate::sync::{history, store};
use bmms_shared::records::json as values;

/// Filters of the assessments table (and of its export).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentQuery {
    pub status: Option<String>,
    pub province: Option<String>,
    pub municipality: Option<String>,
    /// Assessment date from and to, inclusive.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only assessments that rate this sector's need at `min_severity` or more.
    pub sector: Option<String>,
    pub min_severity: Option<i32>,
    /// Part of the community's name.
    pub search: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub order: Option<String>,
    #[serde(default = "default_limit")]
    pub limit: i64,
    #[serde(default)]
    pub offset: i64,
    /// For the export only: csv, json or geojson.
    pub format: Option<String>,
}

/// Filters of the task list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    pub status: Option<String>,
    pub assignee: Option<String>,
    #[serde(default = "default_limit")]
    pub limit: i64,
    #[serde(default)]
    pub offset: i64,
}

fn default_limit() -> i64 {
    50
}

fn page(limit: i64, offset: i64) -> Result<(i64, i64), ApiError> {
    if !(1..=200).contains(&limit) || offset < 0 {
        return Err(ApiError::unprocessable("invalid_paging", "limit must be between 1 and 200, and offset 0 or more."));
    }
    Ok((limit, offset))
}

/// The `where` clause of the assessment filters; [`bind_filters`] binds `$1`..`$8`.
pub const ASSESSMENT_FILTERS: &str = "($1::text is null or status = $1) and ($2::text is null or province = $2)
    and ($3::text is null or municipality = $3)
    and ($4::date is null or assessment_date >= $4) and ($5::date is null or assessment_date <= $5)
    and ($6::text is null or (needs ->> $6)::int >= coalesce($7, 1))
    and ($8::text is null or community ilike '%' || $8 || '%')";

impl AssessmentQuery {
    /// Refuses filters that cannot mean anything, with the field to fix.
    pub fn check(&self) -> Result<(), ApiError> {
        if let Some(sector) = &self.sector {
            if !mana::SECTORS.iter().any(|(s, _)| s == sector) {
                let known: Vec<&str> = mana::SECTORS.iter().map(|(s, _)| *s).collect();
                return Err(ApiError::invalid_field("sector", format!("Choose one of the sectors: {}.", known.join(", "))));
            }
        }
        if self.min_severity.is_some_and(|s| !(1..=5).contains(&s)) {
            return Err(ApiError::invalid_field("min_severity", "Severity goes from 1 to 5."));
        }
        // The range a record's date can have (`FieldType::Date`); PostgreSQL would refuse
        // some dates chrono reads, such as year -100000.
        for (name, date) in [("from", self.from), ("to", self.to)] {
            if date.is_some_and(|d| !(1900..=2100).contains(&chrono::Datelike::year(&d))) {
                return Err(ApiError::invalid_field(name, "Choose a date between 1900-01-01 and 2100-12-31."));
            }
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from > to {
                return Err(ApiError::invalid_field("to", "The end of the date range comes before its start."));
            }
        }
        Ok(())
    }

    /// `order by` for the chosen column; only known columns reach the SQL.
    pub fn order_by(&self) -> Result<String, ApiError> {
        let column = match self.sort.as_deref().unwrap_or("updated_at") {
            "updated_at" => "updated_at",
            "assessment_date" => "assessment_date",
            "community" => "community",
            "municipality" => "municipality",
            "province" => "province",
            "households" => "households",
            "population" => "population",
            "status" => "status",
            other => {
                return Err(ApiError::invalid_field(
                    "sort",
                    format!("Cannot sort by \"{other}\": choose updated_at, assessment_date, community, municipality, province, households, population or status."),
                ))
            }
        };
        let direction = match self.order.as_deref() {
            None if column == "updated_at" => "desc",
            None | Some("asc") => "asc",
            Some("desc") => "desc",
            Some(_) => return Err(ApiError::invalid_field("order", "The order is asc or desc.")),
        };
        Ok(format!("order by {column} {direction} nulls last, id"))
    }
}

/// Binds the filters of [`ASSESSMENT_FILTERS`].
pub fn bind_filters<'q, O>(query: QueryAs<'q, Postgres, O, PgArguments>, filters: &'q AssessmentQuery) -> QueryAs<'q, Postgres, O, PgArguments> {
    query
        .bind(&filters.status)
        .bind(&filters.province)
        .bind(&filters.municipality)
        .bind(filters.from)
        .bind(filters.to)
        .bind(&filters.sector)
        .bind(filters.min_severity)
        .bind(filters.search.as_deref().map(|s| s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
}

/// `GET /api/v1/assessments?status=&province=&municipality=&from=&to=&sector=&min_severity=&search=&sort=&order=&limit=&offset=`
pub async fn list_assessments(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<AssessmentQuery>,
) -> Result<Json<Value>, ApiError> {
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let page = assessment_page(&mut tx, &query).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// A page of the assessments `conn` can see, as `GET /api/v1/assessments` answers.
pub async fn assessment_page(conn: &mut sqlx::PgConnection, query: &AssessmentQuery) -> Result<Value, ApiError> {
    let (limit, offset) = page(query.limit, query.offset)?;
    query.check()?;
    let sql = format!(
        "select id, status, community, municipality, province, assessment_date, households, population, needs,
                count(*) over () as total
         from mana_assessments where {ASSESSMENT_FILTERS} {} limit $9 offset $10",
        query.order_by()?
    );
    type Row = (Uuid, String, Option<String>, Option<String>, Option<String>, Option<NaiveDate>, Option<i32>, Option<i32>, Value, i64);
    let rows: Vec<Row> = bind_filters(sqlx::query_as(&sql), query).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    let total = rows.first().map(|r| r.9).unwrap_or(0);
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(id, status, community, municipality, province, date, households, population, needs, _)| {
            json!({"id": id, "status": status, "community": community, "municipality": municipality,
                   "province": province, "assessment_date": date, "households": households, "population": population,
                   "needs": needs})
        })
        .collect();
    Ok(json!({"items": items, "total": total, "limit": limit, "offset": offset}))
}

/// `GET /api/v1/tasks?status=&assignee=&limit=&offset=`
pub async fn list_tasks(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<TaskQuery>,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = page(query.limit, query.offset)?;
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    type Row = (Uuid, String, Option<String>, Option<String>, Option<String>, Option<NaiveDate>, Option<i32>, bool, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "select id, status, title, site, assignee, due_date, progress_percent,
                coalesce(status <> 'done' and due_date < current_date, false) as overdue, count(*) over () as total
         from monitoring_tasks
         where ($1::text is null or status = $1) and ($2::text is null or assignee = $2)
         order by due_date nulls last, id limit $3 offset $4",
    )
    .bind(&query.status)
    .bind(&query.assignee)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let total = rows.first().map(|r| r.8).unwrap_or(0);
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(id, status, title, site, assignee, due, progress, overdue, _)| {
            json!({"id": id, "status": status, "title": title, "site": site, "assignee": assignee, "due_date": due,
                   "progress_percent": progress, "overdue": overdue})
        })
        .collect();
    Ok(Json(json!({"items": items, "total": total, "limit": limit, "offset": offset})))
}

/// `GET /api/v1/records/{id}`: every field's current value, and the open conflicts.
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Value>, ApiError> {
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let stored = store::load_document(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("There is no such record in your organization."))?;
    let conflicts: Vec<(Uuid, String, Value, DateTime<Utc>)> = sqlx::query_as(
        "select id, field, candidates, detected_at from conflicts where doc_id = $1 and resolved_at is null order by field",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(record_json(id, stored.kind, &stored.doc, conflicts)))
}

fn record_json(id: Uuid, kind: RecordKind, doc: &automerge::AutoCommit, conflicts: Vec<(Uuid, String, Value, DateTime<Utc>)>) -> Value {
    let mut fields = Map::new();
    let mut notes = Map::new();
    for spec in kind.fields() {
        if let Some(value) = records::get_field(doc, kind, &spec.name) {
            fields.insert(spec.name.clone(), values::to_json(&value));
        }
        if let Some(note) = records::resolution::note(doc, &spec.name) {
            notes.insert(spec.name.clone(), json!(note));
        }
    }
    let conflicts: Vec<Value> = conflicts
        .into_iter()
        .map(|(conflict_id, field, candidates, detected_at)| {
            json!({"id": conflict_id, "field": field, "candidates": candidates, "detected_at": detected_at})
        })
        .collect();
    json!({"id": id, "kind": kind, "fields": fields, "resolutions": notes, "conflicts": conflicts})
}

/// `GET /api/v1/records/{id}/history`: the record's changes, newest first (the last 500).
pub async fn history(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Value>, ApiError> {
    signed_in.require_desk()?;
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let mut stored = store::load_document(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("There is no such record in your organization."))?;
    let log: Vec<(i64, Vec<u8>, Uuid, String, DateTime<Utc>)> = sqlx::query_as(
        "select l.seq, l.hash, l.device_id, u.display_name, l.created_at from change_log l join users u on u.id = l.user_id
         where l.doc_id = $1 order by l.seq desc limit 500",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let entries: Vec<Value> = log
        .into_iter()
        .map(|(seq, hash, device_id, name, at)| {
            let changed = history::fields_changed(&mut stored.doc, stored.kind, &hash);
            json!({"seq": seq, "at": at, "by": name, "device_id": (!device_id.is_nil()).then_some(device_id), "fields": changed})
        })
        .collect();
    Ok(Json(json!({"id": id, "kind": stored.kind, "items": entries})))
}

//! Desktop reads of the organization's records: lists from the materialized tables,
//! and one record with its current values and open conflicts.

use axum::extract::{Query, State};
use axum::Json;
use bmms_shared::records::{self, RecordKind};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::extract::ApiPath;
use crate::sync::{store, values};

/// Paging shared by the lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub status: Option<String>,
    pub province: Option<String>,
    pub municipality: Option<String>,
    pub assignee: Option<String>,
    #[serde(default = "default_limit")]
    pub limit: i64,
    #[serde(default)]
    pub offset: i64,
}

fn default_limit() -> i64 {
    50
}

fn page(query: &ListQuery) -> Result<(i64, i64), ApiError> {
    if !(1..=200).contains(&query.limit) || query.offset < 0 {
        return Err(ApiError::unprocessable("invalid_paging", "limit must be between 1 and 200, and offset 0 or more."));
    }
    Ok((query.limit, query.offset))
}

fn query_error(err: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::bad_request("invalid_query", format!("The address's filters are not valid: {}.", err.body_text().trim_end_matches('.')))
}

/// `GET /api/v1/assessments?status=&province=&municipality=&limit=&offset=`
pub async fn list_assessments(
    State(state): State<AppState>,
    signed_in: SignedIn,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let (limit, offset) = page(&query)?;
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let rows: Vec<(Uuid, String, Option<String>, Option<String>, Option<String>, Option<chrono::NaiveDate>, Option<i32>, Option<i32>, i64)> =
        sqlx::query_as(
            "select id, status, community, municipality, province, assessment_date, households, population,
                    count(*) over () as total
             from mana_assessments
             where ($1::text is null or status = $1) and ($2::text is null or province = $2)
               and ($3::text is null or municipality = $3)
             order by updated_at desc, id limit $4 offset $5",
        )
        .bind(&query.status)
        .bind(&query.province)
        .bind(&query.municipality)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let total = rows.first().map(|r| r.8).unwrap_or(0);
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(id, status, community, municipality, province, date, households, population, _)| {
            json!({"id": id, "status": status, "community": community, "municipality": municipality,
                   "province": province, "assessment_date": date, "households": households, "population": population})
        })
        .collect();
    Ok(Json(json!({"items": items, "total": total, "limit": limit, "offset": offset})))
}

/// `GET /api/v1/tasks?status=&assignee=&limit=&offset=`
pub async fn list_tasks(
    State(state): State<AppState>,
    signed_in: SignedIn,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let (limit, offset) = page(&query)?;
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let rows: Vec<(Uuid, String, Option<String>, Option<String>, Option<chrono::NaiveDate>, Option<i32>, i64)> = sqlx::query_as(
        "select id, status, title, assignee, due_date, progress_percent, count(*) over () as total
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
    let total = rows.first().map(|r| r.6).unwrap_or(0);
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(id, status, title, assignee, due, progress, _)| {
            json!({"id": id, "status": status, "title": title, "assignee": assignee, "due_date": due, "progress_percent": progress})
        })
        .collect();
    Ok(Json(json!({"items": items, "total": total, "limit": limit, "offset": offset})))
}

/// `GET /api/v1/records/{id}`: every field's current value, and the open conflicts.
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Value>, ApiError> {
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let stored = store::load_document(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("There is no such record in your organization."))?;
    let conflicts: Vec<(Uuid, String, Value, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "select id, field, candidates, detected_at from conflicts where doc_id = $1 and resolved_at is null order by field",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(record_json(id, stored.kind, &stored.doc, conflicts)))
}

fn record_json(id: Uuid, kind: RecordKind, doc: &automerge::AutoCommit, conflicts: Vec<(Uuid, String, Value, chrono::DateTime<chrono::Utc>)>) -> Value {
    let mut fields = Map::new();
    for spec in kind.fields() {
        if let Some(value) = records::get(doc, &spec.name) {
            fields.insert(spec.name.clone(), values::to_json(&value));
        }
    }
    let conflicts: Vec<Value> = conflicts
        .into_iter()
        .map(|(conflict_id, field, candidates, detected_at)| {
            json!({"id": conflict_id, "field": field, "candidates": candidates, "detected_at": detected_at})
        })
        .collect();
    json!({"id": id, "kind": kind, "fields": fields, "conflicts": conflicts})
}

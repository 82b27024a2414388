//! The supervisor's conflict queue. A conflict is one field that devices wrote
//! concurrently; the supervisor sees every value side by side (who wrote it, from which
//! device, when it reached the server, and what it replaced), then picks one or gives a
//! new one, with a reason. The decision is an ordinary change by the supervisor's desk
//! actor (see [`desk_edit`]) with a note beside the field, so it supersedes every
//! concurrent value and every device shows "resolved by NAME: reason".

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::records::resolution::{self, ResolutionNote};
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::api::{ConflictDetail, Items, QueuedConflict, Resolution, Resolve, ResolveMany, Settlement, WrittenValue};
use bmms_shared::{DeviceId, DocId};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Caller, SignedIn};
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::routes::extract::{ApiJson, ApiPath};
use crate::sync::{desk_edit, store};
use bmms_shared::records::json as values;
use crate::wire::{maybe_timestamp, timestamp};

const WHAT: &str = "see and settle sync conflicts";

/// The label people know a record by, and its kind, from the materialized rows.
const RECORD_LABEL: &str = "d.kind, coalesce(m.community, t.title, p.title) as label
    from conflicts c join documents d on d.id = c.doc_id
    left join mana_assessments m on m.id = c.doc_id left join monitoring_tasks t on t.id = c.doc_id
    left join ppa_proposals p on p.id = c.doc_id";

/// A record's kind as the documents table keeps it.
fn record_kind(kind: &str) -> Result<RecordKind, ApiError> {
    RecordKind::parse(kind).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a document of unknown kind {kind:?}")))
}

fn field_label(kind: RecordKind, field: &str) -> String {
    kind.field(field).map(|f| f.label.clone()).unwrap_or_else(|| field.to_owned())
}

/// A conflict in the queue, as read.
#[derive(sqlx::FromRow)]
struct OpenConflict {
    id: Uuid,
    doc_id: DocId,
    field: String,
    candidates: Value,
    detected_at: DateTime<Utc>,
    kind: String,
    /// The community or the task's title.
    label: Option<String>,
}

/// A conflict, open or settled, with its record, as read.
#[derive(sqlx::FromRow)]
struct StoredConflict {
    doc_id: DocId,
    field: String,
    candidates: Value,
    detected_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    /// The settling supervisor's display name.
    resolved_by: Option<String>,
    resolution: Option<String>,
    reason: Option<String>,
    kind: String,
    label: Option<String>,
}

/// Who sent a change, from which device, and when it reached the server.
#[derive(sqlx::FromRow)]
struct Sender {
    hash: Vec<u8>,
    device_id: DeviceId,
    display_name: String,
    created_at: DateTime<Utc>,
}

/// What settling a conflict needs to know of it.
#[derive(sqlx::FromRow)]
struct ConflictToSettle {
    doc_id: DocId,
    field: String,
    candidates: Value,
    resolved_at: Option<DateTime<Utc>>,
    resolution: Option<String>,
    reason: Option<String>,
}

/// `GET /api/v1/conflicts`: the organization's open conflicts, oldest first.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Items<QueuedConflict>>, ApiError> {
    let caller = signed_in.require_supervisor(WHAT)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let rows: Vec<OpenConflict> = sqlx::query_as(&format!(
        "select c.id, c.doc_id, c.field, c.candidates, c.detected_at, {RECORD_LABEL}
         where c.resolved_at is null order by c.detected_at, c.id limit 500"
    ))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items = rows
        .into_iter()
        .map(|c| {
            let kind = record_kind(&c.kind)?;
            Ok(QueuedConflict {
                value_count: c.candidates.as_array().map_or(0, Vec::len),
                candidates: c.candidates,
                detected_at: timestamp(c.detected_at),
                field_label: field_label(kind, &c.field),
                field: c.field,
                id: c.id,
                record_id: c.doc_id,
                record_kind: kind,
                record_label: c.label,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(Items { items }))
}

/// `GET /api/v1/conflicts/{id}`: every value side by side, or the decision once settled.
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<Uuid>) -> Result<Json<ConflictDetail>, ApiError> {
    let caller = signed_in.require_supervisor(WHAT)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let row: Option<StoredConflict> = sqlx::query_as(&format!(
        "select c.doc_id, c.field, c.candidates, c.detected_at, c.resolved_at,
                (select display_name from users where id = c.resolved_by) as resolved_by, c.resolution, c.reason, {RECORD_LABEL}
         where c.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let StoredConflict { doc_id, field, candidates, detected_at, resolved_at, resolved_by, resolution, reason, kind, label } =
        row.ok_or_else(|| ApiError::not_found("There is no such conflict in your organization."))?;
    let mut stored = store::load_document(&mut tx, doc_id).await?.ok_or_else(|| ApiError::not_found("The record of this conflict is gone."))?;
    let spec = stored.kind.field(&field);
    let written = resolution::concurrent_values(&mut stored.doc, spec, &field);
    // Who sent each value, from which device, and when it reached the server: the log.
    let hashes: Vec<Vec<u8>> = written.iter().filter_map(|w| w.change.map(|h| h.0.to_vec())).collect();
    let senders: Vec<Sender> = sqlx::query_as(
        "select l.hash, l.device_id, u.display_name, l.created_at from change_log l join users u on u.id = l.user_id
         where l.doc_id = $1 and l.hash = any($2)",
    )
    .bind(doc_id)
    .bind(&hashes)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let values = written
        .into_iter()
        .map(|w| {
            let sender = w.change.and_then(|h| senders.iter().find(|s| s.hash == h.0));
            WrittenValue {
                before: w.before,
                // The nil device is a desk edit, made on no device.
                device_id: sender.map(|s| s.device_id).filter(|d| !d.uuid().is_nil()),
                received_at: maybe_timestamp(sender.map(|s| s.created_at)),
                shown: w.shown,
                value: w.value.as_ref().map(values::to_json),
                written_by: sender.map(|s| s.display_name.clone()),
            }
        })
        .collect();
    let resolved = resolved_at.map(|at| Settlement { at: timestamp(at), by: resolved_by, reason, value: resolution });
    let kind = record_kind(&kind)?;
    Ok(Json(ConflictDetail {
        candidates,
        detected_at: timestamp(detected_at),
        field_label: field_label(kind, &field),
        field,
        id,
        record_id: doc_id,
        record_kind: kind,
        record_label: label,
        resolved,
        values,
    }))
}

/// `POST /api/v1/conflicts/{id}/resolve`.
pub async fn resolve(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    body: Result<ApiJson<Resolve>, ApiError>,
) -> Result<Json<Resolution>, ApiError> {
    // Who may ask comes before what they sent.
    signed_in.require_writer()?;
    let caller = signed_in.require_supervisor(WHAT)?;
    let ApiJson(body) = body?;
    let mut settled = settle(&state, &caller, &[id], &body.value, &body.reason).await?;
    Ok(Json(settled.remove(0)))
}

/// `POST /api/v1/conflicts/resolve`: all of them or, if one cannot be, none.
pub async fn resolve_many(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<ResolveMany>, ApiError>) -> Result<Json<Items<Resolution>>, ApiError> {
    signed_in.require_writer()?;
    let caller = signed_in.require_supervisor(WHAT)?;
    let ApiJson(body) = body?;
    if body.ids.is_empty() || body.ids.len() > 200 {
        return Err(ApiError::invalid_field("ids", "Choose between 1 and 200 conflicts."));
    }
    let settled = settle(&state, &caller, &body.ids, &body.value, &body.reason).await?;
    Ok(Json(Items { items: settled }))
}

/// Settles every conflict of `ids` with `value`, in one transaction.
async fn settle(state: &AppState, caller: &Caller, ids: &[Uuid], value: &Value, reason: &str) -> Result<Vec<Resolution>, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::invalid_field("reason", "Give a reason: the officers will see it beside the value you chose."));
    }
    if reason.chars().count() > 1000 {
        return Err(ApiError::invalid_field("reason", "Keep the reason under 1,000 characters."));
    }
    let settled = crate::db::retry_once(|| settle_in_one_transaction(state, caller, ids, value, reason)).await?;
    state.events.announce(caller.org_id, Topic::Conflicts);
    state.events.announce(caller.org_id, Topic::Records);
    Ok(settled)
}

async fn settle_in_one_transaction(state: &AppState, caller: &Caller, ids: &[Uuid], value: &Value, reason: &str) -> Result<Vec<Resolution>, ApiError> {
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let supervisor: String = sqlx::query_scalar("select display_name from users where id = $1")
        .bind(caller.user_id)
        .fetch_one(&mut *tx)
        .await?;
    // The lock order of every writer of records (see `crate::db::retry_once`): the
    // records first, by id, then their conflicts. A sync takes them in this order too;
    // taking the conflict first deadlocked against it.
    sqlx::query(
        "select id from documents where id in (select doc_id from conflicts where id = any($1)) order by id for update",
    )
    .bind(ids)
    .execute(&mut *tx)
    .await?;
    sqlx::query("select id from conflicts where id = any($1) order by id for update").bind(ids).execute(&mut *tx).await?;
    let mut settled = Vec::with_capacity(ids.len());
    for &id in ids {
        settled.push(settle_one(&mut tx, caller, &supervisor, id, value, reason).await?);
    }
    tx.commit().await?;
    Ok(settled)
}

async fn settle_one(tx: &mut OrgTx, caller: &Caller, supervisor: &str, id: Uuid, value: &Value, reason: &str) -> Result<Resolution, ApiError> {
    let conflict: Option<ConflictToSettle> = sqlx::query_as(
        "select doc_id, field, candidates, resolved_at, resolution, reason from conflicts where id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let ConflictToSettle { doc_id, field, candidates, resolved_at, resolution, reason: earlier_reason } =
        conflict.ok_or_else(|| ApiError::not_found("There is no such conflict in your organization."))?;
    if let Some(resolved_at) = resolved_at {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "already_resolved",
            format!(
                "This conflict was already settled on {} with the value {} ({}).",
                resolved_at.format("%Y-%m-%d %H:%M UTC"),
                resolution.unwrap_or_default(),
                earlier_reason.unwrap_or_default()
            ),
        ));
    }
    let kind: String = sqlx::query_scalar("select kind from documents where id = $1").bind(doc_id).fetch_one(&mut **tx).await?;
    let spec = RecordKind::parse(&kind).and_then(|k| k.field(&field)).ok_or_else(|| {
        ApiError::unprocessable("unsupported_conflict", "This conflict is inside a list item; settle it by editing the record.")
    })?;
    let chosen: FieldValue = values::from_json(spec, value).map_err(|e| ApiError::invalid_field("value", format!("{e}.")))?;
    let note = ResolutionNote { by: supervisor.to_owned(), at: Utc::now().to_rfc3339(), reason: reason.to_owned() };
    let (field_name, chosen_value) = (field.clone(), chosen.clone());
    desk_edit::edit(tx, doc_id, caller.user_id, Box::new(move |doc| {
        desk_edit::set_fields(doc, vec![(field_name.as_str(), chosen_value)])?;
        resolution::write_note(doc, &field_name, &note)
            .map_err(|e| bmms_shared::records::FieldError::new(&field_name, format!("could not be noted: {e}")))
    }))
    .await?
    .ok_or_else(|| ApiError::not_found("The record of this conflict is gone."))?;
    let chosen = values::to_json(&chosen);
    // The edit closed the conflict as "settled by a later edit"; this says who and why.
    sqlx::query("update conflicts set resolved_at = now(), resolved_by = $2, resolution = $3, reason = $4 where id = $1")
        .bind(id)
        .bind(caller.user_id)
        .bind(chosen.to_string())
        .bind(reason)
        .execute(&mut **tx)
        .await?;
    audit::append(tx, Event {
        actor: &caller.actor(),
        action: "conflict.resolve",
        subject: format!("record:{doc_id}"),
        details: json!({"conflict_id": id, "field": field, "candidates": candidates, "chosen": chosen, "reason": reason}),
    })
    .await?;
    Ok(Resolution { field, id, reason: reason.to_owned(), record_id: doc_id, resolved_by: caller.user_id, value: chosen })
}

//! Supervisors settle conflicts: pick one of the values or give a new one, with a reason.
//! The choice is applied as an ordinary Automerge change by a server-side actor of that
//! supervisor, so it supersedes every concurrent value and reaches every device.

use automerge::ActorId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::records::{self, RecordEditor};
use bmms_shared::Role;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::extract::{ApiJson, ApiPath};
use crate::sync::{materialize, store, values};

/// `POST /api/v1/conflicts/{id}/resolve`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// The value to keep: one of the candidates, or a new one.
    pub value: Value,
    /// Why; shown to the officers and kept in the audit log.
    pub reason: String,
}

fn require_supervisor(signed_in: &SignedIn) -> Result<(), ApiError> {
    match signed_in.role() {
        Role::Supervisor | Role::OrgAdmin => Ok(()),
        _ => Err(ApiError::forbidden("not_a_supervisor", "Only a supervisor can see and settle sync conflicts.")),
    }
}

/// The Automerge actor that writes a supervisor's decisions (one per supervisor, so the
/// document history says who decided).
fn supervisor_actor(user_id: Uuid) -> ActorId {
    let digest = Sha256::digest(format!("bmms-supervisor:{user_id}"));
    ActorId::from(&digest[..16])
}

/// `GET /api/v1/conflicts`: the organization's open conflicts, oldest first.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Value>, ApiError> {
    require_supervisor(&signed_in)?;
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let rows: Vec<(Uuid, Uuid, String, Value, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "select id, doc_id, field, candidates, detected_at from conflicts where resolved_at is null order by detected_at, id limit 500",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(id, doc_id, field, candidates, detected_at)| {
            json!({"id": id, "record_id": doc_id, "field": field, "candidates": candidates, "detected_at": detected_at})
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

pub async fn resolve(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    body: Result<ApiJson<Resolve>, ApiError>,
) -> Result<Json<Value>, ApiError> {
    // Who may ask comes before what they sent.
    require_supervisor(&signed_in)?;
    let ApiJson(body) = body?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::invalid_field("reason", "Give a reason: the officers will see it beside the value you chose."));
    }
    if reason.chars().count() > 1000 {
        return Err(ApiError::invalid_field("reason", "Keep the reason under 1,000 characters."));
    }
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let conflict: Option<(Uuid, String, Value, Option<chrono::DateTime<chrono::Utc>>, Option<String>, Option<String>)> = sqlx::query_as(
        "select doc_id, field, candidates, resolved_at, resolution, reason from conflicts where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (doc_id, field, candidates, resolved_at, resolution, earlier_reason) =
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
    let mut stored = store::load_document_for_update(&mut tx, doc_id).await?.ok_or_else(|| ApiError::not_found("The record of this conflict is gone."))?;
    let spec = stored.kind.field(&field).ok_or_else(|| {
        ApiError::unprocessable("unsupported_conflict", "This conflict is inside a list item; settle it by editing the record.")
    })?;
    let value = values::from_json(spec, &body.value).map_err(|e| ApiError::invalid_field("value", format!("{e}.")))?;

    let doc = &mut stored.doc;
    doc.set_actor(supervisor_actor(signed_in.user_id()));
    let before = doc.get_heads();
    RecordEditor::new(doc)
        .and_then(|mut editor| editor.set(&field, value.clone()).map_err(Into::into))
        .map_err(|e| ApiError::invalid_field("value", format!("{e}.")))?;
    doc.commit();
    let changes = doc.get_changes(&before);
    store::append_changes(&mut tx, doc_id, &changes, Uuid::nil(), signed_in.user_id()).await?;
    store::save_document(&mut tx, doc_id, doc).await?;
    materialize::materialize(&mut tx, doc_id, stored.kind, doc).await?;
    let chosen = values::to_json(&value);
    sqlx::query("update conflicts set resolved_at = now(), resolved_by = $2, resolution = $3, reason = $4 where id = $1")
        .bind(id)
        .bind(signed_in.user_id())
        .bind(chosen.to_string())
        .bind(reason)
        .execute(&mut *tx)
        .await?;
    store::refresh_conflicts(&mut tx, doc_id, &records::conflicts(doc)).await?;
    audit::append(&mut tx, Event {
        actor: &signed_in.actor(),
        action: "conflict.resolve",
        subject: format!("record:{doc_id}"),
        details: json!({"conflict_id": id, "field": field, "candidates": candidates, "chosen": chosen, "reason": reason}),
    })
    .await?;
    tx.commit().await?;
    Ok(Json(json!({"id": id, "record_id": doc_id, "field": field, "value": chosen, "reason": reason, "resolved_by": signed_in.user_id()})))
}

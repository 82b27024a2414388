//! Changes the server writes on behalf of a person at a desk: a supervisor settling a
//! conflict, creating a monitoring task or reassigning one. Each is an ordinary Automerge
//! change by an actor of that person, logged, stored and materialized exactly like a
//! device's, so it reaches every device at its next sync as a delta.

use automerge::{ActorId, AutoCommit};
use bmms_shared::policy;
use bmms_shared::records::{self, FieldError, RecordEditor, RecordKind};
use sha2::{Digest, Sha256};
use bmms_shared::{DeviceId, DocId, UserId};
use uuid::Uuid;

use crate::db::OrgTx;
use crate::error::ApiError;
use crate::sync::{materialize, store};

/// The Automerge actor of a person's desk edits (one per person, so the document's
/// history says who decided). Devices have random actors of their own.
pub fn desk_actor(user_id: UserId) -> ActorId {
    let digest = Sha256::digest(format!("bmms-supervisor:{user_id}"));
    ActorId::from(&digest[..16])
}

/// The device of a desk edit, made on no device: the change log says so with the nil id.
pub const DESK: DeviceId = DeviceId(Uuid::nil());

fn field_error(err: FieldError) -> ApiError {
    ApiError::invalid_field(err.field.clone(), format!("{err}."))
}

/// What an edit may do: set fields through the schema, and write resolution notes.
pub type Write<'w> = Box<dyn FnOnce(&mut AutoCommit) -> Result<(), FieldError> + Send + 'w>;

/// Sets fields through the schema's checks.
pub fn set_fields(doc: &mut AutoCommit, values: Vec<(&str, records::FieldValue)>) -> Result<(), FieldError> {
    let mut editor = RecordEditor::new(doc).map_err(|e| FieldError::new("record", e.to_string()))?;
    for (field, value) in values {
        editor.set(field, value)?;
    }
    Ok(())
}

/// Changes a stored document as `user_id`; the document as saved, or None if the
/// organization has no such document.
pub async fn edit(tx: &mut OrgTx, doc_id: DocId, user_id: UserId, write: Write<'_>) -> Result<Option<(RecordKind, AutoCommit)>, ApiError> {
    let Some(stored) = store::load_document_for_update(tx, doc_id).await? else {
        return Ok(None);
    };
    edit_stored(tx, doc_id, stored, user_id, write).await.map(Some)
}

/// [`edit`] of a document the caller has already loaded for update in `tx`. A record the
/// policy holds frozen (a proposal with BPDA) is refused with 409, whoever asks: desk
/// edits honour the freeze as devices' changes do.
pub async fn edit_stored(
    tx: &mut OrgTx,
    doc_id: DocId,
    stored: store::StoredDocument,
    user_id: UserId,
    write: Write<'_>,
) -> Result<(RecordKind, AutoCommit), ApiError> {
    policy::may_change_at_all(stored.kind, &stored.doc)
        .map_err(|denied| ApiError::client(axum::http::StatusCode::CONFLICT, "record_frozen", denied.0))?;
    write_stored(tx, doc_id, stored, user_id, write).await
}

/// [`edit_stored`] without asking whether the record is frozen: only for writing BPDA's
/// decision into a submitted proposal, which is what unfreezes it
/// (`proposals::settle_decisions`).
pub async fn write_stored(
    tx: &mut OrgTx,
    doc_id: DocId,
    mut stored: store::StoredDocument,
    user_id: UserId,
    write: Write<'_>,
) -> Result<(RecordKind, AutoCommit), ApiError> {
    let doc = &mut stored.doc;
    doc.set_actor(desk_actor(user_id));
    let before = doc.get_heads();
    write(doc).map_err(field_error)?;
    doc.commit();
    let changes = records::changes_since(doc, &before);
    if !changes.is_empty() {
        store::append_changes(tx, doc_id, &changes, DESK, user_id).await?;
        store::save_document(tx, doc_id, &doc.save()).await?;
        materialize::materialize(tx, doc_id, stored.kind, doc).await?;
        store::refresh_conflicts(tx, doc_id, &records::conflicts(doc)).await?;
    }
    Ok((stored.kind, stored.doc))
}

/// Creates the document `doc_id` of `kind` as `user_id`. False, with nothing written,
/// when the id is already taken (in this organization or another): the caller decides
/// whether that was the same request sent twice.
pub async fn create(tx: &mut OrgTx, doc_id: DocId, kind: RecordKind, user_id: UserId, write: Write<'_>) -> Result<bool, ApiError> {
    let mut doc = records::new_document(doc_id, kind, desk_actor(user_id));
    write(&mut doc).map_err(field_error)?;
    doc.commit();
    // The row first: a concurrent request with the same id waits here for this one, then
    // finds the id taken; its first sequence number is set as its changes are logged.
    if store::insert_documents(tx, &[(doc_id, kind, doc.save(), 0)], user_id).await?.is_empty() {
        return Ok(false);
    }
    let changes = records::changes_since(&mut doc, &[]);
    let entries: Vec<store::LogEntry> =
        changes.into_iter().enumerate().map(|(i, change)| store::LogEntry { offset: i as u64 + 1, doc_id, change }).collect();
    store::log_changes(tx, &entries, &[(doc_id, 1)], DESK, user_id).await?;
    materialize::materialize(tx, doc_id, kind, &mut doc).await?;
    Ok(true)
}

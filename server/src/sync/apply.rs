//! One sync exchange, in one transaction: check the device, answer a resent batch from
//! its record, or merge every document (each accepted or refused on its own), log the new
//! changes, keep rows and conflicts current, audit, and answer with what the device lacks.

use axum::body::Bytes;
use axum::http::StatusCode;
use bmms_shared::sync::bounds::Limit;
use bmms_shared::sync::protocol::{self, ProtocolError, Rejection, RejectionCode, SyncRequest, SyncResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::db::{Db, OrgTx};
use crate::error::ApiError;
use crate::events::{Hub, Topic};
use crate::limits::{CpuPool, Limits, INLINE_CODEC_BYTES, INLINE_OPERATIONS};
use crate::sync::cache::DocumentCache;
use crate::sync::{materialize, merge, store};

/// What a batch did, kept so that the same batch sent again gets the same answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Outcome {
    acknowledged: Vec<Uuid>,
    rejections: Vec<Rejection>,
}

/// Handles a request body; answers a response body. The CPU-heavy steps (decoding,
/// merging, encoding the answer) run on the limited [`CpuPool`], never on the async threads.
pub async fn exchange(
    db: &Db,
    cache: &DocumentCache,
    events: &Hub,
    limits: &Limits,
    signed_in: &SignedIn,
    body: Bytes,
) -> Result<Vec<u8>, ApiError> {
    let _slot = limits.syncs.enter(signed_in.user_id())?;
    // Most exchanges are small: decoded where they arrive if they inflate to at most
    // INLINE_CODEC_BYTES, otherwise (or a bomb) on the CPU pool, within the full bounds.
    let read = |body: &[u8], max_inflated| {
        protocol::decode_request_within(body, max_inflated).map(|request| (Arc::new(request), Sha256::digest(body).to_vec()))
    };
    let (request, digest) = match read(&body, INLINE_CODEC_BYTES) {
        Err(ProtocolError::TooLarge(Limit::InflatedBytes)) => {
            limits.cpu.run(move || read(&body, bmms_shared::sync::bounds::MAX_INFLATED_BYTES)).await?
        }
        small => small,
    }
    .map_err(unreadable)?;
    let connection = limits.sync_transactions.enter().await?;
    let exchanged = crate::db::retry_once(|| in_one_transaction(db, cache, &limits.cpu, signed_in, &request, &digest)).await?;
    drop(connection);
    let org_id = signed_in.org_id();
    events.announce(org_id, Topic::Devices);
    if !exchanged.response.acknowledged.is_empty() {
        // Conflicts may have opened or closed with any accepted change.
        events.announce(org_id, Topic::Records);
        events.announce(org_id, Topic::Conflicts);
    }
    for (doc_id, version, kind, doc) in exchanged.committed {
        cache.put(org_id, doc_id, version, kind, doc);
    }
    let response = exchanged.response;
    let weight: usize = response.updates.iter().map(update_bytes).sum();
    if weight < INLINE_CODEC_BYTES {
        return Ok(protocol::encode(&response));
    }
    limits.cpu.run(move || protocol::encode(&response)).await
}

/// The bytes of what a device lacks of one document, as the answer will carry them.
fn update_bytes(update: &bmms_shared::sync::protocol::DocumentUpdate) -> usize {
    match &update.content {
        bmms_shared::sync::protocol::UpdateContent::Changes(changes) => changes.iter().map(Vec::len).sum(),
        bmms_shared::sync::protocol::UpdateContent::Snapshot(saved) => saved.len(),
    }
}

/// What a committed exchange answers, and the documents it left, for the cache.
struct Exchanged {
    response: SyncResponse,
    committed: Vec<Committed>,
}

/// The database part of an exchange, in one transaction (run again if PostgreSQL aborts
/// it for a deadlock: nothing of it is kept then).
async fn in_one_transaction(
    db: &Db,
    cache: &DocumentCache,
    cpu: &CpuPool,
    signed_in: &SignedIn,
    request: &Arc<SyncRequest>,
    digest: &[u8],
) -> Result<Exchanged, ApiError> {
    let mut tx = OrgTx::begin(db, signed_in.org_id()).await?;
    // One exchange per device at a time: a batch sent twice at once is applied once.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('sync:' || $1::text, 0))")
        .bind(request.device_id)
        .execute(&mut *tx)
        .await?;
    let device: Option<(Vec<u8>, Uuid)> = sqlx::query_as("select actor, user_id from devices where id = $1")
        .bind(request.device_id)
        .fetch_optional(&mut *tx)
        .await?;
    let actor = match device {
        Some((actor, owner)) if owner == signed_in.user_id() => actor,
        _ => {
            return Err(ApiError::forbidden(
                "unknown_device",
                "This device is not registered to you. Sign in again on this device; your changes are kept.",
            ))
        }
    };

    // Documents as this batch leaves them; cached once the transaction has committed.
    let mut committed_documents = Vec::new();
    let earlier: Option<(Vec<u8>, Vec<u8>)> =
        sqlx::query_as("select body_sha256, outcome from sync_batches where device_id = $1 and batch_id = $2")
            .bind(request.device_id)
            .bind(request.batch_id)
            .fetch_optional(&mut *tx)
            .await?;
    let earlier_outcome = match earlier {
        Some((sha, _)) if sha != digest => {
            tracing::warn!(device.id = %request.device_id, batch.id = %request.batch_id, "batch id reused with other content");
            let message = "This batch id was already used for other changes. Nothing was applied; the app will send them again as a new batch.";
            // Nothing of the batch is kept, but the supervisor's sync health shows the error.
            sqlx::query("update devices set last_contact_at = now(), last_refusal = $2, last_refusal_at = now() where id = $1")
                .bind(request.device_id)
                .bind(message)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Err(ApiError::client(axum::http::StatusCode::CONFLICT, "batch_reused", message));
        }
        Some((_, outcome)) => Some(protocol::decode::<Outcome>(&outcome).map_err(|e| ApiError::Internal(e.into()))?),
        None => None,
    };

    // The news is read first, before applying takes the organization's sequence and audit
    // locks, so that those are held only for the writes. The device's own new changes
    // will carry numbers above this head; they are never sent back to it anyway.
    let head = store::head(&mut tx).await?;
    let updates = store::updates_since(&mut tx, request.cursor, head, &actor).await?;

    let (outcome, applied) = match earlier_outcome {
        Some(outcome) => (outcome, None),
        // A request with no changes only asks for news: nothing to apply or to remember.
        None if request.documents.is_empty() => (Outcome { acknowledged: vec![], rejections: vec![] }, None),
        None => {
            let applied = apply(&mut tx, cache, cpu, signed_in, request, &actor, &mut committed_documents).await?;
            let outcome = applied.outcome.clone();
            sqlx::query(
                "insert into sync_batches (org_id, device_id, batch_id, body_sha256, outcome) values ($1, $2, $3, $4, $5)",
            )
            .bind(tx.org_id())
            .bind(request.device_id)
            .bind(request.batch_id)
            .bind(digest)
            .bind(protocol::encode(&outcome))
            .execute(&mut *tx)
            .await?;
            (outcome, Some(applied))
        }
    };

    record_contact(&mut tx, &request, &outcome).await?;
    let touched: BTreeSet<Uuid> =
        request.documents.iter().map(|d| d.doc_id).chain(updates.iter().map(|u| u.doc_id)).collect();
    let conflicts = store::open_conflicts(&mut tx, &touched.into_iter().collect::<Vec<_>>()).await?;
    if let Some(applied) = applied {
        log_and_audit(&mut tx, applied, signed_in, &request).await?;
    }
    tx.commit().await?;
    let response = SyncResponse {
        batch_id: request.batch_id,
        acknowledged: outcome.acknowledged,
        rejections: outcome.rejections,
        updates,
        conflicts,
        cursor: head,
    };
    Ok(Exchanged { response, committed: committed_documents })
}

/// A request that cannot be read: 413 when it is past a bound (the app then sends smaller
/// batches), 400 when it is damaged.
fn unreadable(error: ProtocolError) -> ApiError {
    let message = format!("{}.", capitalized(&error.to_string()));
    match error {
        ProtocolError::TooLarge(_) => ApiError::client(StatusCode::PAYLOAD_TOO_LARGE, "sync_too_large", message),
        _ => ApiError::bad_request("sync_unreadable", message),
    }
}

/// Keeps the device's sync health, as the supervisor's screen shows it.
async fn record_contact(tx: &mut OrgTx, request: &SyncRequest, outcome: &Outcome) -> sqlx::Result<()> {
    let pending: usize = request.documents.iter().map(|d| d.changes.len()).sum();
    let refusal = outcome.rejections.first().map(|r| r.message.clone());
    sqlx::query(
        "update devices set last_contact_at = now(), last_sync_at = now(), pending_reported = $2,
             last_refusal = coalesce($3, last_refusal),
             last_refusal_at = case when $3::text is null then last_refusal_at else now() end
         where id = $1",
    )
    .bind(request.device_id)
    .bind(i32::try_from(pending).unwrap_or(i32::MAX))
    .bind(refusal)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A document's state after the batch, for the cache: (id, version, kind, document).
type Committed = (Uuid, i64, bmms_shared::records::RecordKind, automerge::AutoCommit);

/// A batch applied to its own documents, with what remains to write under the
/// organization's locks ([`log_and_audit`]).
struct Applied {
    outcome: Outcome,
    /// The accepted changes in batch order, each with its place in the batch (1, 2, …).
    log: Vec<store::LogEntry>,
    /// The new documents, with the place of their first change.
    first_offsets: Vec<(Uuid, u64)>,
    rows: materialize::Rows,
}

/// The part of an exchange that serializes the organization's writers: sequence numbers
/// for the batch's changes and the change log, the materialized rows (their summary
/// totals are shared by the whole organization) and the audit entry. Done last, just
/// before commit, so that the locks are held as briefly as possible.
async fn log_and_audit(tx: &mut OrgTx, applied: Applied, signed_in: &SignedIn, request: &SyncRequest) -> Result<(), ApiError> {
    if !applied.log.is_empty() {
        store::log_changes(tx, &applied.log, &applied.first_offsets, request.device_id, signed_in.user_id()).await?;
    }
    applied.rows.write(tx).await?;
    let outcome = &applied.outcome;
    audit::append(tx, Event {
        actor: &signed_in.actor(),
        action: "sync.batch",
        subject: format!("device:{}", request.device_id),
        details: json!({
            "batch_id": request.batch_id,
            "documents_accepted": outcome.acknowledged,
            "documents_refused": outcome.rejections.iter().map(|r| json!({"doc_id": r.doc_id, "code": r.code})).collect::<Vec<_>>(),
            "changes_applied": applied.log.len(),
        }),
    })
    .await?;
    Ok(())
}

async fn apply(
    tx: &mut OrgTx,
    cache: &DocumentCache,
    cpu: &CpuPool,
    signed_in: &SignedIn,
    request: &Arc<SyncRequest>,
    actor: &[u8],
    committed: &mut Vec<Committed>,
) -> Result<Applied, ApiError> {
    let mut outcome = Outcome { acknowledged: vec![], rejections: vec![] };
    // A handful of statements per batch rather than per document: load every document at
    // once, reserve sequence numbers for all new changes at once, log them in one insert.
    let ids: Vec<Uuid> = request.documents.iter().map(|d| d.doc_id).collect();
    let stored = store::load_documents_for_update(tx, &ids, cache, cpu).await?;
    let actor = automerge::ActorId::from(actor);
    let (request_for_merge, role) = (Arc::clone(request), signed_in.role());
    // Inline only new records of a few edits (a phone's usual exchange): the cost of a
    // merge grows with operations and with the stored documents, which bytes do not say.
    let mut operations_left = INLINE_OPERATIONS;
    let small = stored.is_empty()
        && request.documents.iter().flat_map(|d| &d.changes).all(|c| {
            match bmms_shared::sync::operations::operations_in_change(c, operations_left) {
                Ok(operations) => {
                    operations_left -= operations;
                    true
                }
                Err(_) => false,
            }
        });
    let weight = if small { request.documents.iter().flat_map(|d| &d.changes).map(Vec::len).sum() } else { usize::MAX };
    let merges = cpu.run_sized(weight, move || merge::merge_batch(&request_for_merge, stored, &actor, role)).await?;
    let mut merged_documents = Vec::new();
    for (incoming, (before, merge)) in request.documents.iter().zip(merges) {
        match merge {
            Ok(merged) => {
                let had_conflicts = before.as_ref().is_some_and(|s| !bmms_shared::records::conflicts(&s.doc).is_empty());
                let version = before.as_ref().map(|s| s.version);
                merged_documents.push((incoming, merged, version, had_conflicts));
            }
            Err(rejection) => outcome.rejections.push(rejection),
        }
    }
    // Sequence numbers are taken last (`log_and_audit`); until then each change has its
    // place in the batch, and each document the place of its first change.
    let first_offsets: Vec<u64> = merged_documents
        .iter()
        .scan(1, |next, (_, merged, _, _)| {
            let first = *next;
            *next += merged.new_changes.len() as u64;
            Some(first)
        })
        .collect();
    // New documents in one insert (their first sequence number is set with the log); an
    // id another organization holds is not inserted.
    let mut new_documents: Vec<(Uuid, bmms_shared::records::RecordKind, Vec<u8>, u64)> = Vec::new();
    for (incoming, merged, stored_version, _) in merged_documents.iter_mut() {
        if stored_version.is_none() && !new_documents.iter().any(|(id, ..)| *id == incoming.doc_id) {
            new_documents.push((incoming.doc_id, incoming.kind, merged.saved.clone(), 0));
        }
    }
    // Taken out as each is accepted, so a document sent twice in a batch counts once.
    let mut inserted = store::insert_documents(tx, &new_documents).await?;
    let mut applied = Applied { outcome, log: Vec::new(), first_offsets: Vec::new(), rows: materialize::Rows::default() };
    // The documents whose rows change, by id (the last state wins), written at the end.
    let mut changed_rows: BTreeMap<Uuid, usize> = BTreeMap::new();
    for ((incoming, merged, stored_version, had_conflicts), first_offset) in merged_documents.iter_mut().zip(first_offsets) {
        let version = match stored_version {
            None => {
                if !inserted.remove(&incoming.doc_id) {
                    applied.outcome.rejections.push(Rejection {
                        doc_id: incoming.doc_id,
                        code: RejectionCode::NotYours,
                        message: bmms_shared::sync::memory_server::UNUSABLE_ID.into(),
                    });
                    continue;
                }
                applied.first_offsets.push((incoming.doc_id, first_offset));
                1
            }
            Some(version) if merged.new_changes.is_empty() => *version,
            Some(_) => store::save_document(tx, incoming.doc_id, &merged.saved).await?,
        };
        committed.push((incoming.doc_id, version, incoming.kind, merged.doc.clone()));
        if !merged.new_changes.is_empty() {
            changed_rows.insert(incoming.doc_id, committed.len() - 1);
        }
        if *had_conflicts || !merged.conflicts.is_empty() {
            store::refresh_conflicts(tx, incoming.doc_id, &merged.conflicts).await?;
        }
        let changes = merged.new_changes.iter().enumerate();
        applied.log.extend(changes.map(|(i, change)| store::LogEntry {
            offset: first_offset + i as u64,
            doc_id: incoming.doc_id,
            change: change.clone(),
        }));
        applied.outcome.acknowledged.push(incoming.doc_id);
    }
    for (doc_id, at) in changed_rows {
        let (_, _, kind, doc) = &committed[at];
        applied.rows.add(doc_id, *kind, doc);
    }
    applied.outcome.rejections.sort_by_key(|r| ids.iter().position(|id| *id == r.doc_id));
    Ok(applied)
}

fn capitalized(sentence: &str) -> String {
    let mut chars = sentence.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

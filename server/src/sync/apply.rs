//! One sync exchange, told in order. [`exchange`]: decode the body (within the bounds),
//! then in one transaction ([`in_one_transaction`]) check the device and whether the batch
//! was seen before, write BPDA's decisions into the organization's proposals, read the
//! news, merge every document (each accepted or refused on its own: [`apply`], with the
//! CPU-heavy half in `merge.rs`), store the documents, their log,
//! rows and conflicts (`store.rs`, `materialize.rs`), audit, commit; then tell the desk
//! screens, cache the documents, and answer with what the device lacks. The SQL of
//! devices and batches is in `batches.rs`.

use axum::body::Bytes;
use axum::http::StatusCode;
use bmms_shared::records::RecordKind;
use bmms_shared::sync::bounds::Limit;
use bmms_shared::sync::protocol::{self, ProtocolError, Rejection, RejectionCode, SyncRequest, SyncResponse};
use bmms_shared::DocId;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::Caller;
use crate::db::{Db, OrgTx};
use crate::error::ApiError;
use crate::events::Topic;
use crate::limits::{CpuPool, INLINE_CODEC_BYTES, INLINE_OPERATIONS};
use crate::sync::batches::{self, Outcome, Seen};
use crate::sync::cache::DocumentCache;
use crate::sync::store::Holding;
use crate::sync::{materialize, merge, scope, store};

/// Handles a request body from `caller`; answers a response body. The CPU-heavy steps
/// (decoding, merging, encoding the answer) run on the limited [`CpuPool`], never on the
/// async threads.
pub async fn exchange(state: &AppState, caller: &Caller, body: Bytes) -> Result<Vec<u8>, ApiError> {
    let AppState { db, documents: cache, events, limits, .. } = state;
    let _slot = limits.syncs.enter(caller.user_id)?;
    // An app of an older protocol is answered in it (decoding refuses unknown versions).
    let speaks = protocol::version_of(&body).unwrap_or(protocol::PROTOCOL_VERSION);
    let (request, digest) = decode(&limits.cpu, body).await?;
    let connection = limits.sync_transactions.enter().await?;
    let exchanged = crate::db::retry_once(|| in_one_transaction(db, cache, &limits.cpu, caller, &request, &digest, speaks)).await?;
    drop(connection);
    state.metrics.sync_exchange(&request, &exchanged.response, exchanged.conflicts_opened);
    events.announce(caller.org_id, Topic::Devices);
    if !exchanged.response.acknowledged.is_empty() {
        // Conflicts may have opened or closed with any accepted change.
        events.announce(caller.org_id, Topic::Records);
        events.announce(caller.org_id, Topic::Conflicts);
    }
    for document in exchanged.committed {
        cache.put(caller.org_id, document.doc_id, document.version, document.kind, document.doc);
    }
    answer(&limits.cpu, exchanged.response, speaks).await
}

/// The request, and the SHA-256 of its body (a batch sent again must be the same bytes).
/// Most exchanges are small: decoded where they arrive if they inflate to at most
/// INLINE_CODEC_BYTES, otherwise (or a bomb) on the CPU pool, within the full bounds.
async fn decode(cpu: &CpuPool, body: Bytes) -> Result<(Arc<SyncRequest>, Vec<u8>), ApiError> {
    let read = |body: &[u8], max_inflated| {
        protocol::decode_request_within(body, max_inflated).map(|request| (Arc::new(request), Sha256::digest(body).to_vec()))
    };
    match read(&body, INLINE_CODEC_BYTES) {
        Err(ProtocolError::TooLarge(Limit::InflatedBytes)) => cpu.run(move || read(&body, bmms_shared::sync::bounds::MAX_INFLATED_BYTES)).await?,
        small => small,
    }
    .map_err(unreadable)
}

/// The response body, in the protocol version the device speaks; a large one is encoded
/// on the CPU pool.
async fn answer(cpu: &CpuPool, response: SyncResponse, speaks: u8) -> Result<Vec<u8>, ApiError> {
    let weight: usize = response.updates.iter().map(update_bytes).sum();
    if weight < INLINE_CODEC_BYTES {
        return Ok(protocol::encode_as(speaks, &response));
    }
    cpu.run(move || protocol::encode_as(speaks, &response)).await
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
    /// Same-field conflicts this exchange opened (for the metrics).
    conflicts_opened: u64,
}

/// A document as a batch left it, for the cache once the transaction has committed.
struct Committed {
    doc_id: DocId,
    /// The stored row's version (see [`DocumentCache`]).
    version: i64,
    kind: RecordKind,
    doc: automerge::AutoCommit,
}

/// The database part of an exchange, in one transaction (run again if PostgreSQL aborts
/// it for a deadlock: nothing of it is kept then).
async fn in_one_transaction(
    db: &Db,
    cache: &DocumentCache,
    cpu: &CpuPool,
    caller: &Caller,
    request: &Arc<SyncRequest>,
    digest: &[u8],
    speaks: u8,
) -> Result<Exchanged, ApiError> {
    let mut tx = OrgTx::begin(db, caller.org_id).await?;
    batches::lock_device(&mut tx, request.device_id).await?;
    let actor = batches::device_actor(&mut tx, request.device_id, caller.user_id).await?;
    let earlier = match batches::seen(&mut tx, request, digest).await? {
        Seen::New => None,
        Seen::Before(outcome) => Some(outcome),
        Seen::WithOtherContent => {
            tracing::warn!(device.id = %request.device_id, batch.id = %request.batch_id, "batch id reused with other content");
            let message = "This batch id was already used for other changes. Nothing was applied; the app will send them again as a new batch.";
            // Nothing of the batch is kept, but the supervisor's sync health shows the error.
            batches::record_refusal(&mut tx, request.device_id, message).await?;
            tx.commit().await?;
            return Err(ApiError::client(StatusCode::CONFLICT, "batch_reused", message));
        }
    };

    // BPDA's decisions on this organization's proposals are written into them first, so
    // that the news carries them and a returned proposal takes this batch's edits.
    crate::proposals::settle_decisions(&mut tx).await?;

    // The news is read first, before applying takes the organization's sequence and audit
    // locks, so that those are held only for the writes. The device's own new changes
    // will carry numbers above this head; they are never sent back to it anyway.
    let head = store::head(&mut tx).await?;
    // A field officer's device holds its scope: what entered it comes whole, what left it
    // is named (scope.rs). Other devices hold the organization, and one that held a scope
    // before (its owner's role changed) is sent everything whole.
    let scope = match scope::is_scoped(caller.role) {
        true => Some(scope::reconcile(&mut tx, request.device_id, caller.user_id, request.cursor, request.scope_version, speaks).await?),
        false => None,
    };
    let (holding, cursor) = match &scope {
        Some(scope) => (Holding::Scope(request.device_id, scope.delivered_up_to), request.cursor),
        None if scope::forget(&mut tx, request.device_id, request.scope_version).await? => (Holding::Organization, 0),
        None => (Holding::Organization, request.cursor),
    };
    let mut updates = store::updates_since(&mut tx, cursor, head, &actor, holding).await?;
    if let Some(scope) = &scope {
        updates.extend(scope::whole_documents(&mut tx, &scope.whole).await?);
        updates.sort_by_key(|u| u.doc_id);
    }
    // An older app could not read a document of a newer kind; it is not sent one. (An app
    // that updates reads the log again from the start once, and receives them then.)
    updates.retain(|update| update.kind.since_protocol() <= speaks);

    let (outcome, applied) = match earlier {
        Some(outcome) => (outcome, None),
        // A request with no changes only asks for news: nothing to apply or to remember.
        None if request.documents.is_empty() => (Outcome::default(), None),
        None => {
            let applied = apply(&mut tx, cache, cpu, caller, request, &actor).await?;
            batches::remember(&mut tx, request, digest, &applied.outcome).await?;
            (applied.outcome.clone(), Some(applied))
        }
    };

    batches::record_contact(&mut tx, request, &outcome).await?;
    let sent: Vec<DocId> = request.documents.iter().map(|d| d.doc_id).collect();
    let mut removed = Vec::new();
    let in_view: Vec<DocId> = match &scope {
        None => sent,
        Some(scope) => {
            // What the device sent is stored whatever its scope (nothing it made is lost);
            // a record outside the scope is then named for the device to drop, and no
            // news of it is sent.
            let in_scope = scope::holds(&mut tx, caller.user_id, &sent).await?;
            let (held, outside): (Vec<DocId>, Vec<DocId>) = outcome.acknowledged.iter().partition(|id| in_scope.contains(id));
            scope::settle_sent(&mut tx, request.device_id, &held, &outside, scope.version).await?;
            removed = scope.removed.iter().chain(outside.iter().filter(|id| !scope.removed.contains(id))).copied().collect();
            in_scope.into_iter().collect()
        }
    };
    let touched: BTreeSet<DocId> = in_view.into_iter().chain(updates.iter().map(|u| u.doc_id)).collect();
    let conflicts = store::open_conflicts(&mut tx, &touched.into_iter().collect::<Vec<_>>()).await?;
    let (committed, conflicts_opened) = match applied {
        Some(applied) => {
            let opened = applied.conflicts_opened;
            (log_and_audit(&mut tx, applied, caller, request).await?, opened)
        }
        None => (Vec::new(), 0),
    };
    tx.commit().await?;
    let response = SyncResponse {
        batch_id: request.batch_id,
        acknowledged: outcome.acknowledged,
        rejections: outcome.rejections,
        updates,
        conflicts,
        cursor: head,
        removed,
        complete: scope.as_ref().is_some_and(|s| s.complete),
        scope_version: scope.as_ref().map_or(0, |s| s.version),
    };
    Ok(Exchanged { response, committed, conflicts_opened })
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

/// A batch applied to its own documents, with what remains to write under the
/// organization's locks ([`log_and_audit`]).
struct Applied {
    outcome: Outcome,
    /// The accepted changes in batch order, each with its place in the batch (1, 2, …).
    log: Vec<store::LogEntry>,
    /// The new documents, with the place of their first change.
    first_offsets: Vec<(DocId, u64)>,
    rows: materialize::Rows,
    /// The documents as the batch leaves them.
    committed: Vec<Committed>,
    conflicts_opened: u64,
}

/// The part of an exchange that serializes the organization's writers: sequence numbers
/// for the batch's changes and the change log, the materialized rows (their summary
/// totals are shared by the whole organization) and the audit entry. Done last, just
/// before commit, so that the locks are held as briefly as possible. Returns the
/// documents as the batch left them.
async fn log_and_audit(tx: &mut OrgTx, applied: Applied, caller: &Caller, request: &SyncRequest) -> Result<Vec<Committed>, ApiError> {
    if !applied.log.is_empty() {
        store::log_changes(tx, &applied.log, &applied.first_offsets, request.device_id, caller.user_id).await?;
    }
    applied.rows.write(tx).await?;
    let outcome = &applied.outcome;
    audit::append(tx, Event {
        actor: &caller.actor(),
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
    Ok(applied.committed)
}

/// Merges every document of the batch and stores each document that was accepted; what
/// needs the organization's locks is left to [`log_and_audit`].
async fn apply(
    tx: &mut OrgTx,
    cache: &DocumentCache,
    cpu: &CpuPool,
    caller: &Caller,
    request: &Arc<SyncRequest>,
    actor: &[u8],
) -> Result<Applied, ApiError> {
    let mut outcome = Outcome::default();
    // A handful of statements per batch rather than per document: load every document at
    // once, reserve sequence numbers for all new changes at once, log them in one insert.
    let ids: Vec<DocId> = request.documents.iter().map(|d| d.doc_id).collect();
    let stored = store::load_documents_for_update(tx, &ids, cache, cpu).await?;
    let actor = automerge::ActorId::from(actor);
    let (request_for_merge, role) = (Arc::clone(request), caller.role);
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
    let mut new_documents: Vec<(DocId, RecordKind, Vec<u8>, u64)> = Vec::new();
    for (incoming, merged, stored_version, _) in merged_documents.iter_mut() {
        if stored_version.is_none() && !new_documents.iter().any(|(id, ..)| *id == incoming.doc_id) {
            new_documents.push((incoming.doc_id, incoming.kind, merged.saved.clone(), 0));
        }
    }
    // Taken out as each is accepted, so a document sent twice in a batch counts once.
    let mut inserted = store::insert_documents(tx, &new_documents, caller.user_id).await?;
    let mut applied =
        Applied { outcome, log: Vec::new(), first_offsets: Vec::new(), rows: materialize::Rows::default(), committed: Vec::new(), conflicts_opened: 0 };
    // The documents whose rows change, by id (the last state wins), written at the end.
    let mut changed_rows: BTreeMap<DocId, usize> = BTreeMap::new();
    for ((incoming, merged, stored_version, had_conflicts), first_offset) in merged_documents.iter_mut().zip(first_offsets) {
        let version = match stored_version {
            None => {
                if !inserted.remove(&incoming.doc_id) {
                    applied.outcome.rejections.push(Rejection {
                        doc_id: incoming.doc_id,
                        code: RejectionCode::NotYours,
                        message: bmms_shared::sync::merge::UNUSABLE_ID.into(),
                    });
                    continue;
                }
                applied.first_offsets.push((incoming.doc_id, first_offset));
                1
            }
            Some(version) if merged.new_changes.is_empty() => *version,
            Some(_) => store::save_document(tx, incoming.doc_id, &merged.saved).await?,
        };
        applied.committed.push(Committed { doc_id: incoming.doc_id, version, kind: incoming.kind, doc: merged.doc.clone() });
        if !merged.new_changes.is_empty() {
            changed_rows.insert(incoming.doc_id, applied.committed.len() - 1);
        }
        if *had_conflicts || !merged.conflicts.is_empty() {
            applied.conflicts_opened += store::refresh_conflicts(tx, incoming.doc_id, &merged.conflicts).await?;
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
        let document = &mut applied.committed[at];
        applied.rows.add(doc_id, document.kind, &mut document.doc);
    }
    applied.outcome.rejections.sort_by_key(|r| ids.iter().position(|id| *id == r.doc_id));
    Ok(applied)
}

fn capitalized(sentence: &str) -> String {
    let mut chars = sentence.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

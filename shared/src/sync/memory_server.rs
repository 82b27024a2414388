//! The server's sync rules over an in-memory store. [`read_changes`] and
//! [`merge_changes`] are the pure core (count and decode the changes, check the actor,
//! merge, validate) that the PostgreSQL server uses too; [`MemoryServer`] adds a change
//! log, batch idempotency and the answer, so that whole fleets of devices can be
//! simulated deterministically in tests. It knows no people: the policy of who may do
//! what (`crate::policy`) and the per-user limits are the PostgreSQL server's, tested there.

use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

use super::bounds::MAX_OPERATIONS_PER_REQUEST;
use super::operations::{operations_in_change, Uncountable};
use super::protocol::{
    self, DocumentChanges, DocumentConflicts, DocumentUpdate, ProtocolError, Rejection, RejectionCode,
    SyncRequest, SyncResponse, UpdateContent,
};
use crate::records::{self, DocumentError, RecordKind};

/// A document after a device's changes were merged into it.
#[derive(Debug)]
pub struct Merged {
    pub doc: AutoCommit,
    /// The changes that were new to the server, in the order applied.
    pub new_changes: Vec<Change>,
    pub conflicts: Vec<records::Conflict>,
    /// The document saved, as it was checked to load again.
    pub saved: Vec<u8>,
}

/// Merges `incoming` into the stored document (or a new one), refusing it whole if any
/// change does not decode, was made by another actor than the device's, or leaves the
/// document outside its schema: [`read_changes`], then [`merge_changes`].
pub fn merge_document(
    stored: Option<(&AutoCommit, RecordKind)>,
    incoming: &DocumentChanges,
    device_actor: &ActorId,
) -> Result<Merged, Rejection> {
    let mut operations_left = MAX_OPERATIONS_PER_REQUEST as u64;
    let changes = read_changes(incoming, device_actor, &mut operations_left)?;
    merge_changes(stored, incoming, changes)
}

/// The one refusal for a record id that cannot be used here, whatever the reason (it is
/// another organization's, or another kind of record's, or the changes name another id):
/// the same words for all, so that the answer does not tell whether an id exists
/// elsewhere.
pub const UNUSABLE_ID: &str = "This record's id cannot be used on the server. Copy what it holds into a new record.";

/// Decodes a document's incoming changes and checks that the device made them. Each
/// change's operations are counted first, from its bytes, and taken from
/// `operations_left`, the request's allowance ([`operations_in_change`]): Automerge walks
/// every operation a change claims when it decodes it, and a few bytes can claim billions.
/// A change must come as it was made ([`Change::raw_bytes`]): Automerge would inflate a
/// compressed one without bound.
pub fn read_changes(incoming: &DocumentChanges, device_actor: &ActorId, operations_left: &mut u64) -> Result<Vec<Change>, Rejection> {
    let refuse = |code, message: String| Rejection { doc_id: incoming.doc_id, code, message };
    let mut changes = Vec::with_capacity(incoming.changes.len());
    for bytes in &incoming.changes {
        let damaged = || refuse(RejectionCode::Undecodable, "A change to this record is damaged and could not be read. Keep the record; support can recover it.".into());
        match operations_in_change(bytes, *operations_left) {
            Ok(operations) => *operations_left -= operations,
            Err(Uncountable::Damaged) => return Err(damaged()),
            Err(Uncountable::TooMany) => {
                return Err(refuse(
                    RejectionCode::Invalid,
                    format!("The changes to this record hold more than {MAX_OPERATIONS_PER_REQUEST} edit operations, more than one sync may carry."),
                ))
            }
        }
        let change = Change::from_bytes(bytes.clone()).map_err(|_| damaged())?;
        if change.actor_id() != device_actor {
            return Err(refuse(RejectionCode::WrongActor, "A change to this record was not made on this device.".into()));
        }
        changes.push(change);
    }
    Ok(changes)
}

/// Merges decoded changes (see [`read_changes`]) into the stored document or a new one,
/// and checks the result against the schema.
pub fn merge_changes(stored: Option<(&AutoCommit, RecordKind)>, incoming: &DocumentChanges, changes: Vec<Change>) -> Result<Merged, Rejection> {
    let refuse = |code, message: String| Rejection { doc_id: incoming.doc_id, code, message };
    if let Some((_, kind)) = stored {
        if kind != incoming.kind {
            return Err(refuse(RejectionCode::NotYours, UNUSABLE_ID.into()));
        }
    }
    let mut doc = match stored {
        Some((doc, _)) => doc.clone(),
        None => AutoCommit::new(),
    };
    // Changes the server already has, or that the batch repeats, count once.
    let mut seen = std::collections::HashSet::new();
    let new_changes: Vec<Change> = changes
        .into_iter()
        .filter(|c| doc.get_change_by_hash(&c.hash()).is_none() && seen.insert(c.hash()))
        .collect();
    let damaged = || refuse(RejectionCode::Undecodable, "The changes to this record are damaged and could not be applied.".into());
    // Some damaged changes that still decode make Automerge panic (found by
    // tests/hostile_bytes.rs). The merge works on a copy, so a panic leaves nothing
    // half-done: it becomes a refusal of this document, not a failed request.
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.apply_changes(new_changes.clone())));
    if !matches!(applied, Ok(Ok(()))) {
        return Err(damaged());
    }
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(refuse(RejectionCode::Undecodable, "Some earlier changes to this record have not reached the server yet; sync again.".into()));
    }
    records::validate(&doc, incoming.kind).map_err(|err| match err {
        DocumentError::NewerSchema(version) => refuse(
            RejectionCode::NewerSchema,
            format!("This record was made by a newer version of BMMS (schema {version}). Update the app, then sync again."),
        ),
        DocumentError::WrongKind { .. } => refuse(RejectionCode::NotYours, UNUSABLE_ID.into()),
        other => refuse(RejectionCode::Invalid, format!("This record cannot be saved: {other}.")),
    })?;
    // Changes copied from another record would otherwise land here.
    if records::id_of(&doc) != Some(incoming.doc_id) {
        return Err(refuse(RejectionCode::NotYours, UNUSABLE_ID.into()));
    }
    // What is accepted must load again as it is. Automerge 0.6 applies some damaged changes
    // without complaint and would save a document that no longer loads: an operation on an
    // object that does not exist (it only warns), or a device's change that skips a number
    // of its sequence (which would also make a later `get_changes` panic).
    let saved = doc.save();
    let reloaded_heads = records::load_saved(&saved).map(|mut reloaded| reloaded.get_heads());
    if reloaded_heads.ok() != Some(doc.get_heads()) {
        return Err(damaged());
    }
    let conflicts = records::conflicts(&doc);
    Ok(Merged { doc, new_changes, conflicts, saved })
}

#[derive(Debug)]
struct StoredDocument {
    kind: RecordKind,
    doc: AutoCommit,
    /// Sequence number of the document's first logged change.
    first_seq: u64,
}

#[derive(Debug, Clone)]
struct LogEntry {
    seq: u64,
    doc_id: Uuid,
    actor: ActorId,
    hash: ChangeHash,
    bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
struct BatchOutcome {
    body_digest: Vec<u8>,
    acknowledged: Vec<Uuid>,
    rejections: Vec<Rejection>,
}

/// Faults that refuse a whole batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("this device is not registered")]
    UnknownDevice,
    #[error("this batch id was already used for different content")]
    ReplayedWithOtherContent,
}

/// One organization's sync server, in memory.
#[derive(Debug, Default)]
pub struct MemoryServer {
    devices: HashMap<Uuid, ActorId>,
    documents: BTreeMap<Uuid, StoredDocument>,
    log: Vec<LogEntry>,
    batches: HashMap<(Uuid, Uuid), BatchOutcome>,
}

impl MemoryServer {
    pub fn register_device(&mut self, device_id: Uuid, actor: ActorId) {
        self.devices.insert(device_id, actor);
    }

    /// Handles one request body; the answer is a response body.
    pub fn handle(&mut self, body: &[u8]) -> Result<Vec<u8>, BatchError> {
        let request: SyncRequest = protocol::decode(body)?;
        let actor = self.devices.get(&request.device_id).cloned().ok_or(BatchError::UnknownDevice)?;
        let digest = digest(body);
        let key = (request.device_id, request.batch_id);
        let outcome = match self.batches.get(&key) {
            Some(done) if done.body_digest != digest => return Err(BatchError::ReplayedWithOtherContent),
            Some(done) => done.clone(),
            None => {
                let outcome = self.apply(&request, &actor, digest);
                self.batches.insert(key, outcome.clone());
                outcome
            }
        };
        let mut touched: BTreeSet<Uuid> = request.documents.iter().map(|d| d.doc_id).collect();
        let updates = self.updates_since(request.cursor, &actor);
        touched.extend(updates.iter().map(|u| u.doc_id));
        let conflicts = touched
            .into_iter()
            .filter_map(|doc_id| {
                let conflicts = records::conflicts(&self.documents.get(&doc_id)?.doc);
                (!conflicts.is_empty()).then_some(DocumentConflicts { doc_id, conflicts })
            })
            .collect();
        let response = SyncResponse {
            batch_id: request.batch_id,
            acknowledged: outcome.acknowledged,
            rejections: outcome.rejections,
            updates,
            conflicts,
            cursor: self.head(),
        };
        Ok(protocol::encode(&response))
    }

    fn apply(&mut self, request: &SyncRequest, actor: &ActorId, body_digest: Vec<u8>) -> BatchOutcome {
        let mut outcome = BatchOutcome { body_digest, acknowledged: vec![], rejections: vec![] };
        for incoming in &request.documents {
            let stored = self.documents.get(&incoming.doc_id).map(|s| (&s.doc, s.kind));
            match merge_document(stored, incoming, actor) {
                Ok(merged) => {
                    let first_seq = self.head() + 1;
                    for change in &merged.new_changes {
                        let seq = self.head() + 1;
                        self.log.push(LogEntry {
                            seq,
                            doc_id: incoming.doc_id,
                            actor: change.actor_id().clone(),
                            hash: change.hash(),
                            bytes: change.raw_bytes().to_vec(),
                        });
                    }
                    let entry = self.documents.entry(incoming.doc_id).or_insert(StoredDocument {
                        kind: incoming.kind,
                        doc: AutoCommit::new(),
                        first_seq,
                    });
                    entry.doc = merged.doc;
                    outcome.acknowledged.push(incoming.doc_id);
                }
                Err(rejection) => outcome.rejections.push(rejection),
            }
        }
        outcome
    }

    /// Everything logged after `cursor` that `actor` did not write itself: whole documents
    /// it has never had, changes for the others.
    fn updates_since(&mut self, cursor: u64, actor: &ActorId) -> Vec<DocumentUpdate> {
        let mut by_doc: BTreeMap<Uuid, Vec<Vec<u8>>> = BTreeMap::new();
        for entry in self.log.iter().filter(|e| e.seq > cursor && &e.actor != actor) {
            by_doc.entry(entry.doc_id).or_default().push(entry.bytes.clone());
        }
        by_doc
            .into_iter()
            .filter_map(|(doc_id, changes)| {
                let stored = self.documents.get_mut(&doc_id)?;
                let content = if stored.first_seq > cursor {
                    UpdateContent::Snapshot(stored.doc.save())
                } else {
                    UpdateContent::Changes(changes)
                };
                Some(DocumentUpdate { doc_id, kind: stored.kind, content })
            })
            .collect()
    }

    fn head(&self) -> u64 {
        self.log.last().map(|e| e.seq).unwrap_or(0)
    }

    /// The stored document (tests compare replicas with it).
    pub fn document(&self, doc_id: Uuid) -> Option<&AutoCommit> {
        self.documents.get(&doc_id).map(|s| &s.doc)
    }

    pub fn document_ids(&self) -> Vec<Uuid> {
        self.documents.keys().copied().collect()
    }

    /// Hashes of every logged change, in log order (duplicates would show here).
    pub fn logged_hashes(&self) -> Vec<ChangeHash> {
        self.log.iter().map(|e| e.hash).collect()
    }
}

/// What identifies a batch's content: the whole body, cursor included, since a true retry
/// resends exactly the same bytes. (In memory the body itself will do; the PostgreSQL
/// server keeps its SHA-256.)
fn digest(body: &[u8]) -> Vec<u8> {
    body.to_vec()
}


//! The server's sync rules over an in-memory store, a test double of the PostgreSQL
//! server: the same merge ([`super::merge`]), with a change log, batch idempotency and
//! the answer, so that whole fleets of devices can be simulated deterministically in tests.
//! It knows no people: the policy of who may do what (`crate::policy`) and the per-user
//! limits are the PostgreSQL server's, tested there.

use automerge::{ActorId, AutoCommit, ChangeHash};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::merge::merge_document;
use super::protocol::{
    self, DocumentConflicts, DocumentUpdate, ProtocolError, Rejection, SyncRequest, SyncResponse, UpdateContent,
};
use crate::records::{self, RecordKind};
use crate::{BatchId, DeviceId, DocId};

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
    doc_id: DocId,
    actor: ActorId,
    hash: ChangeHash,
    bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
struct BatchOutcome {
    body_digest: Vec<u8>,
    acknowledged: Vec<DocId>,
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
    devices: HashMap<DeviceId, ActorId>,
    documents: BTreeMap<DocId, StoredDocument>,
    log: Vec<LogEntry>,
    batches: HashMap<(DeviceId, BatchId), BatchOutcome>,
}

impl MemoryServer {
    pub fn register_device(&mut self, device_id: DeviceId, actor: ActorId) {
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
        let mut touched: BTreeSet<DocId> = request.documents.iter().map(|d| d.doc_id).collect();
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
            // The in-memory server keeps no scopes: every device holds everything.
            removed: vec![],
            complete: false,
            scope_version: 0,
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
        let mut by_doc: BTreeMap<DocId, Vec<Vec<u8>>> = BTreeMap::new();
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
    pub fn document(&self, doc_id: DocId) -> Option<&AutoCommit> {
        self.documents.get(&doc_id).map(|s| &s.doc)
    }

    pub fn document_ids(&self) -> Vec<DocId> {
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


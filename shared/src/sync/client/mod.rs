//! The device side of sync, with no I/O: it keeps the documents, the outbox of changes
//! the server has not acknowledged, the cursor, and the retry schedule. The app (and the
//! tests) move bytes; this decides what to send and what an answer means.
//!
//! The acknowledgement rules (DESIGN.md, invariant 1): a change leaves the outbox only
//! when an answer to the batch that carried it acknowledges its document; a refused
//! change stays, marked with the reason; an exchange that fails is retried with the
//! same batch id, so the server can tell a retry from new work.

use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use std::collections::{BTreeMap, BTreeSet};
use crate::{DeviceId, DocId};

mod background;
mod batch;
mod local;
mod scope;
mod stored;
pub use local::LocalDocument;
pub use stored::{RestoreError, StoredChange, StoredRecord};
use batch::{BatchBudget, InFlight};

use super::protocol::{self, ProtocolError, Rejection, SyncResponse, UpdateContent};
use crate::records::{self, Conflict, RecordKind};

/// Waits between failed exchanges: 2 s, doubling, at most 5 minutes.
const FIRST_RETRY_MS: u64 = 2_000;
const MAX_RETRY_MS: u64 = 300_000;

/// A change the server has not acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingChange {
    pub hash: ChangeHash,
    pub bytes: Vec<u8>,
    /// Set when the server refused the document; the change is kept for the officer.
    pub rejected: Option<Rejection>,
}

/// The sync state of one device.
#[derive(Debug, Clone)]
pub struct SyncClient {
    device_id: DeviceId,
    actor: ActorId,
    cursor: u64,
    /// The scope version of the last answer taken (see `SyncResponse::scope_version`).
    scope_version: u64,
    documents: BTreeMap<DocId, LocalDocument>,
    outbox: BTreeMap<DocId, Vec<PendingChange>>,
    in_flight: Option<InFlight>,
    budget: BatchBudget,
    failures: u32,
    next_attempt_ms: u64,
    /// Records changed since the app last saved them ([`SyncClient::take_unsaved`]).
    unsaved: BTreeSet<DocId>,
    /// True when the cursor changed since the app last saved it.
    cursor_unsaved: bool,
    /// Records that left the device since the app last saved (its scope no longer holds
    /// them): the app deletes them from storage ([`SyncClient::take_removed`]).
    removed: BTreeSet<DocId>,
}

/// Where a record stands, for the badge the officer sees on it.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordSyncState {
    /// The server has every change.
    Synced,
    /// Saved on this device; this many changes wait to be sent.
    Waiting(usize),
    /// The server refused the record's changes; they are kept until the officer fixes it.
    Refused(Rejection),
    /// Two people changed the same field; a supervisor decides.
    InConflict(Vec<Conflict>),
}

/// Why an edit was not made.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("there is no such record on this device")]
    NoSuchDocument,
    #[error(transparent)]
    Field(#[from] records::FieldError),
    #[error(transparent)]
    Document(#[from] records::DocumentError),
}

impl SyncClient {
    /// A device whose changes carry `actor` (bound to the device at registration).
    pub fn new(device_id: DeviceId, actor: ActorId) -> Self {
        SyncClient {
            device_id,
            actor,
            cursor: 0,
            scope_version: 0,
            documents: BTreeMap::new(),
            outbox: BTreeMap::new(),
            in_flight: None,
            budget: BatchBudget::SERVER,
            failures: 0,
            next_attempt_ms: 0,
            unsaved: BTreeSet::new(),
            cursor_unsaved: false,
            removed: BTreeSet::new(),
        }
    }

    /// The badge of one record.
    pub fn record_state(&self, doc_id: DocId) -> RecordSyncState {
        let pending = self.outbox.get(&doc_id).map(Vec::as_slice).unwrap_or_default();
        if let Some(rejection) = pending.iter().find_map(|c| c.rejected.clone()) {
            return RecordSyncState::Refused(rejection);
        }
        if !pending.is_empty() {
            return RecordSyncState::Waiting(pending.len());
        }
        match self.documents.get(&doc_id) {
            Some(local) if !local.conflicts.is_empty() => RecordSyncState::InConflict(local.conflicts.clone()),
            _ => RecordSyncState::Synced,
        }
    }

    /// The actor id this device's changes carry.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    pub fn device_id(&self) -> DeviceId {
        self.device_id
    }

    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Stored beside the cursor, and written whenever it is.
    pub fn scope_version(&self) -> u64 {
        self.scope_version
    }

    pub fn documents(&self) -> &BTreeMap<DocId, LocalDocument> {
        &self.documents
    }

    /// Every change not yet acknowledged, by document.
    pub fn outbox(&self) -> &BTreeMap<DocId, Vec<PendingChange>> {
        &self.outbox
    }

    /// How many changes wait to be sent, refused ones not counted (they wait for a fix).
    pub fn sendable_count(&self) -> usize {
        self.outbox.values().flatten().filter(|c| c.rejected.is_none()).count()
    }

    /// How many changes wait to be sent (refused ones included).
    pub fn pending_count(&self) -> usize {
        self.outbox.values().map(Vec::len).sum()
    }

    /// How many changes the server refused (kept until the officer corrects their record).
    pub fn refused_count(&self) -> usize {
        self.outbox.values().flatten().filter(|change| change.rejected.is_some()).count()
    }

    /// True when some change is waiting that the next exchange would send.
    pub fn has_unsent(&self) -> bool {
        self.outbox.values().flatten().any(|change| change.rejected.is_none())
    }

    /// Creates a record on the device; it reaches the server at the next exchange.
    pub fn create(&mut self, doc_id: DocId, kind: RecordKind) -> DocId {
        let mut doc = records::new_document(doc_id, kind, self.actor.clone());
        let changes = records::changes_since(&mut doc, &[]);
        self.documents.insert(doc_id, LocalDocument::new(kind, doc));
        self.queue(doc_id, changes);
        doc_id
    }

    /// Edits a record through the schema-checked editor and queues the resulting change.
    pub fn edit(
        &mut self,
        doc_id: DocId,
        edit: impl FnOnce(&mut records::RecordEditor<'_>) -> Result<(), records::FieldError>,
    ) -> Result<(), EditError> {
        let doc = self.documents.get_mut(&doc_id).ok_or(EditError::NoSuchDocument)?.doc_mut(&self.actor)?;
        let before = doc.get_heads();
        let mut editor = records::RecordEditor::new(doc)?;
        if let Err(err) = edit(&mut editor) {
            // Nothing half-done stays behind.
            doc.rollback();
            return Err(err.into());
        }
        doc.commit();
        let changes = records::changes_since(doc, &before);
        // A new edit of a refused record is the officer's fix: the refused changes go out
        // again with it (the fix depends on them, so the server needs both).
        for change in self.outbox.get_mut(&doc_id).into_iter().flatten() {
            change.rejected = None;
        }
        self.queue(doc_id, changes);
        Ok(())
    }

    /// Edits a record with raw Automerge access (no schema checks): for tests that need
    /// to send what a faulty or hostile device would.
    pub fn edit_unchecked(&mut self, doc_id: DocId, edit: impl FnOnce(&mut AutoCommit)) -> Result<(), EditError> {
        let doc = self.documents.get_mut(&doc_id).ok_or(EditError::NoSuchDocument)?.doc_mut(&self.actor)?;
        let before = doc.get_heads();
        edit(doc);
        doc.commit();
        let changes = records::changes_since(doc, &before);
        self.queue(doc_id, changes);
        Ok(())
    }

    fn queue(&mut self, doc_id: DocId, changes: Vec<Change>) {
        self.unsaved.insert(doc_id);
        let pending = self.outbox.entry(doc_id).or_default();
        for change in changes {
            pending.push(PendingChange { hash: change.hash(), bytes: change.raw_bytes().to_vec(), rejected: None });
        }
    }

    /// The officer asked to sync now, or the network just came back: the next request is
    /// due at once, whatever the backoff said.
    pub fn retry_now(&mut self) {
        self.next_attempt_ms = 0;
    }

    /// The exchange failed (no answer, a dropped connection, a 5xx): retry the same batch
    /// later, waiting longer each time.
    pub fn on_failure(&mut self, now_ms: u64) {
        self.failures = self.failures.saturating_add(1);
        let doublings = self.failures.saturating_sub(1).min(16);
        let wait = FIRST_RETRY_MS.saturating_mul(1 << doublings).min(MAX_RETRY_MS);
        self.next_attempt_ms = now_ms.saturating_add(wait);
    }

    /// The server refused the batch as a whole without applying it (its id was already
    /// used): the changes stay in the outbox and go out again in a new batch.
    pub fn on_refused(&mut self, now_ms: u64) {
        self.in_flight = None;
        self.on_failure(now_ms);
    }

    /// Takes the server's answer. An answer to another batch than the one in flight (a
    /// late duplicate) changes nothing.
    pub fn on_response(&mut self, body: &[u8]) -> Result<ResponseSummary, ProtocolError> {
        let response: SyncResponse = protocol::decode(body)?;
        let Some(in_flight) = self.in_flight.take_if(|f| f.batch_id == response.batch_id) else {
            return Ok(ResponseSummary::default());
        };
        let mut summary = ResponseSummary::default();
        for doc_id in &response.acknowledged {
            let sent = in_flight.sent.get(doc_id).cloned().unwrap_or_default();
            if let Some(pending) = self.outbox.get_mut(doc_id) {
                let before = pending.len();
                pending.retain(|c| !sent.contains(&c.hash));
                summary.acknowledged += before - pending.len();
                self.unsaved.insert(*doc_id);
                if pending.is_empty() {
                    self.outbox.remove(doc_id);
                }
            }
        }
        for rejection in &response.rejections {
            let sent = in_flight.sent.get(&rejection.doc_id).cloned().unwrap_or_default();
            for change in self.outbox.get_mut(&rejection.doc_id).into_iter().flatten() {
                if sent.contains(&change.hash) {
                    change.rejected = Some(rejection.clone());
                    summary.rejected += 1;
                }
            }
            self.unsaved.insert(rejection.doc_id);
        }
        let updated: Vec<DocId> = response.updates.iter().map(|u| u.doc_id).collect();
        let mut all_taken = true;
        for update in response.updates {
            all_taken &= self.apply_update(update.doc_id, update.kind, update.content);
            summary.updated += 1;
        }
        // The answer lists the open conflicts of every document it touched; a touched
        // document it does not list has none left (a supervisor settled them).
        for doc_id in response.acknowledged.iter().chain(&updated) {
            if let Some(local) = self.documents.get_mut(doc_id) {
                if !local.conflicts.is_empty() {
                    local.conflicts.clear();
                    self.unsaved.insert(*doc_id);
                }
            }
        }
        for conflicts in response.conflicts {
            if let Some(local) = self.documents.get_mut(&conflicts.doc_id) {
                local.conflicts = conflicts.conflicts;
                self.unsaved.insert(conflicts.doc_id);
            }
        }
        if !all_taken {
            // News for a record whose stored copy no longer loads could not be taken: ask
            // for everything again, which comes as whole documents and repairs it.
            self.cursor = 0;
            self.cursor_unsaved = true;
        } else if response.cursor > self.cursor {
            self.cursor = response.cursor;
            self.cursor_unsaved = true;
        }
        let kept: BTreeSet<DocId> = updated.iter().chain(&response.acknowledged).copied().collect();
        summary.removed = self.leave_scope(&kept, &response.removed, response.complete);
        if response.scope_version != self.scope_version {
            self.scope_version = response.scope_version;
            self.cursor_unsaved = true;
        }
        self.failures = 0;
        self.next_attempt_ms = 0;
        Ok(summary)
    }

    /// Takes one document's news; false when it could not (see [`Self::repair`]).
    fn apply_update(&mut self, doc_id: DocId, kind: RecordKind, content: UpdateContent) -> bool {
        self.unsaved.insert(doc_id);
        let local =
            self.documents.entry(doc_id).or_insert_with(|| LocalDocument::new(kind, AutoCommit::new()));
        let Ok(doc) = local.doc_mut(&self.actor) else { return self.repair(doc_id, kind, content) };
        // The server only sends what decoded and merged on its side; anything else is ignored
        // rather than allowed to break the device.
        match content {
            UpdateContent::Changes(changes) => {
                let changes: Vec<Change> = changes.into_iter().filter_map(|c| Change::from_bytes(c).ok()).collect();
                let _ = doc.apply_changes(changes);
            }
            UpdateContent::Snapshot(bytes) => {
                let _ = doc.load_incremental(&bytes);
            }
        }
        true
    }

    /// News for a record whose stored copy no longer loads. A whole document from the
    /// server replaces it, with this device's unsent changes applied again (they stay in
    /// the outbox); mere changes cannot be applied to it, and it stays as stored.
    fn repair(&mut self, doc_id: DocId, kind: RecordKind, content: UpdateContent) -> bool {
        let UpdateContent::Snapshot(bytes) = content else { return false };
        let Ok(mut doc) = records::load_saved(&bytes) else { return false };
        let unsent = self.outbox.get(&doc_id).into_iter().flatten();
        let _ = doc.apply_changes(unsent.filter_map(|c| Change::from_bytes(c.bytes.clone()).ok()));
        doc.set_actor(self.actor.clone());
        let conflicts = self.documents.get(&doc_id).map(|local| local.conflicts.clone()).unwrap_or_default();
        let mut repaired = LocalDocument::new(kind, doc);
        repaired.conflicts = conflicts;
        self.documents.insert(doc_id, repaired);
        true
    }

    /// True when an exchange is waiting for its answer.
    pub fn is_in_flight(&self) -> bool {
        self.in_flight.is_some()
    }
}

/// What an answer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseSummary {
    pub acknowledged: usize,
    pub rejected: usize,
    pub updated: usize,
    /// Records that left the device's scope.
    pub removed: usize,
}

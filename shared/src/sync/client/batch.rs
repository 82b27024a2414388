//! What one request carries: the next batch from the outbox, within the server's bounds
//! or less after a 413, and the batch in flight until it is answered.

use automerge::ChangeHash;
use std::collections::BTreeMap;

use super::{PendingChange, SyncClient};
use crate::records::RecordKind;
use crate::sync::bounds;
use crate::sync::protocol::{self, DocumentChanges, Rejection, RejectionCode, SyncRequest, MAX_REQUEST_BYTES};
use crate::{BatchId, DocId};

/// The changes one request carries, in bytes before compression: within the server's
/// body limit even if they do not compress, with room for the request's other fields.
const MAX_BATCH_BYTES: usize = MAX_REQUEST_BYTES - 64 * 1024;

/// The batch sent and not yet answered: sent again as it is until it is.
#[derive(Debug, Clone)]
pub(super) struct InFlight {
    pub(super) batch_id: BatchId,
    body: Vec<u8>,
    /// The changes this batch carries, per document.
    pub(super) sent: BTreeMap<DocId, Vec<ChangeHash>>,
    /// What it carries, as the budget counts it.
    carried: BatchBudget,
}

impl InFlight {
    pub(super) fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The batch `body` (which decoded to `request`) as in flight: what a request sent by
    /// the service worker carried, so that its answer is taken as any other.
    pub(super) fn sent_as(body: Vec<u8>, request: SyncRequest) -> InFlight {
        let mut sent = BTreeMap::new();
        let mut carried = BatchBudget { bytes: 0, changes: 0 };
        for document in request.documents {
            carried.changes += document.changes.len();
            carried.bytes += document.changes.iter().map(|c| c.len() + 48).sum::<usize>();
            let hashes = document.changes.into_iter().filter_map(|c| automerge::Change::from_bytes(c).ok()).map(|c| c.hash());
            sent.insert(document.doc_id, hashes.collect());
        }
        InFlight { batch_id: request.batch_id, body, sent, carried }
    }
}

/// How much one request may carry: the server's own bounds at first; less once a request
/// was answered 413, which a proxy on the way (nginx allows 1 MiB unless told otherwise)
/// or a server configured lower can answer to what the server itself would take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BatchBudget {
    bytes: usize,
    changes: usize,
}

impl BatchBudget {
    pub(super) const SERVER: BatchBudget = BatchBudget { bytes: MAX_BATCH_BYTES, changes: bounds::MAX_CHANGES_PER_REQUEST };
}

impl SyncClient {
    /// The next request to send at time `now_ms`, if one is due: the batch in flight
    /// again (same id), or a new batch of every dirty document's unrefused changes. With
    /// nothing to send it still asks for what others changed. `fresh_batch_id` must be
    /// random (the sans-IO core has no random source): a reused id with other content
    /// would be refused by the server.
    pub fn next_request(&mut self, now_ms: u64, fresh_batch_id: BatchId) -> Option<(BatchId, Vec<u8>)> {
        if now_ms < self.next_attempt_ms {
            return None;
        }
        if let Some(in_flight) = &self.in_flight {
            return Some((in_flight.batch_id, in_flight.body.clone()));
        }
        let in_flight = self.batch(fresh_batch_id);
        let request = (in_flight.batch_id, in_flight.body.clone());
        self.in_flight = Some(in_flight);
        Some(request)
    }

    /// A new batch of every dirty document's unrefused changes, within the budget.
    pub(super) fn batch(&self, batch_id: BatchId) -> InFlight {
        let mut documents = Vec::new();
        let mut sent = BTreeMap::new();
        // Within the server's bounds (`bounds`): what does not fit goes in the next
        // exchange. A record's changes may be split, oldest first (each depends only on
        // those before it); a single change larger than the body limit still goes alone.
        let (mut changes_left, mut bytes_left) = (self.budget.changes, self.budget.bytes);
        for (doc_id, pending) in &self.outbox {
            if documents.len() == bounds::MAX_DOCUMENTS_PER_REQUEST || changes_left == 0 {
                break;
            }
            let mut fresh: Vec<&PendingChange> = Vec::new();
            for change in pending.iter().filter(|c| c.rejected.is_none()) {
                // A change's bytes, and its length and the document's fields around them.
                let cost = change.bytes.len() + 48;
                let first_of_all = documents.is_empty() && fresh.is_empty();
                if fresh.len() == changes_left || (cost > bytes_left && !first_of_all) {
                    break;
                }
                bytes_left = bytes_left.saturating_sub(cost);
                fresh.push(change);
            }
            if fresh.is_empty() {
                if pending.iter().any(|c| c.rejected.is_none()) {
                    break; // Full: this record goes in the next exchange.
                }
                continue;
            }
            changes_left -= fresh.len();
            let kind = self.documents.get(doc_id).map(|d| d.kind).unwrap_or(RecordKind::ManaAssessment);
            documents.push(DocumentChanges { doc_id: *doc_id, kind, changes: fresh.iter().map(|c| c.bytes.clone()).collect() });
            sent.insert(*doc_id, fresh.iter().map(|c| c.hash).collect());
        }
        let carried = BatchBudget { bytes: self.budget.bytes - bytes_left.min(self.budget.bytes), changes: self.budget.changes - changes_left };
        let request = SyncRequest { device_id: self.device_id, batch_id, cursor: self.cursor, documents, scope_version: self.scope_version };
        InFlight { batch_id, body: protocol::encode(&request), sent, carried }
    }

    /// The request was too large for the way to the server (413), and nothing of it was
    /// applied: the next one carries at most half as much, at once, and so do all after it
    /// (the budget only shrinks; a reload starts again from the server's bounds). A record
    /// whose single change was too large alone is marked refused, with every change of it
    /// still waiting, so that the officer sees why and the other records go on.
    pub fn on_too_large(&mut self, now_ms: u64) {
        let Some(in_flight) = self.in_flight.take() else { return };
        if in_flight.carried.changes > 1 {
            self.budget = BatchBudget {
                bytes: (in_flight.carried.bytes / 2).max(1),
                changes: (in_flight.carried.changes / 2).max(1),
            };
            self.next_attempt_ms = 0;
            return;
        }
        let Some(doc_id) = in_flight.sent.keys().next().copied() else {
            // Even a request with no changes was too large: not this device's doing.
            return self.on_failure(now_ms);
        };
        let rejection = Rejection {
            doc_id,
            code: RejectionCode::TooLarge,
            message: "One edit of this record is larger than the server accepts, so it cannot be sent. \
                      It stays on this device: export it from the device page and give the file to your supervisor."
                .into(),
        };
        for change in self.outbox.get_mut(&doc_id).into_iter().flatten() {
            change.rejected.get_or_insert_with(|| rejection.clone());
        }
        self.unsaved.insert(doc_id);
        self.next_attempt_ms = 0;
    }
}

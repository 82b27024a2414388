//! The device's side of the sync scope (docs/sync-protocol.md, "Sync scope"): records
//! the server says left the device's scope are dropped, never one with unsent changes,
//! and the app deletes them from its storage with its next write.

use std::collections::BTreeSet;
use crate::DocId;

use super::SyncClient;

impl SyncClient {
    /// Drops the records that left the device's scope: those `removed` names (which may
    /// have been acknowledged in the same answer), and, after a `complete` answer, every
    /// record it neither sent nor acknowledged (`kept`). A record with unsent changes
    /// stays until they are acknowledged (the server names it again then). Returns how
    /// many were dropped.
    pub(super) fn leave_scope(&mut self, kept: &BTreeSet<DocId>, removed: &[DocId], complete: bool) -> usize {
        let mut leaving: Vec<DocId> = removed.to_vec();
        if complete {
            leaving.extend(self.documents.keys().filter(|id| !kept.contains(id)));
        }
        let mut dropped = 0;
        for doc_id in leaving {
            if self.outbox.contains_key(&doc_id) || self.documents.remove(&doc_id).is_none() {
                continue;
            }
            self.unsaved.remove(&doc_id);
            self.removed.insert(doc_id);
            dropped += 1;
        }
        dropped
    }

    /// Records dropped since the last call: the app deletes them from its storage with the
    /// next write ([`SyncClient::mark_removed`] if that write fails).
    pub fn take_removed(&mut self) -> Vec<DocId> {
        // A record that came back meanwhile (sent whole again, imported) stays.
        let documents = &self.documents;
        std::mem::take(&mut self.removed).into_iter().filter(|id| !documents.contains_key(id)).collect()
    }

    /// Records whose deletion from storage failed: named by the next [`Self::take_removed`]
    /// again (unless the device took them back meanwhile).
    pub fn mark_removed(&mut self, ids: impl IntoIterator<Item = DocId>) {
        let again: Vec<DocId> = ids.into_iter().filter(|id| !self.documents.contains_key(id)).collect();
        self.removed.extend(again);
        self.cursor_unsaved = true;
    }
}

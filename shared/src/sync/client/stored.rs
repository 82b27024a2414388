//! The device's sync state as the app keeps it between sessions (IndexedDB, in the
//! browser): one [`StoredRecord`] per record, written after every edit and exchange for
//! exactly the records [`SyncClient::take_unsaved`] names, and read back with
//! [`SyncClient::restore`]. Also the officer's last resort: export and import of the
//! unsynced edits.

use automerge::{ActorId, Change};
use serde::{Deserialize, Serialize};
use crate::{DeviceId, DocId};

use super::{LocalDocument, PendingChange, SyncClient};
use crate::records::{self, Conflict, RecordKind};
use crate::sync::protocol::Rejection;

/// One record as the device keeps it between sessions (in IndexedDB, in the app): the
/// document, its unacknowledged changes and its open conflicts. Encoded with
/// the sync codec (`protocol::encode_uncompressed`), whose version byte says how to read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    pub doc_id: DocId,
    pub kind: RecordKind,
    /// `AutoCommit::save` of the document.
    pub document: Vec<u8>,
    pub pending: Vec<StoredChange>,
    pub conflicts: Vec<Conflict>,
}

/// An unacknowledged change as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredChange {
    pub bytes: Vec<u8>,
    pub rejected: Option<Rejection>,
}

impl StoredChange {
    fn into_pending(self) -> Result<PendingChange, RestoreError> {
        let hash = Change::from_bytes(self.bytes.clone()).map_err(|_| RestoreError::Change)?.hash();
        Ok(PendingChange { hash, bytes: self.bytes, rejected: self.rejected })
    }
}

/// Why stored state could not be loaded back.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("a saved record could not be read: {0}")]
    Document(#[from] records::DocumentError),
    #[error("a saved change could not be read")]
    Change,
}

impl SyncClient {
    /// A device as it was saved: its identity, cursor and records. Its scope version
    /// starts at 0 (nothing known): [`SyncClient::with_scope_version`] sets the stored one.
    pub fn restore(device_id: DeviceId, actor: ActorId, cursor: u64, records: Vec<StoredRecord>) -> Result<Self, RestoreError> {
        let mut client = SyncClient::new(device_id, actor);
        client.cursor = cursor;
        for record in records {
            client.put_stored(record)?;
        }
        client.unsaved.clear();
        Ok(client)
    }

    /// The scope version stored beside the cursor, when the cursor is restored as it was
    /// stored (a cursor 0 included: an organization with no records yet). A caller that
    /// starts the cursor again from 0 gives 0 here: the next answer is then complete.
    pub fn with_scope_version(mut self, scope_version: u64) -> Self {
        self.scope_version = scope_version;
        self
    }

    /// Takes a stored record. Its document is loaded when first used, not here: a device
    /// with thousands of records starts in a fraction of the time.
    fn put_stored(&mut self, record: StoredRecord) -> Result<(), RestoreError> {
        let mut pending = Vec::with_capacity(record.pending.len());
        for change in record.pending {
            pending.push(change.into_pending()?);
        }
        if !pending.is_empty() {
            self.outbox.insert(record.doc_id, pending);
        }
        self.documents.insert(record.doc_id, LocalDocument::stored(record.kind, record.document, record.conflicts));
        self.unsaved.insert(record.doc_id);
        Ok(())
    }

    /// The record as the app stores it; `None` for a record this device does not have.
    pub fn stored_record(&mut self, doc_id: DocId) -> Option<StoredRecord> {
        let local = self.documents.get_mut(&doc_id)?;
        let pending = self.outbox.get(&doc_id).into_iter().flatten();
        Some(StoredRecord {
            doc_id,
            kind: local.kind,
            document: local.save(),
            pending: pending.map(|c| StoredChange { bytes: c.bytes.clone(), rejected: c.rejected.clone() }).collect(),
            conflicts: local.conflicts.clone(),
        })
    }

    /// The records changed since the last call, and whether the cursor moved: the app
    /// writes exactly these (in one IndexedDB transaction) after every edit and exchange.
    pub fn take_unsaved(&mut self) -> (Vec<DocId>, bool) {
        let records = std::mem::take(&mut self.unsaved).into_iter().collect();
        (records, std::mem::take(&mut self.cursor_unsaved))
    }

    /// Records whose write failed: they are reported by the next [`take_unsaved`] again, so
    /// the device's storage never holds a cursor ahead of the records it covers.
    ///
    /// [`take_unsaved`]: SyncClient::take_unsaved
    pub fn mark_unsaved(&mut self, ids: impl IntoIterator<Item = DocId>) {
        self.unsaved.extend(ids);
        self.cursor_unsaved = true;
    }

    /// Every record that has changes the server has not acknowledged, as stored: what
    /// "export unsynced edits" writes to a file.
    pub fn export_unsynced(&mut self) -> Vec<StoredRecord> {
        let ids: Vec<DocId> = self.outbox.keys().copied().collect();
        ids.into_iter().filter_map(|id| self.stored_record(id)).collect()
    }

    /// Takes back records exported earlier: documents are merged, and their unacknowledged
    /// changes join the outbox (a change already there counts once). Returns how many
    /// changes were added.
    pub fn import_unsynced(&mut self, records: Vec<StoredRecord>) -> Result<usize, RestoreError> {
        let mut added = 0;
        for record in records {
            let Some(local) = self.documents.get_mut(&record.doc_id) else {
                // Loaded now: a file is checked before anything of it is taken, and the
                // record is new to the device's storage (it is written, summary and all).
                let mut imported = LocalDocument::new(record.kind, records::load_saved(&record.document)?);
                imported.conflicts = record.conflicts.clone();
                let doc_id = record.doc_id;
                added += record.pending.len();
                self.put_stored(record)?;
                self.documents.insert(doc_id, imported);
                continue;
            };
            let mut theirs = records::load_saved(&record.document)?;
            local.doc_mut(&self.actor)?.merge(&mut theirs).map_err(|_| RestoreError::Change)?;
            let pending = self.outbox.entry(record.doc_id).or_default();
            for change in record.pending {
                // An imported change is offered to the server again, refused or not.
                let change = PendingChange { rejected: None, ..change.into_pending()? };
                if pending.iter().all(|c| c.hash != change.hash) {
                    pending.push(change);
                    added += 1;
                }
            }
            self.unsaved.insert(record.doc_id);
        }
        Ok(added)
    }
}

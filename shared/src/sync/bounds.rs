//! How much one sync request may hold, and the reader that enforces it while it reads.
//!
//! A request is small on the wire and may be large once inflated and decoded: an empty
//! Automerge change costs one byte in the message and a whole `Vec` in memory, and a
//! length field can claim billions of elements. So every count is checked against its
//! bound before anything is read or allocated for it, and the changes of a whole request
//! share one budget. Nothing here sizes an allocation from a count the client sent: a
//! list grows as its elements are actually read. The bounds are listed in
//! docs/sync-protocol.md ("Bounds") and docs/security.md.

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;

use super::protocol::{DocumentChanges, SyncRequest, MAX_REQUEST_BYTES};
use crate::records::RecordKind;

/// A compressed request may inflate to at most this many bytes.
pub const MAX_INFLATED_BYTES: usize = 4 * MAX_REQUEST_BYTES;
/// Documents in one request.
pub const MAX_DOCUMENTS_PER_REQUEST: usize = 10_000;
/// Changes in one request, all documents together.
pub const MAX_CHANGES_PER_REQUEST: usize = 100_000;
/// Bytes of one Automerge change (an officer's edit is a few hundred).
pub const MAX_CHANGE_BYTES: usize = 1024 * 1024;
/// Automerge operations in one request, all changes together: a change's columns can
/// encode many operations in a few bytes, and each costs CPU when decoded and memory once
/// applied. Counted from the bytes before Automerge reads a change (`super::operations`);
/// the records past the allowance are refused (`invalid`), the others stored.
pub const MAX_OPERATIONS_PER_REQUEST: usize = 1_000_000;

/// The bound a request went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    InflatedBytes,
    Documents,
    Changes,
    ChangeBytes,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::InflatedBytes => write!(f, "is larger than {} MiB uncompressed", MAX_INFLATED_BYTES >> 20),
            Limit::Documents => write!(f, "holds more than {MAX_DOCUMENTS_PER_REQUEST} records"),
            Limit::Changes => write!(f, "holds more than {MAX_CHANGES_PER_REQUEST} changes"),
            Limit::ChangeBytes => write!(f, "holds a change larger than {} MiB", MAX_CHANGE_BYTES >> 20),
        }
    }
}

/// What is left of a request's budget while it is read, and the bound it broke, if any
/// (postcard keeps no message of a custom error, so the reason is kept here).
#[derive(Debug)]
pub(super) struct Reading {
    /// The protocol version the request was written in: version 3 added its last field.
    version: u8,
    changes_left: Cell<usize>,
    pub(super) exceeded: Cell<Option<Limit>>,
}

impl Reading {
    pub(super) fn new(version: u8) -> Self {
        Reading { version, changes_left: Cell::new(MAX_CHANGES_PER_REQUEST), exceeded: Cell::new(None) }
    }

    fn refuse<E: de::Error>(&self, limit: Limit) -> E {
        self.exceeded.set(Some(limit));
        E::custom(limit)
    }

    /// A list's length, before any of it is read. postcard reports no length when the
    /// claimed one exceeds the bytes left (each element takes at least one): damaged.
    fn check_length<E: de::Error>(&self, claimed: Option<usize>, max: usize, limit: Limit) -> Result<usize, E> {
        match claimed {
            None => Err(E::custom("a list claims more elements than the message holds")),
            Some(n) if n > max => Err(self.refuse(limit)),
            Some(n) => Ok(n),
        }
    }
}

/// Reads a [`SyncRequest`] within the bounds.
pub(super) struct RequestSeed<'r>(pub(super) &'r Reading);

impl<'de> DeserializeSeed<'de> for RequestSeed<'_> {
    type Value = SyncRequest;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<SyncRequest, D::Error> {
        deserializer.deserialize_struct("SyncRequest", &["device_id", "batch_id", "cursor", "documents", "scope_version"], self)
    }
}

fn missing<E: de::Error>(what: &str) -> E {
    E::custom(format!("the message ends before its {what}"))
}

impl<'de> Visitor<'de> for RequestSeed<'_> {
    type Value = SyncRequest;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sync request")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SyncRequest, A::Error> {
        let device_id = seq.next_element()?.ok_or_else(|| missing("device id"))?;
        let batch_id = seq.next_element()?.ok_or_else(|| missing("batch id"))?;
        let cursor = seq.next_element()?.ok_or_else(|| missing("cursor"))?;
        let documents = seq.next_element_seed(DocumentsSeed(self.0))?.ok_or_else(|| missing("documents"))?;
        // An app of protocol 1 or 2 holds no scope version: 0, as a device that holds nothing known.
        let scope_version =
            if self.0.version >= 3 { seq.next_element()?.ok_or_else(|| missing("scope version"))? } else { 0 };
        Ok(SyncRequest { device_id, batch_id, cursor, documents, scope_version })
    }
}

struct DocumentsSeed<'r>(&'r Reading);

impl<'de> DeserializeSeed<'de> for DocumentsSeed<'_> {
    type Value = Vec<DocumentChanges>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DocumentsSeed<'_> {
    type Value = Vec<DocumentChanges>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the changed documents")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        self.0.check_length(seq.size_hint(), MAX_DOCUMENTS_PER_REQUEST, Limit::Documents)?;
        let mut documents = Vec::new();
        while let Some(document) = seq.next_element_seed(DocumentSeed(self.0))? {
            documents.push(document);
        }
        Ok(documents)
    }
}

struct DocumentSeed<'r>(&'r Reading);

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = DocumentChanges;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_struct("DocumentChanges", &["doc_id", "kind", "changes"], self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = DocumentChanges;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a document's changes")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let doc_id = seq.next_element()?.ok_or_else(|| missing("document id"))?;
        let kind: RecordKind = seq.next_element()?.ok_or_else(|| missing("record kind"))?;
        let changes = seq.next_element_seed(ChangesSeed(self.0))?.ok_or_else(|| missing("changes"))?;
        Ok(DocumentChanges { doc_id, kind, changes })
    }
}

struct ChangesSeed<'r>(&'r Reading);

impl<'de> DeserializeSeed<'de> for ChangesSeed<'_> {
    type Value = Vec<Vec<u8>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ChangesSeed<'_> {
    type Value = Vec<Vec<u8>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Automerge changes")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let left = self.0.changes_left.get();
        let count = self.0.check_length(seq.size_hint(), left, Limit::Changes)?;
        self.0.changes_left.set(left - count);
        let mut changes = Vec::new();
        while let Some(change) = seq.next_element_seed(ChangeSeed(self.0))? {
            changes.push(change);
        }
        Ok(changes)
    }
}

/// One change's bytes. Its length is checked before they are copied; the same encoding
/// as a list of bytes (postcard writes both as a length and the raw bytes).
struct ChangeSeed<'r>(&'r Reading);

impl<'de> DeserializeSeed<'de> for ChangeSeed<'_> {
    type Value = Vec<u8>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_bytes(self)
    }
}

impl<'de> Visitor<'de> for ChangeSeed<'_> {
    type Value = Vec<u8>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Automerge change")
    }
    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
        if bytes.len() > MAX_CHANGE_BYTES {
            return Err(self.0.refuse(Limit::ChangeBytes));
        }
        Ok(bytes.to_vec())
    }
}

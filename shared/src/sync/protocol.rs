//! The sync wire format: one byte of protocol version, then the message in postcard
//! (serde's compact binary: varint integers, length-prefixed bytes). Automerge changes
//! travel as their own compressed bytes, never re-encoded. See docs/sync-protocol.md.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::records::{Conflict, RecordKind};

/// The version byte every message starts with.
pub const PROTOCOL_VERSION: u8 = 1;
/// Largest request body the server accepts.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// Media type of both bodies.
pub const CONTENT_TYPE: &str = "application/vnd.bmms.sync.v1";

/// A device's exchange: its unsynced changes for every dirty document, and how far it has
/// read the organization's change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub device_id: Uuid,
    /// Chosen by the device; sending the same batch again has the effect of sending it once.
    pub batch_id: Uuid,
    /// The server sequence number up to which the device has everything.
    pub cursor: u64,
    pub documents: Vec<DocumentChanges>,
}

/// New changes to one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentChanges {
    pub doc_id: Uuid,
    pub kind: RecordKind,
    /// Each an Automerge change, as `Change::raw_bytes` gives it.
    pub changes: Vec<Vec<u8>>,
}

/// The server's answer to one [`SyncRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The batch this answers; a device ignores answers to other batches.
    pub batch_id: Uuid,
    /// Documents whose sent changes are all stored: the device may drop them from its outbox.
    pub acknowledged: Vec<Uuid>,
    /// Documents refused, each with the reason; the device keeps their changes.
    pub rejections: Vec<Rejection>,
    /// What the device lacks.
    pub updates: Vec<DocumentUpdate>,
    /// Open conflicts of the documents in this exchange.
    pub conflicts: Vec<DocumentConflicts>,
    /// The device's new cursor.
    pub cursor: u64,
}

/// What a device lacks of one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentUpdate {
    pub doc_id: Uuid,
    pub kind: RecordKind,
    pub content: UpdateContent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UpdateContent {
    /// Changes made by others since the device's cursor.
    Changes(Vec<Vec<u8>>),
    /// The whole saved document, for a document the device has never had.
    Snapshot(Vec<u8>),
}

/// A document refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub doc_id: Uuid,
    pub code: RejectionCode,
    /// A sentence the app can show the officer.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionCode {
    /// The bytes are not an Automerge change.
    Undecodable,
    /// The document belongs to another organization (or its kind changed).
    NotYours,
    /// A change was made by another device's actor.
    WrongActor,
    /// The merged document breaks the schema.
    Invalid,
    /// The document is from a newer schema than the server knows.
    NewerSchema,
}

/// The open conflicts of one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentConflicts {
    pub doc_id: Uuid,
    pub conflicts: Vec<Conflict>,
}

/// A body that is not a message of this protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the sync message is empty")]
    Empty,
    #[error("the sync message is protocol version {0}; this side speaks version {PROTOCOL_VERSION}. Update the app")]
    UnknownVersion(u8),
    #[error("the sync message is damaged and cannot be read")]
    Malformed,
}

/// Encodes a message with its version byte.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let mut out = vec![PROTOCOL_VERSION];
    // Serializing plain structs into a Vec cannot fail.
    out.extend(postcard::to_allocvec(message).unwrap_or_default());
    out
}

/// Decodes a message, checking its version byte. Never panics, whatever the bytes.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ProtocolError> {
    match bytes.split_first() {
        None => Err(ProtocolError::Empty),
        Some((&PROTOCOL_VERSION, body)) => postcard::from_bytes(body).map_err(|_| ProtocolError::Malformed),
        Some((&other, _)) => Err(ProtocolError::UnknownVersion(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn sample() -> SyncRequest {
        SyncRequest {
            device_id: Uuid::from_u128(1),
            batch_id: Uuid::from_u128(2),
            cursor: 300,
            documents: vec![DocumentChanges { doc_id: Uuid::from_u128(3), kind: RecordKind::ManaAssessment, changes: vec![vec![7; 90]] }],
        }
    }

    #[test]
    fn a_request_round_trips_compactly() {
        let bytes = encode(&sample());
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), sample());
        // version + 2 ids + cursor + count + doc id + kind + counts + the change itself
        assert!(bytes.len() < 90 + 70, "{} bytes", bytes.len());
    }

    #[test]
    fn other_versions_and_damaged_bytes_are_refused() {
        let mut bytes = encode(&sample());
        bytes[0] = 9;
        assert_eq!(decode::<SyncRequest>(&bytes), Err(ProtocolError::UnknownVersion(9)));
        let bytes = encode(&sample());
        for cut in 1..bytes.len() - 1 {
            assert!(decode::<SyncRequest>(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
        assert_eq!(decode::<SyncRequest>(&[]), Err(ProtocolError::Empty));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for _ in 0..20_000 {
            let len = rng.gen_range(0..200);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if let Some(first) = bytes.first_mut() {
                *first = PROTOCOL_VERSION;
            }
            let _ = decode::<SyncRequest>(&bytes);
            let _ = decode::<SyncResponse>(&bytes);
        }
    }
}

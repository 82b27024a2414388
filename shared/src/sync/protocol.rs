//! The sync wire format: one byte of protocol version, one byte naming the compression
//! (0 none, 1 DEFLATE), then the message in postcard (serde's compact binary: varint
//! integers, length-prefixed bytes). Automerge changes travel as their own bytes inside;
//! DEFLATE then removes what changes to many documents repeat (the actor id, field
//! names, dependency hashes). See docs/sync-protocol.md.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use crate::{BatchId, DeviceId, DocId};

use super::bounds::{Limit, Reading, RequestSeed, MAX_INFLATED_BYTES};
use crate::records::{Conflict, RecordKind};

/// The version byte every message this side writes starts with. Version 2 added a record
/// kind (PPA proposals); version 3 the sync scope (a request's `scope_version`, an
/// answer's last three fields, which older apps do not read: postcard stops at a
/// message's last known field).
pub const PROTOCOL_VERSION: u8 = 3;
/// The version byte of what a device stores (records, summaries, its identity): the
/// newest version whose apps read it as it is. Version 3 changed only the sync messages,
/// so an app of version 2 (a rollback, a stale cache) still opens a device's storage.
pub const STORAGE_VERSION: u8 = 2;
/// The oldest version still read: a request in it is answered in it, without the
/// documents of kinds it does not know (`RecordKind::since_protocol`), and what an
/// older app stored on a device still opens.
pub const OLDEST_VERSION: u8 = 1;
/// Largest request body the server accepts.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// Media type of both bodies.
pub const CONTENT_TYPE: &str = "application/vnd.bmms.sync.v1";

/// A device's exchange: its unsynced changes for every dirty document, and how far it has
/// read the organization's change log. Read within the bounds of [`super::bounds`],
/// whichever way it is decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncRequest {
    pub device_id: DeviceId,
    /// Chosen by the device; sending the same batch again has the effect of sending it once.
    pub batch_id: BatchId,
    /// The server sequence number up to which the device has everything.
    pub cursor: u64,
    pub documents: Vec<DocumentChanges>,
    /// The last scope version the device took from an answer (0 for none; see
    /// [`SyncResponse::scope_version`]). Since protocol 3.
    pub scope_version: u64,
}

impl<'de> Deserialize<'de> for SyncRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::DeserializeSeed::deserialize(RequestSeed(&Reading::new(PROTOCOL_VERSION)), deserializer)
    }
}

/// New changes to one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentChanges {
    pub doc_id: DocId,
    pub kind: RecordKind,
    /// Each an Automerge change, as `Change::raw_bytes` gives it.
    pub changes: Vec<Vec<u8>>,
}

/// The server's answer to one [`SyncRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The batch this answers; a device ignores answers to other batches.
    pub batch_id: BatchId,
    /// Documents whose sent changes are all stored: the device may drop them from its outbox.
    pub acknowledged: Vec<DocId>,
    /// Documents refused, each with the reason; the device keeps their changes.
    pub rejections: Vec<Rejection>,
    /// What the device lacks.
    pub updates: Vec<DocumentUpdate>,
    /// Open conflicts of the documents in this exchange.
    pub conflicts: Vec<DocumentConflicts>,
    /// The device's new cursor.
    pub cursor: u64,
    /// Records that left the device's scope: it drops each one that has no unsent
    /// changes (one with unsent changes is named again once they are acknowledged).
    pub removed: Vec<DocId>,
    /// True when `updates` hold the device's whole scope as whole documents: it drops every
    /// other record that has no unsent changes (its first scoped exchange, or one after
    /// its cursor went back to 0).
    pub complete: bool,
    /// The device's scope version after this answer, echoed in its next request: the
    /// server sends again what an answer the device did not take carried. 0 for a device
    /// that holds its whole organization.
    pub scope_version: u64,
}

/// What a device lacks of one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentUpdate {
    pub doc_id: DocId,
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
    pub doc_id: DocId,
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
    /// The change does something the sender's role may not (a field officer marking an
    /// assessment validated).
    NotAllowed,
    /// Set by the device, never sent by the server: one change of the record is larger
    /// than a request may be on the way to the server (answered 413 when sent alone).
    TooLarge,
}

impl RejectionCode {
    pub const ALL: [RejectionCode; 7] = [
        RejectionCode::Undecodable,
        RejectionCode::NotYours,
        RejectionCode::WrongActor,
        RejectionCode::Invalid,
        RejectionCode::NewerSchema,
        RejectionCode::NotAllowed,
        RejectionCode::TooLarge,
    ];

    /// The code as JSON spells it (in the audit log, in the metrics' labels).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::Undecodable => "undecodable",
            RejectionCode::NotYours => "not_yours",
            RejectionCode::WrongActor => "wrong_actor",
            RejectionCode::Invalid => "invalid",
            RejectionCode::NewerSchema => "newer_schema",
            RejectionCode::NotAllowed => "not_allowed",
            RejectionCode::TooLarge => "too_large",
        }
    }
}

/// The open conflicts of one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentConflicts {
    pub doc_id: DocId,
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
    #[error("the sync message {0}; the app sends its changes in smaller batches")]
    TooLarge(Limit),
}

const UNCOMPRESSED: u8 = 0;
const DEFLATE: u8 = 1;
/// Below this, compressing costs more than it saves.
const COMPRESS_FROM_BYTES: usize = 200;

/// Encodes a message with its version and compression bytes.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    encode_as(PROTOCOL_VERSION, message)
}

/// The version a message was written in (its first byte), if it is one this side reads.
pub fn version_of(bytes: &[u8]) -> Option<u8> {
    bytes.first().copied().filter(|v| (OLDEST_VERSION..=PROTOCOL_VERSION).contains(v))
}

/// [`encode`] in an older `version`, for an answer to a request written in it: the caller
/// leaves out what that version cannot carry.
pub fn encode_as<T: Serialize>(version: u8, message: &T) -> Vec<u8> {
    // Serializing plain structs into a Vec cannot fail.
    let body = postcard::to_allocvec(message).unwrap_or_default();
    if body.len() >= COMPRESS_FROM_BYTES {
        // Large messages (a cold start, a busy organization's news) are compressed fast
        // rather than small: the server pays this CPU for every device that syncs. With
        // zlib-rs, level 2 is as fast as level 1 here and 10 % smaller (W3 in
        // docs/benchmarks.md: 92 bytes per document against 102).
        let level = if body.len() > 64 * 1024 { 2 } else { 6 };
        let compressed = deflate(&body, level);
        if compressed.len() < body.len() {
            return [&[version, DEFLATE][..], &compressed].concat();
        }
    }
    [&[version, UNCOMPRESSED][..], &body].concat()
}

/// Encodes a message uncompressed, for what is written often and read locally (the app's
/// stored records: an Automerge save is already compressed, and a phone's CPU is slow),
/// in [`STORAGE_VERSION`].
/// [`decode`] reads it like any other message.
pub fn encode_uncompressed<T: Serialize>(message: &T) -> Vec<u8> {
    let body = postcard::to_allocvec(message).unwrap_or_default();
    [&[STORAGE_VERSION, UNCOMPRESSED][..], &body].concat()
}

/// Decodes a message, checking its version and compression. Never panics, whatever the bytes.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    postcard::from_bytes(&body_of(bytes)?).map_err(|_| ProtocolError::Malformed)
}

/// Decodes a device's request, saying which bound it broke if it broke one (see
/// [`super::bounds`]); [`decode`] refuses such a request too, only less helpfully.
pub fn decode_request(bytes: &[u8]) -> Result<SyncRequest, ProtocolError> {
    decode_request_within(bytes, MAX_INFLATED_BYTES)
}

/// [`decode_request`], refusing a body that inflates beyond `max_inflated` bytes (at most
/// [`MAX_INFLATED_BYTES`]): a server decodes small requests where they arrive and hands
/// the others to threads of their own.
pub fn decode_request_within(bytes: &[u8], max_inflated: usize) -> Result<SyncRequest, ProtocolError> {
    let body = body_of_within(bytes, max_inflated.min(MAX_INFLATED_BYTES))?;
    let reading = Reading::new(bytes.first().copied().unwrap_or(PROTOCOL_VERSION));
    let mut deserializer = postcard::Deserializer::from_bytes(&body);
    serde::de::DeserializeSeed::deserialize(RequestSeed(&reading), &mut deserializer)
        .map_err(|_| reading.exceeded.get().map_or(ProtocolError::Malformed, ProtocolError::TooLarge))
}

/// The postcard body of a message: its version checked, inflated if it was compressed.
fn body_of(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, ProtocolError> {
    body_of_within(bytes, MAX_INFLATED_BYTES)
}

fn body_of_within(bytes: &[u8], max_inflated: usize) -> Result<std::borrow::Cow<'_, [u8]>, ProtocolError> {
    let (version, rest) = bytes.split_first().ok_or(ProtocolError::Empty)?;
    if !(OLDEST_VERSION..=PROTOCOL_VERSION).contains(version) {
        return Err(ProtocolError::UnknownVersion(*version));
    }
    match rest.split_first() {
        Some((&UNCOMPRESSED, body)) if body.len() > max_inflated => Err(ProtocolError::TooLarge(Limit::InflatedBytes)),
        Some((&UNCOMPRESSED, body)) => Ok(std::borrow::Cow::Borrowed(body)),
        Some((&DEFLATE, compressed)) => inflate(compressed, max_inflated).map(std::borrow::Cow::Owned),
        _ => Err(ProtocolError::Malformed),
    }
}

// DEFLATE through flate2, which Automerge already brings (one compression library in the
// app's wasm rather than two).
fn deflate(body: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

/// Refuses damaged data, and data that would inflate beyond `max_inflated` bytes (no "zip
/// bombs": reading stops at the bound).
fn inflate(compressed: &[u8], max_inflated: usize) -> Result<Vec<u8>, ProtocolError> {
    let mut decoder = flate2::read::DeflateDecoder::new(compressed);
    let mut body = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let read = decoder.read(&mut chunk).map_err(|_| ProtocolError::Malformed)?;
        if read == 0 {
            return Ok(body);
        }
        if body.len() + read > max_inflated {
            return Err(ProtocolError::TooLarge(Limit::InflatedBytes));
        }
        // Doubling, but never past the bound: a body near the bound holds no more than it.
        if body.capacity() < body.len() + read {
            let wanted = (body.len() * 2).clamp(body.len() + read, max_inflated);
            body.reserve_exact(wanted - body.len());
        }
        body.extend_from_slice(&chunk[..read]);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_rejection_code_is_named_as_json_names_it() {
        for code in super::RejectionCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    use super::*;
    use rand::{Rng, SeedableRng};

    fn sample() -> SyncRequest {
        SyncRequest {
            device_id: DeviceId(uuid::Uuid::from_u128(1)),
            batch_id: BatchId(uuid::Uuid::from_u128(2)),
            cursor: 300,
            documents: vec![DocumentChanges { doc_id: DocId(uuid::Uuid::from_u128(3)), kind: RecordKind::ManaAssessment, changes: vec![vec![7; 90]] }],
            scope_version: 0,
        }
    }

    #[test]
    fn a_request_round_trips_compactly() {
        let bytes = encode(&sample());
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), sample());
        // version, compression, 3 ids, cursor, counts, kind: far less than the change itself
        assert!(bytes.len() < 90 + 70, "{} bytes", bytes.len());
    }

    #[test]
    fn big_messages_are_compressed_and_round_trip() {
        let mut request = sample();
        request.documents = (0..50)
            .map(|i| DocumentChanges { doc_id: DocId(uuid::Uuid::from_u128(i)), kind: RecordKind::MonitoringTask, changes: vec![vec![7; 90]; 5] })
            .collect();
        let bytes = encode(&request);
        assert_eq!(bytes[1], DEFLATE);
        assert!(bytes.len() < 50 * 5 * 90 / 4, "{} bytes", bytes.len());
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), request);
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        let huge = vec![0u8; MAX_INFLATED_BYTES + 1];
        let bomb = [&[PROTOCOL_VERSION, DEFLATE][..], &deflate(&huge, 6)].concat();
        assert!(bomb.len() < 100_000);
        assert_eq!(decode_request(&bomb), Err(ProtocolError::TooLarge(Limit::InflatedBytes)));
        assert_eq!(decode::<SyncRequest>(&bomb), Err(ProtocolError::TooLarge(Limit::InflatedBytes)));
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
    fn a_version_1_message_is_read_and_answered_in_version_1() {
        let request = sample();
        let old = encode_as(1, &request);
        assert_eq!((old[0], version_of(&old)), (1, Some(1)));
        assert_eq!(decode_request(&old), Ok(request.clone()));
        assert_eq!(version_of(&encode(&request)), Some(PROTOCOL_VERSION));
        assert_eq!(version_of(&[0, 0]), None);
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
            if let Some(second) = bytes.get_mut(1) {
                *second %= 2;
            }
            let _ = decode::<SyncRequest>(&bytes);
            let _ = decode::<SyncResponse>(&bytes);
        }
    }
}

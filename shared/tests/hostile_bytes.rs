//! Damaged and hostile bytes, the way a fuzzer makes them: real sync requests with bytes
//! flipped, cut and inserted. Decoding and merging must answer with an error, never panic.
//! Deterministic seeds; replay one with BMMS_FUZZ_SEED=<seed>. Any input that ever breaks
//! this goes into `regressions()` below.

use automerge::ActorId;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::sync::client::SyncClient;
use bmms_shared::sync::merge::merge_document;
use bmms_shared::sync::protocol::{self, SyncRequest};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use bmms_shared::{BatchId, DeviceId, DocId};
use uuid::Uuid;

fn actor() -> ActorId {
    ActorId::from(vec![7u8; 16])
}

/// A realistic request: three records with a few edits each.
fn sample_request() -> Vec<u8> {
    let mut client = SyncClient::new(DeviceId(Uuid::from_u128(1)), actor());
    for i in 0..3u128 {
        let doc = client.create(DocId(Uuid::from_u128(100 + i)), RecordKind::ManaAssessment);
        client.edit(doc, |e| e.set("community", FieldValue::Text(format!("Barangay {i}")))).unwrap();
        client.edit(doc, |e| e.set("households", FieldValue::Integer(40 + i as i64))).unwrap();
        client.edit(doc, |e| e.set("team_members", FieldValue::TextList(vec!["Ana".into(), "Ben".into()]))).unwrap();
    }
    client.next_request(0, BatchId(Uuid::from_u128(2))).unwrap().1
}

fn mutate(rng: &mut SmallRng, bytes: &mut Vec<u8>) {
    for _ in 0..rng.gen_range(1..6) {
        if bytes.is_empty() {
            bytes.push(rng.gen());
            continue;
        }
        let at = rng.gen_range(0..bytes.len());
        match rng.gen_range(0..4) {
            0 => bytes[at] ^= 1 << rng.gen_range(0..8),
            1 => bytes[at] = rng.gen(),
            2 => bytes.truncate(at),
            _ => bytes.insert(at, rng.gen()),
        }
    }
}

/// Everything the server does with a request body before touching the database.
fn exercise(body: &[u8]) {
    if let Ok(request) = protocol::decode::<SyncRequest>(body) {
        for document in &request.documents {
            // What the server accepts it must be able to load and work on again.
            if let Ok(mut merged) = merge_document(None, document, &actor()) {
                let mut stored = bmms_shared::records::load_saved(&merged.saved).expect("an accepted document loads again");
                assert_eq!(stored.get_heads(), merged.doc.get_heads());
                let first: Vec<_> = stored.get_changes(&[]).iter().take(1).map(|c| c.hash()).collect();
                let _ = stored.get_changes(&first);
            }
        }
    }
}

/// Inputs that once broke decoding or merging; kept so they never do again.
fn regressions() -> Vec<Vec<u8>> {
    let mut inputs = vec![vec![], vec![1], vec![1, 0], vec![1, 1], vec![1, 1, 0xff, 0xff]];
    // A damaged change that decodes: Automerge 0.12 panicked in apply_changes, 0.6 takes it
    // with a warning and saved a document that would not load again.
    inputs.push(include_bytes!("regressions/automerge-missing-object.bin").to_vec());
    inputs
}

#[test]
fn damaged_requests_never_panic_the_decoder_or_the_merge() {
    for input in regressions() {
        exercise(&input);
    }
    let sample = sample_request();
    // Decompressed, so that mutations reach the Automerge changes themselves.
    let request: SyncRequest = protocol::decode(&sample).unwrap();
    let plain = [&[1u8, 0][..], &postcard_body(&request)].concat();
    assert!(protocol::decode::<SyncRequest>(&plain).is_ok());

    let seeds: Vec<u64> = match std::env::var("BMMS_FUZZ_SEED") {
        Ok(seed) => vec![seed.parse().unwrap()],
        Err(_) => (0..3_000).collect(),
    };
    for seed in seeds {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut bytes = if seed % 2 == 0 { plain.clone() } else { sample.clone() };
        mutate(&mut rng, &mut bytes);
        if std::env::var("BMMS_FUZZ_SAVE").is_ok() {
            std::fs::write(format!("tests/regressions/seed-{seed}.bin"), &bytes).unwrap();
        }
        let outcome = std::panic::catch_unwind(|| exercise(&bytes));
        assert!(outcome.is_ok(), "seed {seed} panicked on {} bytes: {:02x?}", bytes.len(), bytes);
    }
}

fn postcard_body(request: &SyncRequest) -> Vec<u8> {
    // The message uncompressed, without its two header bytes.
    protocol::encode_uncompressed(request)[2..].to_vec()
}

#[test]
fn damaged_saved_documents_are_an_error_not_a_crash() {
    // Found by fuzz/load_document: Automerge 0.12 panics loading these bytes.
    let damaged = include_bytes!("regressions/automerge-load-panic.bin");
    assert!(bmms_shared::records::load_saved(damaged).is_err());
    let mut doc = bmms_shared::records::new_document(DocId(Uuid::from_u128(5)), RecordKind::MonitoringTask, actor());
    let saved = doc.save();
    assert!(bmms_shared::records::load_saved(&saved).is_ok());
}

/// `change` (uncompressed, as a small change is) renumbered to `seq`, with its hash and
/// checksum made anew so that it still decodes: what only a hostile device would send.
/// A change chunk is magic (4 bytes), checksum (4), type (1), data length (LEB128), data;
/// its data starts with the dependencies, the actor and the sequence number.
fn renumbered(change: &[u8], seq: u8) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let leb = |bytes: &[u8], at: &mut usize| -> usize {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let byte = bytes[*at];
            *at += 1;
            value |= ((byte & 0x7f) as usize) << shift;
            shift += 7;
            if byte < 0x80 {
                return value;
            }
        }
    };
    let mut at = 9;
    leb(change, &mut at);
    let deps = leb(change, &mut at);
    at += 32 * deps;
    let actor_len = leb(change, &mut at);
    at += actor_len;
    assert!(change[at] < 0x80, "a one-byte sequence number");
    let mut out = change.to_vec();
    out[at] = seq;
    // The hash covers the type, the length and the data; the checksum is its first 4 bytes.
    let hash = Sha256::digest(&out[8..]);
    out[4..8].copy_from_slice(&hash[..4]);
    out
}

#[test]
fn a_change_that_skips_its_devices_numbering_is_refused() {
    use bmms_shared::records::{self, changes_since};
    use bmms_shared::sync::protocol::{DocumentChanges, RejectionCode};
    let (doc_id, kind) = (DocId(Uuid::from_u128(9)), RecordKind::MonitoringTask);
    let send = |changes: Vec<Vec<u8>>| DocumentChanges { doc_id, kind, changes };
    let mut doc = records::new_document(doc_id, kind, actor());
    let first = changes_since(&mut doc, &[]).iter().map(|c| c.raw_bytes().to_vec()).collect();
    let stored = merge_document(None, &send(first), &actor()).expect("a new record is accepted");
    let heads = doc.get_heads();
    records::RecordEditor::new(&mut doc).unwrap().set("title", FieldValue::Text("Visit the site".into())).unwrap();
    doc.commit();
    let second = changes_since(&mut doc, &heads).remove(0);
    assert_eq!(second.seq(), 2);

    let skipping = renumbered(second.raw_bytes(), 3);
    let decoded = automerge::Change::from_bytes(skipping.clone()).expect("the renumbered change still decodes");
    assert_eq!(decoded.seq(), 3);
    // Automerge 0.6 applies it; the merged document then fails to load again.
    let refused = merge_document(Some((&stored.doc, kind)), &send(vec![skipping]), &actor());
    assert_eq!(refused.map(|_| ()).map_err(|r| r.code), Err(RejectionCode::Undecodable));
    // The same edit as the device really numbered it goes through.
    assert!(merge_document(Some((&stored.doc, kind)), &send(vec![second.raw_bytes().to_vec()]), &actor()).is_ok());
}

#[test]
fn a_saved_document_that_made_automerge_0_12_run_out_of_memory_is_refused_or_loaded() {
    // 46 bytes that made Automerge 0.12 try to allocate more than 4 GiB
    // (fuzz/regressions); 0.6.1 refuses them at once.
    let bytes = include_bytes!("../../fuzz/regressions/load_document-oom-46-bytes.bin");
    assert!(bmms_shared::records::load_saved(bytes).is_err());
}

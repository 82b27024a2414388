//! Damaged and hostile bytes, the way a fuzzer makes them: real sync requests with bytes
//! flipped, cut and inserted. Decoding and merging must answer with an error, never panic.
//! Deterministic seeds; replay one with BMMS_FUZZ_SEED=<seed>. Any input that ever breaks
//! this goes into `regressions()` below.

use automerge::ActorId;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::sync::client::SyncClient;
use bmms_shared::sync::memory_server::merge_document;
use bmms_shared::sync::protocol::{self, SyncRequest};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

fn actor() -> ActorId {
    ActorId::from(vec![7u8; 16])
}

/// A realistic request: three records with a few edits each.
fn sample_request() -> Vec<u8> {
    let mut client = SyncClient::new(Uuid::from_u128(1), actor());
    for i in 0..3u128 {
        let doc = client.create(Uuid::from_u128(100 + i), RecordKind::ManaAssessment);
        client.edit(doc, |e| e.set("community", FieldValue::Text(format!("Barangay {i}")))).unwrap();
        client.edit(doc, |e| e.set("households", FieldValue::Integer(40 + i as i64))).unwrap();
        client.edit(doc, |e| e.set("team_members", FieldValue::TextList(vec!["Ana".into(), "Ben".into()]))).unwrap();
    }
    client.next_request(0, Uuid::from_u128(2)).unwrap().1
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
    let mut doc = bmms_shared::records::new_document(Uuid::from_u128(5), RecordKind::MonitoringTask, actor());
    let saved = doc.save();
    assert!(bmms_shared::records::load_saved(&saved).is_ok());
}

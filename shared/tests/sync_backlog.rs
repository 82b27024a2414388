//! Any backlog syncs (issue 18): a device with days of edits meets a way to the server
//! that takes less than the server's own bounds (a proxy that answers 413 to bodies over
//! its limit), with answers lost on the way. Properties, over random backlogs and limits:
//! - nothing lost: every change the device made is on the server, or still on the device
//!   marked too large (and then it was: sent alone, it is over the limit);
//! - nothing applied twice: the server logged each change once;
//! - nothing left behind: the device ends with nothing it could still send, in a bounded
//!   number of exchanges, and holds the same documents as the server.
//! Deterministic: each case comes from a seed. To replay one that failed:
//!     BMMS_BACKLOG_SEED=<seed> cargo test -p bmms-shared --test sync_backlog

use automerge::{ActorId, ChangeHash};
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::sync::client::SyncClient;
use bmms_shared::sync::memory_server::MemoryServer;
use bmms_shared::sync::protocol::{self, DocumentChanges, RejectionCode, SyncRequest};
use bmms_shared::{BatchId, DeviceId, DocId};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use uuid::Uuid;

const CASES: u64 = 48;

/// Text of `len` letters drawn at random: it compresses about as badly as letters can.
fn text(rng: &mut SmallRng, len: usize) -> String {
    (0..len).map(|_| rng.gen_range(b'a'..=b'z') as char).collect()
}

/// A device with a random backlog: up to 40 records of up to 15 edits each, most of them
/// short, some long notes (up to 10,000 characters, the field's limit).
fn device_with_backlog(rng: &mut SmallRng, server: &mut MemoryServer) -> (SyncClient, BTreeSet<ChangeHash>) {
    let device_id = DeviceId(Uuid::from_u128(0xB0));
    let actor = ActorId::from(device_id.uuid().as_bytes().to_vec());
    server.register_device(device_id, actor.clone());
    let mut client = SyncClient::new(device_id, actor);
    for _ in 0..rng.gen_range(1..=40) {
        let doc = client.create(DocId(Uuid::from_u128(rng.gen())), RecordKind::ManaAssessment);
        for _ in 0..rng.gen_range(0..=15) {
            let (field, len) = if rng.gen_bool(0.1) { ("notes", rng.gen_range(1_000..=10_000)) } else { ("community", rng.gen_range(1..=60)) };
            let value = text(rng, len);
            client.edit(doc, |e| e.set(field, FieldValue::Text(value))).expect("a valid edit");
        }
    }
    let made = client.outbox().values().flatten().map(|c| c.hash).collect();
    (client, made)
}

/// The body of a request that carries `bytes` alone.
fn alone(client: &SyncClient, doc_id: DocId, bytes: &[u8]) -> usize {
    let request = SyncRequest {
        device_id: client.device_id(),
        batch_id: BatchId(Uuid::nil()),
        cursor: client.cursor(),
        documents: vec![DocumentChanges { doc_id, kind: RecordKind::ManaAssessment, changes: vec![bytes.to_vec()] }],
        scope_version: 0,
    };
    protocol::encode(&request).len()
}

fn run_case(seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut server = MemoryServer::default();
    let (mut client, made) = device_with_backlog(&mut rng, &mut server);
    // The way's limit on a body: 1.5 KB to 200 KB, spread evenly over the orders of size.
    let limit = (1_500.0 * (200_000.0f64 / 1_500.0).powf(rng.gen::<f64>())) as usize;
    let mut now = 0u64;
    let mut exchanges = 0;
    while client.sendable_count() > 0 || client.is_in_flight() {
        exchanges += 1;
        assert!(exchanges <= 2_000, "seed {seed}: still {} changes to send after 2,000 exchanges (limit {limit})", client.sendable_count());
        let Some((_, body)) = client.next_request(now, BatchId(Uuid::from_u128(rng.gen()))) else {
            now += 300_000; // The backoff's wait.
            continue;
        };
        if body.len() > limit {
            client.on_too_large(now);
            continue;
        }
        let answer = server.handle(&body).unwrap_or_else(|e| panic!("seed {seed}: the server refused a batch: {e}"));
        if rng.gen_bool(0.1) {
            client.on_failure(now); // The answer was lost: the same batch goes again.
        } else {
            client.on_response(&answer).expect("an answer the client reads");
        }
    }

    let logged = server.logged_hashes();
    let stored: BTreeSet<ChangeHash> = logged.iter().copied().collect();
    assert_eq!(stored.len(), logged.len(), "seed {seed}: a change was applied twice");
    let waiting: BTreeSet<ChangeHash> = client.outbox().values().flatten().map(|c| c.hash).collect();
    for hash in &made {
        assert!(stored.contains(hash) || waiting.contains(hash), "seed {seed}: change {hash} was lost (limit {limit})");
    }
    for (doc_id, pending) in client.outbox() {
        for change in pending {
            let rejection = change.rejected.as_ref().unwrap_or_else(|| panic!("seed {seed}: a sendable change was left behind"));
            assert_eq!(rejection.code, RejectionCode::TooLarge, "seed {seed}: {}", rejection.message);
        }
        assert!(
            pending.iter().any(|c| alone(&client, *doc_id, &c.bytes) > limit),
            "seed {seed}: record {doc_id} was held back as too large, but each of its changes fits the limit {limit} alone"
        );
    }
    for (doc_id, local) in client.documents() {
        if client.outbox().contains_key(doc_id) {
            continue;
        }
        let on_server = server.document(*doc_id).unwrap_or_else(|| panic!("seed {seed}: record {doc_id} never reached the server"));
        let mut heads = on_server.clone().get_heads();
        heads.sort();
        let mut local_heads = local.doc().clone().get_heads();
        local_heads.sort();
        assert_eq!(heads, local_heads, "seed {seed}: record {doc_id} differs between the device and the server");
    }
}

#[test]
fn any_backlog_reaches_the_server_through_any_limit_and_nothing_is_lost_or_doubled() {
    if let Ok(seed) = std::env::var("BMMS_BACKLOG_SEED") {
        return run_case(seed.parse().expect("BMMS_BACKLOG_SEED is a number"));
    }
    for seed in 0..CASES {
        run_case(2026_1200 + seed);
    }
}

#[test]
fn a_record_too_large_for_the_way_is_held_back_with_a_reason_and_the_others_go_on() {
    let mut rng = SmallRng::seed_from_u64(18);
    let mut server = MemoryServer::default();
    let device_id = DeviceId(Uuid::from_u128(0xB1));
    let actor = ActorId::from(device_id.uuid().as_bytes().to_vec());
    server.register_device(device_id, actor.clone());
    let mut client = SyncClient::new(device_id, actor);
    let large = client.create(DocId(Uuid::from_u128(1)), RecordKind::ManaAssessment);
    let notes = text(&mut rng, 10_000);
    client.edit(large, |e| e.set("notes", FieldValue::Text(notes))).unwrap();
    let small: Vec<DocId> = (2..12).map(|i| client.create(DocId(Uuid::from_u128(i)), RecordKind::ManaAssessment)).collect();
    let mut exchanges = 0;
    while client.sendable_count() > 0 {
        exchanges += 1;
        assert!(exchanges < 100);
        let (_, body) = client.next_request(0, BatchId(Uuid::from_u128(rng.gen()))).expect("due at once after a 413");
        if body.len() > 4_000 {
            client.on_too_large(0);
        } else {
            let answer = server.handle(&body).unwrap();
            client.on_response(&answer).unwrap();
        }
    }
    for doc in small {
        assert!(server.document(doc).is_some(), "the small records went through");
    }
    let state = client.record_state(large);
    let bmms_shared::sync::client::RecordSyncState::Refused(rejection) = state else { panic!("held back: {state:?}") };
    assert_eq!(rejection.code, RejectionCode::TooLarge);
    assert!(rejection.message.contains("export"), "the officer is told what to do: {}", rejection.message);
    let kept = &client.outbox()[&large];
    assert!(kept.iter().any(|c| c.bytes.len() > 10_000), "the long edit stays on the device: {} changes kept", kept.len());
}

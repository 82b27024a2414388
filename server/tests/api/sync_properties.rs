//! The sync invariants over real HTTP and PostgreSQL: a few devices edit offline on a
//! random schedule; answers are lost and batches sent twice at once; at the end every
//! replica is identical to the server and every change is stored exactly once.
//! Replay one schedule with BMMS_SYNC_SEED=<seed>.

use bmms_shared::DocId;
use crate::helpers::{spawn_app, TestApp};
use crate::sync::Device;
use automerge::{AutoCommit, ChangeHash, ReadDoc};
use bmms_shared::records::{self, FieldValue};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use uuid::Uuid;

const FIELDS: [&str; 3] = ["community", "municipality", "notes"];

fn outbox(device: &Device) -> BTreeSet<ChangeHash> {
    device.client.outbox().values().flatten().map(|c| c.hash).collect()
}

async fn logged(app: &TestApp) -> Vec<Vec<u8>> {
    sqlx::query_scalar("select hash from change_log order by seq").fetch_all(&app.owner).await.unwrap()
}

async fn run_schedule(seed: u64) {
    let app = spawn_app().await;
    // Both officers are given the municipality every assessment here is made in, so that
    // each phone holds every record (scopes have their own properties: sync_scope.rs).
    let (ana, ben) = crate::sync::two_officers(&app).await;
    let mut devices = vec![ana, Device::register(&app, "ana").await, ben];
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut made: Vec<BTreeSet<ChangeHash>> = vec![BTreeSet::new(); devices.len()];

    for step in 0..40 {
        let d = rng.gen_range(0..devices.len());
        let device = &mut devices[d];
        match rng.gen_range(0..10) {
            0 => {
                device.create_assessment(DocId(Uuid::from_u128(rng.gen())));
            }
            1..=5 => {
                let docs: Vec<DocId> = device.client.documents().keys().copied().collect();
                if docs.is_empty() {
                    continue;
                }
                let doc = docs[rng.gen_range(0..docs.len())];
                let field = FIELDS[rng.gen_range(0..FIELDS.len())];
                let value = format!("seed{seed}-step{step}-d{d}");
                device.client.edit(doc, |e| e.set(field, FieldValue::Text(value))).unwrap();
            }
            6 => {
                // The server commits; the answer never arrives.
                device.sync_with(&app, true).await;
            }
            7 => {
                // The same batch twice at the same moment (a retry racing the original).
                device.send_twice_at_once(&app).await;
            }
            _ => device.sync(&app).await,
        }
        made[d].extend(outbox(&devices[d]));
        // Nothing the server has not stored ever leaves an outbox.
        let stored: BTreeSet<Vec<u8>> = logged(&app).await.into_iter().collect();
        for (d, device) in devices.iter().enumerate() {
            let pending = outbox(device);
            for change in &made[d] {
                assert!(
                    pending.contains(change) || stored.contains(&change.0.to_vec()),
                    "seed {seed}: device {d} lost {change}"
                );
            }
        }
    }

    // The network heals: everyone syncs until nothing is pending (a retried batch may
    // leave newer edits for the next one), then once more to hear of the last changes.
    for _round in 0..5 {
        for device in devices.iter_mut() {
            device.sync(&app).await;
        }
        if devices.iter().all(|d| d.client.pending_count() == 0) {
            break;
        }
    }
    for device in devices.iter_mut() {
        device.sync(&app).await;
    }

    let hashes = logged(&app).await;
    let unique: BTreeSet<&Vec<u8>> = hashes.iter().collect();
    assert_eq!(unique.len(), hashes.len(), "seed {seed}: a change was stored twice");
    let all_made: BTreeSet<Vec<u8>> = made.iter().flatten().map(|h| h.0.to_vec()).collect();
    assert_eq!(all_made.len(), hashes.len(), "seed {seed}: the log holds exactly the changes the devices made");

    let stored: Vec<(DocId, Vec<u8>)> = sqlx::query_as("select id, data from documents").fetch_all(&app.owner).await.unwrap();
    let open: BTreeSet<(DocId, String)> = sqlx::query_as("select doc_id, field from conflicts where resolved_at is null")
        .fetch_all(&app.owner)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let mut expected_open = BTreeSet::new();
    for (doc_id, data) in stored {
        let mut server_doc = AutoCommit::load(&data).unwrap();
        let mut server_heads = server_doc.get_heads();
        server_heads.sort();
        for (d, device) in devices.iter().enumerate() {
            assert_eq!(device.client.pending_count(), 0, "seed {seed}: device {d} has unsynced changes");
            let mut local = device.client.documents()[&doc_id].doc().clone();
            let mut heads = local.get_heads();
            heads.sort();
            assert_eq!(heads, server_heads, "seed {seed}: device {d} differs from the server on {doc_id}");
            for field in FIELDS {
                assert_eq!(
                    local.get_all(automerge::ROOT, field).unwrap().len(),
                    server_doc.get_all(automerge::ROOT, field).unwrap().len(),
                    "seed {seed}: {field}"
                );
            }
        }
        for conflict in records::conflicts(&server_doc) {
            expected_open.insert((doc_id, conflict.field));
        }
    }
    assert_eq!(open, expected_open, "seed {seed}: the conflicts table matches the documents");
}

#[tokio::test]
async fn random_schedules_over_http_converge_and_store_each_change_once() {
    let seeds: Vec<u64> = match std::env::var("BMMS_SYNC_SEED") {
        Ok(seed) => vec![seed.parse().unwrap()],
        Err(_) => vec![11, 12, 13],
    };
    for seed in seeds {
        run_schedule(seed).await;
    }
}

//! The workloads of issue 3's benchmark, each returning its figures as JSON.

use bmms_shared::DocId;
use bmms_shared::records::{FieldValue, RecordKind};
use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

use crate::ab;
use crate::harness::{at_most, Bench, Device, Result, Session, TEXT_FIELDS};

fn edit(device: &mut Device, doc: DocId, field: &str, value: String) {
    device.client.edit(doc, |e| e.set(field, FieldValue::Text(value))).expect("a valid edit");
}

pub async fn w1_reconnect(bench: &Bench, session: &Session) -> Result<Value> {
    let mut device = bench.device(session).await?;
    let docs: Vec<DocId> = (0..500).map(|_| device.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment)).collect();
    for (i, doc) in docs.iter().enumerate() {
        edit(&mut device, *doc, "community", format!("Barangay {i}"));
    }
    bench.sync(&mut device).await?;
    for doc in &docs[..50] {
        for field in &TEXT_FIELDS[..5] {
            edit(&mut device, *doc, field, format!("{field} seen on the visit of 21 November"));
        }
    }
    bench.wire.reset();
    let cpu = bench.server_cpu();
    bench.sync(&mut device).await?;
    let cpu = bench.server_cpu() - cpu;
    assert_eq!(device.client.pending_count(), 0);
    let up = bench.wire.up.load(Ordering::SeqCst) as f64;
    let down = bench.wire.down.load(Ordering::SeqCst) as f64;
    Ok(json!({
        "round_trips": bench.wire.requests.load(Ordering::SeqCst),
        "bytes_up_per_dirty_document": (up / 50.0).round(),
        "bytes_down_per_dirty_document": (down / 50.0).round(),
        "bytes_per_dirty_document": ((up + down) / 50.0).round(),
        "server_cpu_ms_per_edit": (cpu * 1000.0 / 250.0 * 100.0).round() / 100.0,
    }))
}

pub async fn w2_conflict_storm(bench: &Bench, sessions: &[Session], rng: &mut SmallRng) -> Result<Value> {
    let mut devices = Vec::new();
    for i in 0..5 {
        devices.push(bench.device(&sessions[i % sessions.len()]).await?);
    }
    let docs: Vec<DocId> = (0..20).map(|_| devices[0].client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment)).collect();
    bench.sync(&mut devices[0]).await?;
    for device in devices.iter_mut().skip(1) {
        bench.sync(device).await?;
    }
    let mut truly_concurrent = std::collections::BTreeSet::new();
    for doc in &docs {
        for field in TEXT_FIELDS {
            let writers: Vec<usize> = if rng.gen_bool(0.3) {
                let n = rng.gen_range(2..=5);
                let mut all: Vec<usize> = (0..5).collect();
                for i in 0..n {
                    let j = rng.gen_range(i..5);
                    all.swap(i, j);
                }
                all.truncate(n);
                truly_concurrent.insert((*doc, field.to_owned()));
                all
            } else {
                vec![rng.gen_range(0..5)]
            };
            for w in writers {
                edit(&mut devices[w], *doc, field, format!("device {w} says {}", rng.gen::<u32>()));
            }
        }
    }
    for _round in 0..2 {
        for device in devices.iter_mut() {
            bench.sync(device).await?;
        }
    }
    let ids: Vec<DocId> = docs.clone();
    let surfaced: Vec<(DocId, String)> =
        sqlx::query_as("select doc_id, field from conflicts where resolved_at is null and doc_id = any($1)")
            .bind(&ids)
            .fetch_all(&bench.owner)
            .await?;
    let surfaced: std::collections::BTreeSet<(DocId, String)> = surfaced.into_iter().collect();
    let found = surfaced.intersection(&truly_concurrent).count();
    let false_ones = surfaced.difference(&truly_concurrent).count();
    Ok(json!({
        "true_conflicts": truly_concurrent.len(),
        "surfaced": surfaced.len(),
        "surfaced_percent": (found as f64 * 100.0 / truly_concurrent.len().max(1) as f64).round(),
        "false_conflicts": false_ones,
    }))
}

pub async fn w3_cold_start(bench: &Bench, session: &Session) -> Result<Value> {
    let mut writer = bench.device(session).await?;
    let mut results = Vec::new();
    let mut made = 0;
    for target in [1_000, 10_000] {
        while made < target {
            for _ in 0..500 {
                let doc = writer.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment);
                edit(&mut writer, doc, "community", format!("Barangay {made}"));
                edit(&mut writer, doc, "municipality", "Datu Odin Sinsuat".into());
                made += 1;
            }
            bench.sync(&mut writer).await?;
        }
        let mut fresh = bench.device(session).await?;
        bench.wire.reset();
        let started = Instant::now();
        bench.sync(&mut fresh).await?;
        let elapsed = started.elapsed();
        assert!(fresh.client.documents().len() >= target, "the new device has every document");
        let down = bench.wire.down.load(Ordering::SeqCst);
        results.push(json!({
            "documents": target,
            "bytes_down": down,
            "bytes_per_document": down / target as u64,
            "seconds": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
        }));
    }
    Ok(json!(results))
}

/// Five devices that keep editing the same 20 documents on one server.
struct HotDocuments {
    devices: Vec<Device>,
    docs: Vec<DocId>,
    rounds: usize,
}

impl HotDocuments {
    async fn new(bench: &Bench, session: &Session) -> Result<Self> {
        let mut devices = Vec::new();
        for _ in 0..5 {
            devices.push(bench.device(session).await?);
        }
        let docs = (0..20).map(|_| devices[0].client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment)).collect();
        for device in devices.iter_mut() {
            bench.sync(device).await?;
        }
        Ok(HotDocuments { devices, docs, rounds: 0 })
    }

    /// Every device edits four of the documents and syncs: the exchanges' latencies in ms.
    async fn round(&mut self, bench: &Bench) -> Result<Vec<f64>> {
        let (round, mut latencies) = (self.rounds, Vec::new());
        for (d, device) in self.devices.iter_mut().enumerate() {
            for k in 0..4 {
                let doc = self.docs[(round * 7 + d * 3 + k) % self.docs.len()];
                edit(device, doc, TEXT_FIELDS[(round + k) % TEXT_FIELDS.len()], format!("round {round} device {d}"));
            }
            latencies.push(bench.sync(device).await?.as_secs_f64() * 1000.0);
        }
        self.rounds += 1;
        Ok(latencies)
    }
}

/// What keeping documents in memory saves, as an unbiased A/B (bench/src/ab.rs): the same
/// work on a server with the document cache (A) and on one without (B), both on the same
/// database. A warm-up of 4 rounds each is thrown away; then 20 blocks of 2 rounds on each
/// server, in a seeded random order. Each server's CPU is read over its own blocks only
/// (the other server idles meanwhile).
pub async fn w4_hot_documents(cached: (&Bench, &Session), uncached: (&Bench, &Session)) -> Result<Value> {
    const SEED: u64 = 2026_12_08;
    let benches = [cached.0, uncached.0];
    let mut sets = [HotDocuments::new(cached.0, cached.1).await?, HotDocuments::new(uncached.0, uncached.1).await?];
    for (bench, set) in benches.iter().zip(sets.iter_mut()) {
        for _ in 0..4 {
            set.round(bench).await?;
        }
    }
    let cpu_before = benches.map(|bench| bench.server_cpu());
    let mut samples = [Vec::new(), Vec::new()];
    for without_cache in ab::block_order(20, SEED) {
        let i = without_cache as usize;
        for _ in 0..2 {
            samples[i].extend(sets[i].round(benches[i]).await?);
        }
    }
    let edits = (20 * 2 * 5 * 4) as f64;
    let cpu_per_edit = |i: usize| ((benches[i].server_cpu() - cpu_before[i]) * 1000.0 / edits * 100.0).round() / 100.0;
    let mut comparison = ab::compare(&samples[0], &samples[1], 10.0, SEED);
    comparison["a"] = json!("with the document cache");
    comparison["b"] = json!("without it");
    Ok(json!({
        "edits_each": edits,
        "with_cache": {"server_cpu_ms_per_edit": cpu_per_edit(0), "p50_ms": comparison["median_a"]},
        "without_cache": {"server_cpu_ms_per_edit": cpu_per_edit(1), "p50_ms": comparison["median_b"]},
        "exchange_latency": comparison,
    }))
}

pub async fn w5_load(bench: Arc<Bench>, sessions: Vec<Session>) -> Result<Value> {
    // The devices register 50 at a time, which also opens the server's database connections,
    // as a server in service has them open before the measured exchanges.
    let registered = at_most(50, 0..1_000, |i| {
        let (bench, session) = (bench.clone(), sessions[i % sessions.len()].clone());
        async move { bench.device(&session).await }
    })
    .await?;
    let mut devices = Vec::new();
    for (i, mut device) in registered.into_iter().enumerate() {
        for _ in 0..5 {
            let doc = device.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment);
            for field in &TEXT_FIELDS[..5] {
                edit(&mut device, doc, field, format!("{field} from device {i}"));
            }
        }
        devices.push(device);
    }
    // What a phone does on its own (encoding its changes, reading the answer) is done before
    // the clock starts and after it stops, and the requests go to the server directly, not
    // through the byte-counting proxy: here that work would take the two cores the server
    // and PostgreSQL are measured on, while real phones and networks bring their own.
    let requests: Vec<(Session, Vec<u8>)> =
        devices.iter_mut().map(|device| Ok((device.session.clone(), Bench::prepare(device)?))).collect::<Result<_>>()?;
    bench.settle().await?;
    let lsn = bench.wal_lsn().await?;
    let cpu = bench.server_cpu();
    let started = Instant::now();
    let answers = at_most(50, requests, |(session, body)| {
        let bench = bench.clone();
        async move { bench.post_to(&bench.direct, &session, body).await }
    })
    .await?;
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu = bench.server_cpu() - cpu;
    let edits = 1_000.0 * 25.0;
    let mut latencies: Vec<_> = answers.iter().map(|(latency, _)| *latency).collect();
    latencies.sort();
    for (_, answer) in &answers {
        Bench::check(answer)?;
    }
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    let wal = bench.wal_bytes_since(&lsn).await?;
    Ok(json!({
        "devices": 1_000,
        "edits": edits,
        "edits_per_second": (edits / elapsed).round(),
        "p50_ms": percentile(0.50).round(),
        "p99_ms": percentile(0.99).round(),
        "postgres_wal_bytes_per_edit": (wal / edits).round(),
        // Of the two cores over the run, the share the BMMS server used (the rest went to
        // PostgreSQL, the load generator and idle time).
        "server_cpu_share_percent": (server_cpu * 100.0 / (elapsed * 2.0)).round(),
        "server_cpu_ms_per_request": (server_cpu * 1000.0 / 1000.0 * 100.0).round() / 100.0,
    }))
}


//! H1 and H2 (issue 12): what hostile and careless clients cost the server.
//!
//! H1 hostile bodies: 8 sync bodies at once from 8 accounts, each a compression bomb (40
//! million empty changes in about 40 KB), 10 rounds; the server process's resident memory
//! is sampled every 2 ms and `/healthz` is asked in a loop meanwhile.
//! H2 stalled exports: 10 exports of 40,000 assessments (12 MB each) that are never read,
//! then 200 requests of another organization's supervisor (a records page), one after
//! the other.
//! Baseline: pgbench's built-in TPC-B-like script for 5 s on the same cluster, so that a
//! figure can be compared across machines as a ratio.

use bmms_shared::{BatchId, DeviceId, DocId};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::harness::{Bench, Result, Session};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len().max(1) - 1) as f64 * p) as usize).copied().unwrap_or(0.0)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The server's resident memory in MB, from /proc.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// A compression bomb: one document claiming `count` changes, all empty, deflated.
fn bomb(count: u64) -> Vec<u8> {
    let request = bmms_shared::sync::protocol::SyncRequest {
        device_id: DeviceId(Uuid::new_v4()),
        batch_id: BatchId(Uuid::new_v4()),
        cursor: 0,
        documents: vec![bmms_shared::sync::protocol::DocumentChanges {
            doc_id: DocId(Uuid::new_v4()),
            kind: bmms_shared::records::RecordKind::ManaAssessment,
            changes: vec![],
        }],
        scope_version: 0,
    };
    let mut body = bmms_shared::sync::protocol::encode_uncompressed(&request)[2..].to_vec();
    body.truncate(body.len() - 2); // the scope version and the change count (the bomb ends before either)
    let mut n = count;
    while n >= 0x80 {
        body.push((n as u8) | 0x80);
        n >>= 7;
    }
    body.push(n as u8);
    let mut encoder = flate2::write::DeflateEncoder::new(vec![bmms_shared::sync::protocol::PROTOCOL_VERSION, 1], flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    encoder.write_all(&body).ok();
    for _ in 0..count / (1 << 20) {
        encoder.write_all(&zeros).ok();
    }
    encoder.finish().unwrap_or_default()
}

pub async fn h1_hostile_bodies(bench: Arc<Bench>) -> Result<Value> {
    let mut sessions = Vec::new();
    for i in 0..8 {
        sessions.push(bench.sign_in("MOTC", &format!("bench.h1.{i}")).await?);
    }
    let body = bomb(40_000_000);
    let rss_before = rss_mb(bench.server_pid);
    let (done, peak_kb) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let sampler = {
        let (done, peak_kb, pid) = (done.clone(), peak_kb.clone(), bench.server_pid);
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak_kb.fetch_max((rss_mb(pid) * 1024.0) as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let health = {
        let (done, bench) = (done.clone(), bench.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                let ok = bench.http.get(format!("{}/healthz", bench.direct)).send().await.is_ok_and(|r| r.status().is_success());
                latencies.push((started.elapsed().as_secs_f64() * 1000.0, ok));
            }
            latencies
        })
    };
    let mut refused = 0;
    for _round in 0..10 {
        let sent = sessions.iter().map(|session| {
            let (bench, session, body) = (bench.clone(), session.clone(), body.clone());
            tokio::spawn(async move { post_status(&bench, &session, body).await })
        });
        for task in sent.collect::<Vec<_>>() {
            if task.await?? == 413 {
                refused += 1;
            }
        }
    }
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    let health = health.await?;
    let mut latencies: Vec<f64> = health.iter().map(|(ms, _)| *ms).collect();
    latencies.sort_by(f64::total_cmp);
    Ok(json!({
        "bodies": 80,
        "body_bytes": body.len(),
        "refused_413": refused,
        "server_rss_before_mb": round1(rss_before),
        "server_rss_peak_mb": round1(peak_kb.load(Ordering::Relaxed) as f64 / 1024.0),
        "healthz_answers": health.len(),
        "healthz_failures": health.iter().filter(|(_, ok)| !ok).count(),
        "healthz_p50_ms": round1(percentile(&latencies, 0.50)),
        "healthz_p99_ms": round1(percentile(&latencies, 0.99)),
    }))
}

async fn post_status(bench: &Bench, session: &Session, body: Vec<u8>) -> Result<u16> {
    let response = bench
        .http
        .post(format!("{}/api/v1/sync", bench.direct))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .header("content-type", bmms_shared::sync::protocol::CONTENT_TYPE)
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
}

pub async fn h2_stalled_exports(bench: Arc<Bench>) -> Result<Value> {
    sqlx::query(
        "insert into mana_assessments (org_id, id, status, community, municipality, province, households)
         select (select id from organizations where code = 'MPW'), gen_random_uuid(), 'submitted',
                'Barangay ' || n || ' ' || repeat('x', 200), 'Datu Piang', 'Maguindanao del Sur', n % 500
         from generate_series(1, 40000) as n",
    )
    .execute(&bench.owner)
    .await?;
    let mut stalled = Vec::new();
    for i in 0..5 {
        let session = bench.sign_in_as("MPW", &format!("bench.h2.staff{i}"), "ministry_staff").await?;
        for _ in 0..2 {
            let response = bench
                .http
                .get(format!("{}/api/v1/assessments/export?format=csv", bench.direct))
                .header("cookie", &session.cookie)
                .send()
                .await?;
            if !response.status().is_success() {
                return Err(format!("export answered {}", response.status()).into());
            }
            stalled.push(response);
        }
    }
    let other = bench.sign_in_as("MOST", "bench.h2.supervisor", "supervisor").await?;
    let mut latencies = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let response = bench.http.get(format!("{}/api/v1/assessments?limit=50", bench.direct)).header("cookie", &other.cookie).send().await?;
        let ok = response.status().is_success();
        response.bytes().await?;
        if !ok {
            return Err("another organization's request failed while the exports stalled".into());
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    drop(stalled);
    latencies.sort_by(f64::total_cmp);
    Ok(json!({
        "stalled_exports": 10,
        "rows_per_export": 40_000,
        "other_requests": 200,
        "other_p50_ms": round1(percentile(&latencies, 0.50)),
        "other_p99_ms": round1(percentile(&latencies, 0.99)),
    }))
}

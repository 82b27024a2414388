//! Eight hostile sync bodies at once, over real HTTP, against a server in this process
//! whose every allocation is counted: they are refused, the server's memory stays within
//! a small bound while they arrive, and it answers `/healthz` and a good sync meanwhile.
//! (Before the bounds, one such body cost about 800 MB to decode, and the merge then
//! reserved memory from its claimed count: over 17 GB.) A test binary of its own, so
//! that no other test's allocations are counted.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use bmms_shared::{BatchId, DeviceId, DocId};
use bmms_shared::records::RecordKind;
use bmms_shared::sync::protocol::{self, DocumentChanges, SyncRequest, CONTENT_TYPE};
use bmms_shared::Role;
use helpers::{spawn_app, Browser, TestApp};
use reqwest::header::{CONTENT_TYPE as CT, COOKIE};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use uuid::Uuid;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

struct Counting;

fn grew(by: isize) {
    let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: isize = 1024 * 1024;

/// One document whose change list claims `count` changes and holds `present` empty ones.
fn claiming(count: u64, present: usize) -> Vec<u8> {
    let request = SyncRequest {
        device_id: DeviceId(Uuid::new_v4()),
        batch_id: BatchId(Uuid::new_v4()),
        cursor: 0,
        documents: vec![DocumentChanges { doc_id: DocId(Uuid::new_v4()), kind: RecordKind::ManaAssessment, changes: vec![] }],
        scope_version: 0,
    };
    let mut body = postcard::to_allocvec(&request).unwrap();
    body.truncate(body.len() - 2); // the scope version and the change count
    let mut n = count;
    while n >= 0x80 {
        body.push((n as u8) | 0x80);
        n >>= 7;
    }
    body.push(n as u8);
    body.resize(body.len() + present, 0);
    body.push(0); // the scope version
    body
}

fn deflated(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(vec![protocol::PROTOCOL_VERSION, 1], flate2::Compression::best());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

async fn post(app: &TestApp, who: &Browser, body: Vec<u8>) -> (u16, String) {
    let response = app
        .http
        .post(format!("{}/api/v1/sync", app.base))
        .header(COOKIE, &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .header(CT, CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_hostile_bodies_at_once_are_refused_in_bounded_memory_while_the_server_answers() {
    let app = spawn_app().await;
    let mut officers = Vec::new();
    for i in 0..8 {
        let name = format!("officer{i}");
        app.create_user("MILG", &name, Role::FieldOfficer).await;
        officers.push(app.sign_in(&name).await);
    }
    // Compression bombs (40 million empty changes in ~40 KB), bombs that fit the inflated
    // bound but claim 5 million changes, and a plain body claiming 2^40 of them.
    let bomb = deflated(&claiming(40_000_000, 40_000_000));
    let within = deflated(&claiming(5_000_000, 5_000_000));
    let claim = [&[protocol::PROTOCOL_VERSION, 0][..], &claiming(1 << 40, 100)].concat();
    let bodies: Vec<(Vec<u8>, (u16, &str))> = vec![
        (bomb.clone(), (413, "sync_too_large")),
        (bomb.clone(), (413, "sync_too_large")),
        (bomb.clone(), (413, "sync_too_large")),
        (bomb, (413, "sync_too_large")),
        (within.clone(), (413, "sync_too_large")),
        (within.clone(), (413, "sync_too_large")),
        (within, (413, "sync_too_large")),
        (claim, (400, "sync_unreadable")),
    ];

    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let done = AtomicBool::new(false);
    // Answers that came while hostile bodies were still being handled.
    let health = async {
        let mut answered = 0;
        while !done.load(Ordering::Relaxed) {
            let status = app.http.get(format!("{}/healthz", app.base)).send().await.unwrap().status();
            assert_eq!(status, 200);
            if !done.load(Ordering::Relaxed) {
                answered += 1;
            }
        }
        answered
    };
    let hostile = async {
        let sent = bodies.iter().zip(&officers).map(|((body, _), who)| post(&app, who, body.clone()));
        let answers = futures_util::future::join_all(sent).await;
        done.store(true, Ordering::Relaxed);
        answers
    };
    let (answers, health_answers) = tokio::join!(hostile, health);
    let peak = PEAK.load(Ordering::Relaxed) - before;

    for ((_, expected), (status, code)) in bodies.iter().zip(&answers) {
        assert_eq!((*status, code.as_str()), *expected);
    }
    assert!(health_answers > 0, "/healthz answered while the bodies arrived");
    // The bound: a few inflated bodies (16 MiB each at most, one per core at a time) and
    // the raw bodies; far from the gigabytes an unbounded decoder takes.
    assert!(peak < 150 * MIB, "the server held {} MiB at its peak", peak / MIB);
    println!("peak memory while 8 hostile bodies arrived: {} MiB; /healthz answered {health_answers} times", peak / MIB);

    // And a real exchange still works.
    let device: serde_json::Value = app
        .request(reqwest::Method::POST, "/api/v1/devices", Some(&officers[0]), None)
        .await
        .json()
        .await
        .unwrap();
    let request = SyncRequest {
        device_id: device["device_id"].as_str().unwrap().parse().unwrap(),
        batch_id: BatchId(Uuid::new_v4()),
        cursor: 0,
        documents: vec![],
        scope_version: 0,
    };
    assert_eq!(post(&app, &officers[0], protocol::encode(&request)).await.0, 200);
}

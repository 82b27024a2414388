//! Any backlog syncs, over real HTTP (issue 18): a week of edits, larger than one request
//! may be, through a proxy that takes less than the server does. The random properties
//! are in shared/tests/sync_backlog.rs; this is the same against PostgreSQL.

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::{BatchId, DocId, Role};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};
use crate::sync::Device;

/// A reverse proxy on loopback in front of `app` that answers 413 to a sync body over
/// `limit` bytes, as nginx's `client_max_body_size` does, and passes the rest on.
async fn limiting_proxy(app: &TestApp, limit: usize) -> String {
    let (upstream, http) = (format!("{}/api/v1/sync", app.base), app.http.clone());
    let forward = move |headers: HeaderMap, body: Bytes| async move {
        let mut request = http.post(&upstream).body(body);
        for name in ["cookie", "x-csrf-token", "content-type"] {
            if let Some(value) = headers.get(name) {
                request = request.header(name, value);
            }
        }
        let response = request.send().await.unwrap();
        (response.status(), response.bytes().await.unwrap())
    };
    let router = Router::new().route("/api/v1/sync", post(forward)).layer(DefaultBodyLimit::max(limit));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

#[tokio::test]
async fn a_backlog_larger_than_a_request_syncs_whole_through_a_proxy_that_takes_less() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let mut device = Device::register(&app, "ana").await;
    // 200 records of 15 long notes each: about 6 MB of changes, letters drawn at random so
    // that they compress little. One request at the server's own bounds takes about 4 MB.
    let mut rng = SmallRng::seed_from_u64(18);
    for _ in 0..200 {
        let doc = device.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment);
        for _ in 0..15 {
            let notes: String = (0..2_000).map(|_| rng.gen_range(b'a'..=b'z') as char).collect();
            device.client.edit(doc, |e| e.set("notes", FieldValue::Text(notes))).unwrap();
        }
    }
    let made = device.client.pending_count();
    let proxy = limiting_proxy(&app, 512 * 1024).await;

    let (mut exchanges, mut too_large) = (0, 0);
    while device.client.sendable_count() > 0 {
        exchanges += 1;
        assert!(exchanges <= 100, "{} edits still wait after 100 exchanges", device.client.sendable_count());
        let (_, body) = device.client.next_request(0, BatchId(Uuid::new_v4())).expect("due at once");
        let response = app
            .http
            .post(format!("{proxy}/api/v1/sync"))
            .header("cookie", &device.browser.cookie)
            .header("x-csrf-token", &device.browser.csrf)
            .header("content-type", bmms_shared::sync::protocol::CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::OK => {
                device.client.on_response(&response.bytes().await.unwrap()).unwrap();
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                too_large += 1;
                device.client.on_too_large(0);
            }
            other => panic!("the exchange answered {other}"),
        }
    }
    assert!(too_large > 0, "the proxy's limit was met");
    assert_eq!(device.client.pending_count(), 0, "nothing is held back: every record fits the way in small batches");
    assert_eq!(app.count("mana_assessments").await, 200, "every record reached the server");
    assert_eq!(app.count("change_log").await as usize, made, "every change is stored, each once");
}

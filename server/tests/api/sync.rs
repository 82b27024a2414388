//! Sync over real HTTP against PostgreSQL: devices converge, retries change nothing and
//! conflicts surface. What the server refuses is in `sync_refusals.rs`.

use bmms_shared::DeviceId;
use bmms_shared::{BatchId, DocId};
use crate::helpers::{spawn_app, Browser, TestApp};
use automerge::ActorId;
use bmms_shared::records::{self, FieldValue, RecordKind};
use bmms_shared::sync::client::SyncClient;
use bmms_shared::sync::protocol::{self, SyncResponse, CONTENT_TYPE};
use bmms_shared::Role;
use reqwest::header::{CONTENT_TYPE as CT, COOKIE};
use uuid::Uuid;

/// A field officer's device: its browser session and its sync core.
pub struct Device {
    pub browser: Browser,
    pub client: SyncClient,
    now: u64,
}

impl Device {
    pub async fn register(app: &TestApp, username: &str) -> Device {
        let browser = app.sign_in(username).await;
        let response = app.request(reqwest::Method::POST, "/api/v1/devices", Some(&browser), None).await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        let device_id: DeviceId = body["device_id"].as_str().unwrap().parse().unwrap();
        let actor = ActorId::from(hex::decode(body["actor"].as_str().unwrap()).unwrap());
        Device { browser, client: SyncClient::new(device_id, actor), now: 0 }
    }

    /// One exchange; the answer is handed to the client unless `lose_answer`.
    pub async fn sync_with(&mut self, app: &TestApp, lose_answer: bool) -> reqwest::StatusCode {
        self.now += 1_000_000;
        let (_, body) = self.client.next_request(self.now, BatchId(Uuid::new_v4())).unwrap();
        let response = post_sync(app, &self.browser, body).await;
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        if status.is_success() && !lose_answer {
            self.client.on_response(&bytes).unwrap();
        } else {
            self.client.on_failure(self.now);
        }
        status
    }

    /// Sends the next batch twice concurrently and takes the second answer.
    pub async fn send_twice_at_once(&mut self, app: &TestApp) {
        self.now += 1_000_000;
        let (_, body) = self.client.next_request(self.now, BatchId(Uuid::new_v4())).unwrap();
        let (a, b) = tokio::join!(post_sync(app, &self.browser, body.clone()), post_sync(app, &self.browser, body));
        assert_eq!((a.status(), b.status()), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
        self.client.on_response(&b.bytes().await.unwrap()).unwrap();
    }

    pub async fn sync(&mut self, app: &TestApp) {
        assert_eq!(self.sync_with(app, false).await, 200);
    }

    /// A new assessment at [`SHARED_PLACE`], so that every officer given its municipality
    /// holds it.
    pub fn create_assessment(&mut self, doc: DocId) -> DocId {
        self.client.create(doc, RecordKind::ManaAssessment);
        set(self, doc, "place_code", FieldValue::Text(SHARED_PLACE.into()));
        doc
    }
}

pub async fn post_sync(app: &TestApp, browser: &Browser, body: Vec<u8>) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/sync", app.base))
        .header(COOKIE, &browser.cookie)
        .header("x-csrf-token", &browser.csrf)
        .header(CT, CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .unwrap()
}

pub async fn two_officers(app: &TestApp) -> (Device, Device) {
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    app.create_user("MILG", "ben", Role::FieldOfficer).await;
    give_shared_place(app, "ana").await;
    give_shared_place(app, "ben").await;
    (Device::register(app, "ana").await, Device::register(app, "ben").await)
}

/// A barangay (Arco, City of Lamitan) whose municipality [`give_shared_place`] gives
/// officers: a field officer's phone holds the assessments of its municipalities
/// (sync_scope.rs), so an assessment made there reaches every officer given it.
pub const SHARED_PLACE: &str = "1900702001";

/// Gives a field officer the municipality of [`SHARED_PLACE`], as a supervisor would.
pub async fn give_shared_place(app: &TestApp, username: &str) {
    sqlx::query(
        "insert into officer_areas (org_id, user_id, municipality_code, given_by)
         select m.org_id, u.id, '1900702000', u.id from users u join memberships m on m.user_id = u.id where u.username = $1",
    )
    .bind(username)
    .execute(&app.owner)
    .await
    .unwrap();
}

pub fn set(device: &mut Device, doc: DocId, field: &str, value: FieldValue) {
    device.client.edit(doc, |e| e.set(field, value)).unwrap();
}

#[tokio::test]
async fn two_devices_converge_and_a_same_field_edit_is_one_conflict() {
    let app = spawn_app().await;
    let (mut ana, mut ben) = two_officers(&app).await;
    let doc = DocId(Uuid::new_v4());
    ana.create_assessment(doc);
    set(&mut ana, doc, "community", FieldValue::Text("Poblacion".into()));
    ana.sync(&app).await;
    ben.sync(&app).await;
    assert!(ben.client.documents().contains_key(&doc), "ben received the new assessment");

    // Offline, both change households; ana also the province, ben the notes.
    set(&mut ana, doc, "households", FieldValue::Integer(120));
    set(&mut ana, doc, "province", FieldValue::Text("Maguindanao del Sur".into()));
    set(&mut ben, doc, "households", FieldValue::Integer(135));
    set(&mut ben, doc, "notes", FieldValue::Text("Bridge washed out".into()));
    ana.sync(&app).await;
    ben.sync(&app).await;
    ana.sync(&app).await;

    for device in [&ana, &ben] {
        let local = &device.client.documents()[&doc];
        assert_eq!(records::get(&local.doc(), "province"), Some(FieldValue::Text("Maguindanao del Sur".into())));
        assert_eq!(records::get(&local.doc(), "notes"), Some(FieldValue::Text("Bridge washed out".into())));
        assert_eq!(local.conflicts.len(), 1, "only households conflicts");
        assert_eq!(local.conflicts[0].field, "households");
        assert_eq!(device.client.pending_count(), 0);
    }
    let open: Vec<(String, serde_json::Value)> =
        sqlx::query_as("select field, candidates from conflicts where resolved_at is null").fetch_all(&app.owner).await.unwrap();
    assert_eq!(open.len(), 1);
    let mut candidates: Vec<String> = serde_json::from_value(open[0].1.clone()).unwrap();
    candidates.sort();
    assert_eq!(candidates, ["120", "135"]);

    let row: (String, Option<String>, Option<i32>) =
        sqlx::query_as("select status, province, households from mana_assessments where id = $1")
            .bind(doc)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(row.0, "draft");
    assert_eq!(row.1.as_deref(), Some("Maguindanao del Sur"));
    assert!(matches!(row.2, Some(120) | Some(135)), "one of the conflicting values is current");
}

#[tokio::test]
async fn a_lost_answer_then_a_retry_stores_every_change_exactly_once() {
    let app = spawn_app().await;
    let (mut ana, _) = two_officers(&app).await;
    let doc = DocId(Uuid::new_v4());
    ana.client.create(doc, RecordKind::ManaAssessment);
    set(&mut ana, doc, "community", FieldValue::Text("Tamontaka".into()));
    set(&mut ana, doc, "households", FieldValue::Integer(40));
    assert_eq!(ana.sync_with(&app, true).await, 200, "the server committed; the answer is lost");
    assert_eq!(ana.client.pending_count(), 3, "unacknowledged changes stay in the outbox");
    ana.sync(&app).await;
    assert_eq!(ana.client.pending_count(), 0);
    assert_eq!(app.count("change_log").await, 3);
    assert_eq!(app.count("sync_batches").await, 1, "the retry was the same batch");
    let households: Option<i32> = sqlx::query_scalar("select households from mana_assessments where id = $1")
        .bind(doc)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(households, Some(40));
}

#[tokio::test]
async fn the_same_batch_sent_twice_at_once_is_applied_once() {
    let app = spawn_app().await;
    let (mut ana, _) = two_officers(&app).await;
    let doc = DocId(Uuid::new_v4());
    ana.client.create(doc, RecordKind::ManaAssessment);
    set(&mut ana, doc, "households", FieldValue::Integer(80));
    let (_, body) = ana.client.next_request(1, BatchId(Uuid::new_v4())).unwrap();
    let (first, second) = tokio::join!(post_sync(&app, &ana.browser, body.clone()), post_sync(&app, &ana.browser, body));
    for response in [first, second] {
        assert_eq!(response.status(), 200);
        let answer: SyncResponse = protocol::decode(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(answer.acknowledged, vec![doc]);
    }
    assert_eq!(app.count("change_log").await, 2);
    assert_eq!(app.count("documents").await, 1);
}

#[tokio::test]
async fn a_connection_cut_after_the_commit_loses_and_duplicates_nothing() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let (mut ana, _) = two_officers(&app).await;
    let doc = DocId(Uuid::new_v4());
    ana.client.create(doc, RecordKind::ManaAssessment);
    set(&mut ana, doc, "community", FieldValue::Text("Tuka".into()));
    let (_, body) = ana.client.next_request(1, BatchId(Uuid::new_v4())).unwrap();

    // Write the request by hand and hang up without reading the answer.
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/sync HTTP/1.1\r\nHost: {address}\r\nCookie: {}\r\nx-csrf-token: {}\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\n\r\n",
        ana.browser.cookie, ana.browser.csrf, body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&body).await.unwrap();
    // Wait (bounded) for the server to commit the batch, then cut the connection.
    let committed = async {
        while app.count("sync_batches").await == 0 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), committed).await.expect("the server committed the batch");
    drop(socket);
    ana.client.on_failure(1);

    assert_eq!(ana.client.pending_count(), 2, "without an answer the device keeps everything");
    ana.sync(&app).await;
    assert_eq!(ana.client.pending_count(), 0);
    assert_eq!(app.count("change_log").await, 2, "nothing was stored twice");
    assert_eq!(app.count("sync_batches").await, 1, "the retry was recognised as the same batch");
}

#[tokio::test]
async fn two_server_replicas_with_their_own_caches_lose_no_edit() {
    let app = spawn_app().await;
    let (mut ana, mut ben) = two_officers(&app).await;
    // A second server on the same database, with a cache of its own, for ben.
    let replica = bmms_server::app::AppState::new(app.state.db.clone(), (*app.state.settings).clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let replica_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(bmms_server::app::serve(listener, replica.clone(), std::future::pending()));
    let replica_app = TestApp::sharing_database_with(&app, replica_base, replica.clone());

    let doc = DocId(Uuid::new_v4());
    ana.create_assessment(doc);
    ana.sync(&app).await;
    set(&mut ana, doc, "community", FieldValue::Text("Poblacion".into()));
    ana.sync(&app).await;
    assert!(app.state.documents.hits() >= 1, "the second batch found the document in memory");

    // Ben writes through the replica; the first server's copy is now out of date.
    ben.sync(&replica_app).await;
    set(&mut ben, doc, "notes", FieldValue::Text("Road flooded".into()));
    ben.sync(&replica_app).await;
    set(&mut ana, doc, "households", FieldValue::Integer(64));
    ana.sync(&app).await;
    ben.sync(&replica_app).await;

    let record: serde_json::Value = app.get(&format!("/api/v1/records/{doc}"), &ana.browser).await.json().await.unwrap();
    assert_eq!(record["fields"]["community"], "Poblacion");
    assert_eq!(record["fields"]["notes"], "Road flooded", "the replica's write survived the stale cache");
    assert_eq!(record["fields"]["households"], 64);
    let local = &ben.client.documents()[&doc].doc();
    assert_eq!(records::get(local, "households"), Some(FieldValue::Integer(64)));
}

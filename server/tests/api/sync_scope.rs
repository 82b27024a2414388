//! A field officer's device holds its scope (docs/sync-protocol.md, "Sync scope") over
//! real HTTP and PostgreSQL: the municipalities a supervisor gives, the tasks assigned,
//! what the officer created or pinned; what leaves the scope leaves the device, never
//! with unsent changes; and a device asking for more gets none of it. The property test
//! replays one schedule with BMMS_SCOPE_SEED=<seed>.

use crate::helpers::{spawn_app, Browser, TestApp};
use crate::sync::{post_sync, Device};
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::sync::protocol::{self, SyncRequest, SyncResponse};
use bmms_shared::{BatchId, DocId, Role};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use uuid::Uuid;

const LAMITAN: &str = "1900702000";
const LANTAWAN: &str = "1900703000";
const MALUSO: &str = "1900704000";

/// Sofia supervises; Ana and Ben are field officers of MILG, given no municipality yet;
/// Ben's device has made `per_place` assessments in each of Lamitan and Lantawan.
struct Team {
    app: TestApp,
    sofia: Browser,
    ana: Device,
    ben: Device,
    lamitan: Vec<DocId>,
    lantawan: Vec<DocId>,
}

async fn team(per_place: usize) -> Team {
    let app = spawn_app().await;
    app.create_user("MILG", "sofia", Role::Supervisor).await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    app.create_user("MILG", "ben", Role::FieldOfficer).await;
    let sofia = app.sign_in("sofia").await;
    let mut ben = Device::register(&app, "ben").await;
    let mut made = |place: &str| {
        (0..per_place)
            .map(|_| {
                let id = ben.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment);
                ben.client.edit(id, |e| e.set("place_code", FieldValue::Text(place.into()))).unwrap();
                id
            })
            .collect::<Vec<_>>()
    };
    let (lamitan, lantawan) = (made(LAMITAN), made(LANTAWAN));
    ben.sync(&app).await;
    let ana = Device::register(&app, "ana").await;
    Team { app, sofia, ana, ben, lamitan, lantawan }
}

async fn give_areas(app: &TestApp, supervisor: &Browser, officer: &str, codes: &[&str]) {
    let body = json!({"municipalities": codes});
    let answer = app.request(reqwest::Method::PUT, &format!("/api/v1/officers/{officer}/areas"), Some(supervisor), Some(body)).await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

async fn new_task(app: &TestApp, supervisor: &Browser, assignee: &str) -> DocId {
    let body = json!({"title": "Check the stations", "ppa": "Water", "site": "Lamitan", "due_date": "2099-01-31", "assignee": assignee});
    let answer = app.request(reqwest::Method::POST, "/api/v1/tasks", Some(supervisor), Some(body)).await;
    assert_eq!(answer.status(), 201);
    answer.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse().unwrap()
}

fn held(device: &Device) -> BTreeSet<DocId> {
    device.client.documents().keys().copied().collect()
}

fn ids<'a>(lists: impl IntoIterator<Item = &'a Vec<DocId>>) -> BTreeSet<DocId> {
    lists.into_iter().flatten().copied().collect()
}

/// The officer's scope as the database says it (the test connects as a superuser).
async fn scope_of(app: &TestApp, username: &str) -> BTreeSet<DocId> {
    sqlx::query_scalar("select officer_scope((select id from users where username = $1))")
        .bind(username)
        .fetch_all(&app.owner)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test]
async fn an_officers_phone_holds_the_municipalities_given_and_follows_each_change() {
    let Team { app, sofia, mut ana, mut ben, lamitan, lantawan } = team(3).await;
    let hers = new_task(&app, &sofia, "ana").await;
    let his = new_task(&app, &sofia, "ben").await;
    give_areas(&app, &sofia, "ana", &[LAMITAN]).await;

    // First sign-in: Lamitan's assessments and her task, nothing else.
    ana.sync(&app).await;
    assert_eq!(held(&ana), ids([&lamitan, &vec![hers]]));
    assert!(!held(&ana).contains(&his));

    // She edits a Lamitan assessment offline while her supervisor moves her to Lantawan:
    // her edit is stored, then the record leaves her phone with the rest of Lamitan.
    ana.client.edit(lamitan[0], |e| e.set("community", FieldValue::Text("Sitio Proper".into()))).unwrap();
    give_areas(&app, &sofia, "ana", &[LANTAWAN]).await;
    ana.sync(&app).await;
    assert_eq!(held(&ana), ids([&lantawan, &vec![hers]]));
    assert_eq!(ana.client.pending_count(), 0);
    let stored: i64 = sqlx::query_scalar("select count(*) from mana_assessments where community = 'Sitio Proper'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(stored, 1, "her edit reached the server before the record left her phone");

    // What stays in scope comes as changes: Ben's edit reaches her.
    ben.client.edit(lantawan[1], |e| e.set("households", FieldValue::Integer(42))).unwrap();
    ben.sync(&app).await;
    ana.sync(&app).await;
    let households = bmms_shared::records::get(ana.client.documents()[&lantawan[1]].doc(), "households");
    assert_eq!(households, Some(FieldValue::Integer(42)));

    // A pin brings one record from elsewhere; unpinned, it leaves.
    let pin = app.request(reqwest::Method::POST, &format!("/api/v1/records/{}/pin", lamitan[2]), Some(&ana.browser), Some(json!({}))).await;
    assert_eq!(pin.status(), 200);
    ana.sync(&app).await;
    assert!(held(&ana).contains(&lamitan[2]));
    let unpin = app.request(reqwest::Method::DELETE, &format!("/api/v1/records/{}/pin", lamitan[2]), Some(&ana.browser), None).await;
    assert_eq!(unpin.status(), 204);
    ana.sync(&app).await;
    assert!(!held(&ana).contains(&lamitan[2]));

    // A record she creates stays hers wherever it is.
    let own = ana.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment);
    ana.client.edit(own, |e| e.set("place_code", FieldValue::Text(MALUSO.into()))).unwrap();
    ana.sync(&app).await;
    ana.sync(&app).await;
    assert!(held(&ana).contains(&own));
    assert_eq!(held(&ana), scope_of(&app, "ana").await);

    // Reassigned to Ben, the task leaves her phone; with no municipality given, she holds
    // only what she made.
    let reassign = app.request(reqwest::Method::POST, &format!("/api/v1/tasks/{hers}/assign"), Some(&sofia), Some(json!({"assignee": "ben"}))).await;
    assert_eq!(reassign.status(), 200);
    give_areas(&app, &sofia, "ana", &[]).await;
    ana.sync(&app).await;
    assert_eq!(held(&ana), ids([&vec![own]]));
}

#[tokio::test]
async fn scope_news_in_a_lost_answer_is_sent_again() {
    let Team { app, sofia, mut ana, lamitan, lantawan, .. } = team(2).await;
    give_areas(&app, &sofia, "ana", &[LAMITAN]).await;
    ana.sync_with(&app, true).await; // the server answered; the phone never heard it
    ana.sync(&app).await;
    assert_eq!(held(&ana), ids([&lamitan]));

    give_areas(&app, &sofia, "ana", &[LANTAWAN]).await;
    ana.sync_with(&app, true).await;
    ana.sync(&app).await;
    assert_eq!(held(&ana), ids([&lantawan]));
}

/// One exchange as a hostile app would send it; returns the answer.
async fn raw_exchange(app: &TestApp, device: &Device, cursor: u64, scope_version: u64, documents: Vec<protocol::DocumentChanges>) -> SyncResponse {
    let request = SyncRequest { device_id: device.client.device_id(), batch_id: BatchId(Uuid::new_v4()), cursor, documents, scope_version };
    let answer = post_sync(app, &device.browser, protocol::encode(&request)).await;
    assert_eq!(answer.status(), 200);
    protocol::decode(&answer.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_device_asking_for_records_outside_its_scope_gets_none_of_them() {
    let Team { app, sofia, mut ana, mut ben, lamitan, lantawan } = team(2).await;
    give_areas(&app, &sofia, "ana", &[LAMITAN]).await;
    ana.sync(&app).await;
    // Ben makes a same-field conflict on a Lantawan record, so that there is news of it.
    ben.client.edit(lantawan[0], |e| e.set("notes", FieldValue::Text("ben".into()))).unwrap();
    ben.sync(&app).await;

    let outside: BTreeSet<DocId> = ids([&lantawan]);
    // A stale cursor, no cursor, an invented scope version, every version in between.
    for (cursor, version) in [(0, 0), (1, 0), (0, u64::MAX), (1, u64::MAX), (1, 1), (1, 2), (1, 3), (1_000_000, 9)] {
        let answer = raw_exchange(&app, &ana, cursor, version, vec![]).await;
        let sent: BTreeSet<DocId> = answer.updates.iter().map(|u| u.doc_id).collect();
        assert!(sent.is_disjoint(&outside), "cursor {cursor}, version {version}: {sent:?}");
        assert!(sent.is_subset(&ids([&lamitan])));
    }

    // Writing into a record outside the scope (its id learnt elsewhere) stores the change
    // but sends nothing of the record back: it is named for the phone to drop.
    let mut stray = bmms_shared::records::new_document(lantawan[0], RecordKind::ManaAssessment, ana.client.actor().clone());
    let changes = bmms_shared::records::changes_since(&mut stray, &[]);
    let documents = vec![protocol::DocumentChanges {
        doc_id: lantawan[0],
        kind: RecordKind::ManaAssessment,
        changes: changes.iter().map(|c| c.raw_bytes().to_vec()).collect(),
    }];
    let answer = raw_exchange(&app, &ana, 0, 0, documents).await;
    assert!(answer.updates.iter().all(|u| !outside.contains(&u.doc_id)));
    assert!(answer.conflicts.iter().all(|c| !outside.contains(&c.doc_id)), "no conflict values of a record outside the scope");
    if answer.acknowledged.contains(&lantawan[0]) {
        assert!(answer.removed.contains(&lantawan[0]));
    }
}

#[tokio::test]
async fn only_a_supervisor_gives_municipalities_and_only_real_ones() {
    let Team { app, sofia, ana, .. } = team(0).await;
    let put = |who: &Browser, officer: &str, body: Value| {
        let (app, who) = (&app, who.clone());
        let path = format!("/api/v1/officers/{officer}/areas");
        async move { crate::helpers::error_of(app.request(reqwest::Method::PUT, &path, Some(&who), Some(body)).await).await }
    };
    let (status, code, _) = put(&ana.browser, "ana", json!({"municipalities": [LAMITAN]})).await;
    assert_eq!((status, code.as_str()), (403, "not_a_supervisor"));
    let (status, _, message) = put(&sofia, "ana", json!({"municipalities": ["1900702001"]})).await;
    assert_eq!(status, 422, "a barangay is not a municipality");
    assert!(message.contains("1900702001"), "{message}");
    let (status, _, _) = put(&sofia, "sofia", json!({"municipalities": [LAMITAN]})).await;
    assert_eq!(status, 404, "a supervisor has no areas");
    let read = app.get("/api/v1/officers/ana/areas", &sofia).await.json::<Value>().await.unwrap();
    assert_eq!(read, json!({"municipalities": []}));
}

/// Random scope changes, edits on both sides and lost answers: after every exchange the
/// officer's phone takes, it holds exactly its scope and its unsent records; at the end
/// every change it made is stored.
async fn run_scope_schedule(seed: u64) {
    let Team { app, sofia, mut ana, mut ben, lamitan, lantawan } = team(3).await;
    let places = [LAMITAN, LANTAWAN, MALUSO];
    let mut tasks = Vec::new();
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut everything: Vec<DocId> = lamitan.iter().chain(&lantawan).copied().collect();
    for step in 0..30 {
        match rng.gen_range(0..10) {
            0 => {
                let chosen: Vec<&str> = places.iter().filter(|_| rng.gen_bool(0.5)).copied().collect();
                give_areas(&app, &sofia, "ana", &chosen).await;
            }
            1 => {
                let to = if rng.gen_bool(0.5) { "ana" } else { "ben" };
                match tasks.choose_one(&mut rng) {
                    Some(task) if rng.gen_bool(0.6) => {
                        let path = format!("/api/v1/tasks/{task}/assign");
                        let answer = app.request(reqwest::Method::POST, &path, Some(&sofia), Some(json!({"assignee": to}))).await;
                        assert_eq!(answer.status(), 200);
                    }
                    _ => tasks.push(new_task(&app, &sofia, to).await),
                }
            }
            2 => {
                let Some(doc) = everything.choose_one(&mut rng) else { continue };
                let path = format!("/api/v1/records/{doc}/pin");
                let method = if rng.gen_bool(0.6) { reqwest::Method::POST } else { reqwest::Method::DELETE };
                let body = (method == reqwest::Method::POST).then(|| json!({}));
                assert!(app.request(method, &path, Some(&ana.browser), body).await.status().is_success());
            }
            3 => {
                // Ben moves an assessment to another municipality, or makes a new one.
                let place = places[rng.gen_range(0..places.len())];
                let doc = match lamitan.iter().chain(&lantawan).copied().collect::<Vec<_>>().choose_one(&mut rng) {
                    Some(doc) if rng.gen_bool(0.7) => doc,
                    _ => {
                        let doc = ben.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment);
                        everything.push(doc);
                        doc
                    }
                };
                if ben.client.documents().contains_key(&doc) {
                    ben.client.edit(doc, |e| e.set("place_code", FieldValue::Text(place.into()))).unwrap();
                }
                ben.sync(&app).await;
            }
            4 | 5 => {
                let held = held(&ana);
                let Some(doc) = held.choose_one(&mut rng) else { continue };
                let field = if ana.client.documents()[&doc].kind == RecordKind::MonitoringTask { "observations" } else { "notes" };
                let value = format!("seed {seed} step {step}");
                ana.client.edit(doc, |e| e.set(field, FieldValue::Text(value))).unwrap();
            }
            6 => {
                ana.sync_with(&app, true).await;
            }
            _ => {
                ana.sync(&app).await;
                let unsent: BTreeSet<DocId> = ana.client.outbox().keys().copied().collect();
                let scope = scope_of(&app, "ana").await;
                let expected: BTreeSet<DocId> = scope.union(&unsent).copied().collect();
                assert_eq!(held(&ana), expected, "seed {seed}, step {step}: the phone holds its scope and its unsent records");
            }
        }
    }
    ana.sync(&app).await;
    ana.sync(&app).await;
    assert_eq!(ana.client.pending_count(), 0, "seed {seed}: every change of hers was stored");
    assert_eq!(held(&ana), scope_of(&app, "ana").await, "seed {seed}");
}

trait ChooseOne<T> {
    fn choose_one(&self, rng: &mut SmallRng) -> Option<T>;
}

impl<T: Copy> ChooseOne<T> for Vec<T> {
    fn choose_one(&self, rng: &mut SmallRng) -> Option<T> {
        (!self.is_empty()).then(|| self[rng.gen_range(0..self.len())])
    }
}

impl<T: Copy + Ord> ChooseOne<T> for BTreeSet<T> {
    fn choose_one(&self, rng: &mut SmallRng) -> Option<T> {
        (!self.is_empty()).then(|| *self.iter().nth(rng.gen_range(0..self.len())).unwrap())
    }
}

#[tokio::test]
async fn random_scope_changes_leave_a_phone_holding_exactly_its_scope_and_its_unsent_records() {
    let seeds: Vec<u64> = match std::env::var("BMMS_SCOPE_SEED") {
        Ok(seed) => vec![seed.parse().unwrap()],
        Err(_) => vec![21, 22, 23],
    };
    for seed in seeds {
        run_scope_schedule(seed).await;
    }
}

#[tokio::test]
async fn a_phone_that_starts_again_from_nothing_keeps_its_unsent_edit_until_stored_then_holds_its_scope() {
    let Team { app, sofia, mut ana, lamitan, lantawan, .. } = team(2).await;
    give_areas(&app, &sofia, "ana", &[LANTAWAN]).await;
    ana.sync(&app).await;
    ana.client.edit(lantawan[0], |e| e.set("community", FieldValue::Text("Sitio Bato".into()))).unwrap();
    give_areas(&app, &sofia, "ana", &[LAMITAN]).await;

    // The app updates (or its storage is read again from cursor 0): the phone says it
    // holds nothing known, with the edit still unsent.
    let stored: Vec<_> = held(&ana).into_iter().filter_map(|id| ana.client.stored_record(id)).collect();
    let (device_id, actor) = (ana.client.device_id(), ana.client.actor().clone());
    ana.client = bmms_shared::sync::client::SyncClient::restore(device_id, actor, 0, stored).unwrap();
    ana.sync(&app).await;
    assert_eq!(ana.client.pending_count(), 0, "the edit was stored");
    assert_eq!(held(&ana), ids([&lamitan]), "the edited record left once stored; Lamitan's arrived");
}

#[tokio::test]
async fn an_officer_who_becomes_a_supervisor_receives_the_whole_organization_on_the_same_phone() {
    let Team { app, mut ana, lamitan, lantawan, .. } = team(2).await;
    // Her scope is empty: her first answers carry nothing.
    ana.sync(&app).await;
    ana.sync(&app).await;
    assert!(held(&ana).is_empty());
    sqlx::query("update memberships set role = 'supervisor' where user_id = (select id from users where username = 'ana')")
        .execute(&app.owner)
        .await
        .unwrap();
    ana.browser = app.sign_in("ana").await;
    ana.sync(&app).await;
    assert_eq!(held(&ana), ids([&lamitan, &lantawan]), "records made before her cursor reach her too");
}

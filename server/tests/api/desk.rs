//! The desk: the conflict queue's side-by-side view and bulk decisions, task assignment,
//! sync health, the records table's filters, history and exports, live updates, and
//! who may reach each of them.

use bmms_shared::DeviceId;
use bmms_shared::DocId;
use crate::helpers::{error_of, spawn_app, Browser, TestApp};
use crate::sync::{set, Device};
use bmms_shared::records::{self, resolution, FieldValue, RecordKind};
use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

async fn post(app: &TestApp, path: &str, who: &Browser, body: Value) -> reqwest::Response {
    app.request(Method::POST, path, Some(who), Some(body)).await
}

async fn json_of(app: &TestApp, path: &str, who: &Browser) -> Value {
    let response = app.get(path, who).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Two MILG officers (ana, ben) and their supervisor (sofia); an assessment that ana made.
pub async fn team(app: &TestApp) -> (Device, Device, Browser, DocId) {
    let (mut ana, mut ben) = crate::sync::two_officers(app).await;
    app.create_user("MILG", "sofia", Role::Supervisor).await;
    let doc = DocId(Uuid::new_v4());
    ana.create_assessment(doc);
    set(&mut ana, doc, "households", FieldValue::Integer(100));
    ana.sync(app).await;
    ben.sync(app).await;
    (ana, ben, app.sign_in("sofia").await, doc)
}

#[tokio::test]
async fn the_side_by_side_view_names_each_writer_and_a_bulk_decision_reaches_the_officers_with_its_note() {
    let app = spawn_app().await;
    let (mut ana, mut ben, sofia, doc) = team(&app).await;
    set(&mut ana, doc, "households", FieldValue::Integer(120));
    set(&mut ben, doc, "households", FieldValue::Integer(135));
    set(&mut ana, doc, "community", FieldValue::Text("Poblacion".into()));
    set(&mut ben, doc, "community", FieldValue::Text("Poblacion Norte".into()));
    ana.sync(&app).await;
    ben.sync(&app).await;

    let queue = json_of(&app, "/api/v1/conflicts", &sofia).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let households = items.iter().find(|c| c["field"] == "households").unwrap();
    assert_eq!(households["field_label"], "Households");
    assert_eq!(households["value_count"], 2);

    let detail = json_of(&app, &format!("/api/v1/conflicts/{}", households["id"].as_str().unwrap()), &sofia).await;
    let mut values: Vec<(i64, String, String)> = detail["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["value"].as_i64().unwrap(), v["before"].as_str().unwrap().to_owned(), v["device_id"].as_str().unwrap().to_owned()))
        .collect();
    values.sort();
    let device_ids = (ana.client.device_id().to_string(), ben.client.device_id().to_string());
    assert_eq!(values, vec![(120, "100".into(), device_ids.0), (135, "100".into(), device_ids.1)]);
    assert!(detail["values"].as_array().unwrap().iter().all(|v| v["written_by"] == "Test Person" && v["received_at"].is_string()));

    // The same decision for both conflicts: one of them cannot take a number, so none is settled.
    let ids: Vec<&str> = items.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let refused = post(&app, "/api/v1/conflicts/resolve", &sofia, json!({"ids": ids, "value": 128, "reason": "Recount"})).await;
    assert_eq!(refused.status(), 422);
    assert_eq!(app.count("conflicts where resolved_at is null").await, 2);
    let only_households = vec![households["id"].as_str().unwrap()];
    let settled = post(&app, "/api/v1/conflicts/resolve", &sofia, json!({"ids": only_households, "value": 128, "reason": "Recount"})).await;
    assert_eq!(settled.status(), 200);

    ana.sync(&app).await;
    ben.sync(&app).await;
    for device in [&ana, &ben] {
        let local = &device.client.documents()[&doc].doc();
        assert_eq!(records::get(local, "households"), Some(FieldValue::Integer(128)));
        let note = resolution::note(local, "households").expect("the officer's copy carries the note");
        assert_eq!((note.by.as_str(), note.reason.as_str()), ("Test Person", "Recount"));
    }
    let settled = json_of(&app, &format!("/api/v1/conflicts/{}", only_households[0]), &sofia).await;
    assert_eq!(settled["resolved"]["reason"], "Recount");
    let record = json_of(&app, &format!("/api/v1/records/{doc}"), &sofia).await;
    assert_eq!(record["resolutions"]["households"]["reason"], "Recount");
    // A later edit by an officer is still accepted with the note in the document.
    set(&mut ana, doc, "respondents", FieldValue::Integer(12));
    ana.sync(&app).await;
    assert_eq!(ana.client.refused_count(), 0, "the server refused an edit of a record with a resolution note");
    // But a device may not write a note of its own: only a supervisor's decision does.
    let forged = r#"{"by":"Sofia","at":"2026-11-22T00:00:00Z","reason":"trust me"}"#;
    ben.client.edit_unchecked(doc, |d| { automerge::transaction::Transactable::put(d, automerge::ROOT, "resolved.community", forged).unwrap(); }).unwrap();
    ben.sync(&app).await;
    assert_eq!(ben.client.refused_count(), 1, "a forged resolution note is refused");
    assert!(json_of(&app, &format!("/api/v1/records/{doc}"), &sofia).await["resolutions"].get("community").is_none());
}

#[tokio::test]
async fn an_assigned_task_reaches_the_officer_in_one_sync_and_progress_shows_per_officer() {
    let app = spawn_app().await;
    let (mut ana, mut ben, sofia, _) = team(&app).await;
    let created = post(&app, "/api/v1/tasks", &sofia, json!({
        "title": "Check the water system", "ppa": "Safe water for Datu Piang", "site": "Barangay Ambadao",
        "due_date": "2020-01-31", "assignee": "ana", "checklist": ["Walk the pipeline", "Test the tap stand"],
    }))
    .await;
    assert_eq!(created.status(), 201);
    let task: DocId = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse().unwrap();

    ana.sync(&app).await;
    let local = &ana.client.documents()[&task].doc();
    assert_eq!(records::get(local, "assignee"), Some(FieldValue::Text("ana".into())));
    match records::get(local, "checklist") {
        Some(FieldValue::Checklist(items)) => assert_eq!(items.len(), 2),
        other => panic!("no checklist: {other:?}"),
    }
    let progress = json_of(&app, "/api/v1/officers", &sofia).await;
    let of = |name: &str| progress["items"].as_array().unwrap().iter().find(|o| o["username"] == name).cloned().unwrap();
    assert_eq!((of("ana")["tasks"].as_i64(), of("ana")["overdue"].as_i64()), (Some(1), Some(1)));
    let tasks = json_of(&app, "/api/v1/tasks?assignee=ana", &sofia).await;
    assert_eq!(tasks["items"][0]["overdue"], true);

    // Reassigned: ben's device gets it as a change to a document it already has.
    assert_eq!(post(&app, &format!("/api/v1/tasks/{task}/assign"), &sofia, json!({"assignee": "ben"})).await.status(), 200);
    ben.sync(&app).await;
    assert_eq!(records::get(&ben.client.documents()[&task].doc(), "assignee"), Some(FieldValue::Text("ben".into())));
    set(&mut ben, task, "status", FieldValue::Choice("done".into()));
    ben.sync(&app).await;
    let progress = json_of(&app, "/api/v1/officers", &sofia).await;
    let ben_row = progress["items"].as_array().unwrap().iter().find(|o| o["username"] == "ben").unwrap().clone();
    assert_eq!((ben_row["done"].as_i64(), ben_row["overdue"].as_i64()), (Some(1), Some(0)));

    for (body, field) in [
        (json!({"title": "", "ppa": "x", "site": "y", "due_date": "2027-01-01", "assignee": "ana"}), "title"),
        (json!({"title": "t", "ppa": "x", "site": "y", "due_date": "2027-02-30", "assignee": "ana"}), "due_date"),
        (json!({"title": "t", "ppa": "x", "site": "y", "due_date": "2027-01-01", "assignee": "nobody"}), "assignee"),
    ] {
        let refused = post(&app, "/api/v1/tasks", &sofia, body).await;
        assert_eq!(refused.status(), 422);
        assert_eq!(refused.json::<Value>().await.unwrap()["field"], field);
    }
    // What is missing is said all at once, in the supervisor's words.
    let empty = json!({"title": " ", "ppa": "", "site": "", "due_date": "", "assignee": ""});
    let refused: Value = post(&app, "/api/v1/tasks", &sofia, empty).await.json().await.unwrap();
    assert_eq!(refused["field"], "title");
    assert_eq!(
        refused["message"],
        "Give the task a title, the program, project or activity it serves, the site, a due date and the officer who does it."
    );
    let refused: Value = post(&app, &format!("/api/v1/tasks/{task}/assign"), &sofia, json!({"assignee": ""})).await.json().await.unwrap();
    assert_eq!((refused["field"].as_str(), refused["message"].as_str()), (Some("assignee"), Some("Choose the officer who does the task.")));
}

#[tokio::test]
async fn sync_health_shows_each_devices_last_contact_and_flags_quiet_ones() {
    let app = spawn_app().await;
    let (mut ana, ben, sofia, doc) = team(&app).await;
    set(&mut ana, doc, "households", FieldValue::Integer(101));
    set(&mut ana, doc, "respondents", FieldValue::Integer(9));
    ana.sync(&app).await;
    sqlx::query("update devices set last_contact_at = now() - interval '10 days' where id = $1")
        .bind(ben.client.device_id())
        .execute(&app.owner)
        .await
        .unwrap();

    let health = json_of(&app, "/api/v1/devices?not_seen_days=7", &sofia).await;
    let row = |id: DeviceId| health["items"].as_array().unwrap().iter().find(|d| d["device_id"] == id.to_string()).cloned().unwrap();
    assert_eq!(row(ana.client.device_id())["pending_reported"], 2, "ana's last exchange carried two changes");
    assert_eq!(row(ana.client.device_id())["quiet"], false);
    assert_eq!(row(ben.client.device_id())["quiet"], true);
    let quiet = json_of(&app, "/api/v1/devices?not_seen_days=7&quiet_only=true", &sofia).await;
    assert_eq!(quiet["items"].as_array().unwrap().len(), 1);
    let (status, _, _) = error_of(app.get("/api/v1/devices?not_seen_days=0", &sofia).await).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn the_records_table_filters_and_exports_only_the_organizations_rows_with_history() {
    let app = spawn_app().await;
    let (mut ana, _ben, sofia, doc) = team(&app).await;
    set(&mut ana, doc, "needs.health.severity", FieldValue::Integer(4));
    set(&mut ana, doc, "municipality", FieldValue::Text("Datu Piang".into()));
    set(&mut ana, doc, "gps.latitude", FieldValue::Decimal(7.02));
    set(&mut ana, doc, "gps.longitude", FieldValue::Decimal(124.5));
    let other = DocId(Uuid::new_v4());
    ana.create_assessment(other);
    ana.sync(&app).await;
    app.create_user("MOH", "hana", Role::FieldOfficer).await;
    let mut hana = Device::register(&app, "hana").await;
    hana.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment);
    hana.sync(&app).await;

    let severe = json_of(&app, "/api/v1/assessments?sector=health&min_severity=4", &sofia).await;
    assert_eq!(severe["total"], 1);
    assert_eq!(severe["items"][0]["id"], doc.to_string());
    assert_eq!(json_of(&app, "/api/v1/assessments?sector=health&min_severity=5", &sofia).await["total"], 0);
    let sorted = json_of(&app, "/api/v1/assessments?sort=households&order=desc", &sofia).await;
    assert_eq!(sorted["items"][0]["id"], doc.to_string());
    for (path, field) in [
        ("/api/v1/assessments?sector=fishing", "sector"),
        ("/api/v1/assessments?sort=password", "sort"),
        ("/api/v1/assessments?from=2026-02-01&to=2026-01-01", "to"),
        ("/api/v1/assessments/export?format=xlsx", "format"),
    ] {
        let refused = app.get(path, &sofia).await;
        assert_eq!(refused.status(), 422, "{path}");
        assert_eq!(refused.json::<Value>().await.unwrap()["field"], field, "{path}");
    }

    let csv = app.get("/api/v1/assessments/export?format=csv&municipality=Datu%20Piang", &sofia).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][column("id")], doc.to_string());
    assert_eq!(&rows[0][column("need_health_severity")], "4");
    // As a browser asks for it: compressed, which goes through another layer of the server.
    let gzipped = app.http.get(format!("{}/api/v1/assessments/export?format=csv", app.base))
        .header("cookie", &sofia.cookie).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    assert!(!gzipped.bytes().await.expect("the whole compressed export arrives").is_empty());
    let all: Value = app.get("/api/v1/assessments/export?format=json", &sofia).await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2, "MILG's two, none of MOH's");
    let geo: Value = app.get("/api/v1/assessments/export?format=geojson", &sofia).await.json().await.unwrap();
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 2);
    let located = features.iter().find(|f| f["id"] == doc.to_string()).unwrap();
    assert_eq!(located["geometry"]["coordinates"], json!([124.5, 7.02]));

    let history = json_of(&app, &format!("/api/v1/records/{doc}/history"), &sofia).await;
    let fields: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()))
        .collect();
    for field in ["households", "needs.health.severity", "municipality", "gps.latitude"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    assert!(history["items"].as_array().unwrap().iter().all(|e| e["by"] == "Test Person"));
}

#[tokio::test]
async fn every_desk_route_refuses_officers_and_hides_other_organizations() {
    let app = spawn_app().await;
    let (mut ana, mut ben, sofia, doc) = team(&app).await;
    set(&mut ana, doc, "households", FieldValue::Integer(1));
    set(&mut ben, doc, "households", FieldValue::Integer(2));
    ana.sync(&app).await;
    ben.sync(&app).await;
    let conflict: Uuid = sqlx::query_scalar("select id from conflicts").fetch_one(&app.owner).await.unwrap();
    let task: Uuid = post(&app, "/api/v1/tasks", &sofia, json!({"title": "t", "ppa": "p", "site": "s", "due_date": "2027-01-01", "assignee": "ana"}))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let officer = ana.browser.clone();
    app.create_user("MOH", "mara", Role::Supervisor).await;
    let mara = app.sign_in("mara").await;
    let resolve = json!({"value": 3, "reason": "r"});

    let officer_refused: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/conflicts".into(), None),
        (Method::GET, format!("/api/v1/conflicts/{conflict}"), None),
        (Method::POST, format!("/api/v1/conflicts/{conflict}/resolve"), Some(resolve.clone())),
        (Method::POST, "/api/v1/conflicts/resolve".into(), Some(json!({"ids": [conflict], "value": 3, "reason": "r"}))),
        (Method::POST, "/api/v1/tasks".into(), Some(json!({"title": "t", "ppa": "p", "site": "s", "due_date": "2027-01-01", "assignee": "ana"}))),
        (Method::POST, format!("/api/v1/tasks/{task}/assign"), Some(json!({"assignee": "ana"}))),
        (Method::GET, "/api/v1/officers".into(), None),
        (Method::GET, "/api/v1/devices".into(), None),
        (Method::GET, "/api/v1/assessments/export".into(), None),
        (Method::GET, format!("/api/v1/records/{doc}/history"), None),
        (Method::GET, "/api/v1/events".into(), None),
    ];
    for (method, path, body) in officer_refused {
        let (status, _, message) = error_of(app.request(method.clone(), &path, Some(&officer), body).await).await;
        assert_eq!(status, 403, "{method} {path}: {message}");
    }
    let elsewhere: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/conflicts/{conflict}"), None),
        (Method::POST, format!("/api/v1/conflicts/{conflict}/resolve"), Some(resolve.clone())),
        (Method::POST, "/api/v1/conflicts/resolve".into(), Some(json!({"ids": [conflict], "value": 3, "reason": "r"}))),
        (Method::POST, format!("/api/v1/tasks/{task}/assign"), Some(json!({"assignee": "mara"}))),
        (Method::GET, format!("/api/v1/records/{doc}/history"), None),
        (Method::GET, format!("/api/v1/records/{task}"), None),
    ];
    for (method, path, body) in elsewhere {
        let (status, _, message) = error_of(app.request(method.clone(), &path, Some(&mara), body).await).await;
        assert_eq!(status, 404, "{method} {path}: {message}");
    }
    for path in ["/api/v1/conflicts", "/api/v1/tasks", "/api/v1/officers", "/api/v1/devices"] {
        let theirs = json_of(&app, path, &mara).await;
        let foreign: Vec<&Value> = theirs["items"].as_array().unwrap().iter().filter(|i| i["username"] != "mara").collect();
        assert!(foreign.is_empty(), "{path} shows MILG's rows to MOH: {foreign:?}");
    }
    let export = app.get("/api/v1/assessments/export?format=json", &mara).await.json::<Value>().await.unwrap();
    assert_eq!(export, json!([]));
}

#[tokio::test]
async fn a_desk_screen_hears_about_a_sync_without_asking() {
    let app = spawn_app().await;
    let (mut ana, _ben, sofia, doc) = team(&app).await;
    app.state.events.wait_until_listening().await;
    let mut events = app.get("/api/v1/events", &sofia).await;
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    set(&mut ana, doc, "households", FieldValue::Integer(7));
    ana.sync(&app).await;
    let mut seen = String::new();
    while !seen.contains("event: records") {
        let chunk = events.chunk().await.unwrap().expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_task_sent_twice_at_once_is_created_once_and_its_id_cannot_be_taken_elsewhere() {
    let app = spawn_app().await;
    let (_ana, _ben, sofia, _) = team(&app).await;
    let logged = app.count("change_log").await;
    let id = DocId(Uuid::new_v4());
    let task = json!({"id": id, "title": "Visit the water system", "ppa": "Water for all", "site": "Tamontaka",
                      "due_date": "2027-01-31", "assignee": "ana"});
    // A double click: the same request twice at the same moment, then once more later.
    let (first, second) = tokio::join!(post(&app, "/api/v1/tasks", &sofia, task.clone()), post(&app, "/api/v1/tasks", &sofia, task.clone()));
    let mut statuses = vec![first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 201], "one creates it, the other finds it");
    for answer in [first, second] {
        assert_eq!(answer.json::<Value>().await.unwrap()["id"], json!(id));
    }
    assert_eq!(post(&app, "/api/v1/tasks", &sofia, task.clone()).await.status(), 200);
    // The same id with other details: the first task stands, and the answer says so.
    let mut changed = task.clone();
    changed["title"] = json!("Visit the health station");
    let (status, code, _) = error_of(post(&app, "/api/v1/tasks", &sofia, changed).await).await;
    assert_eq!((status, code.as_str()), (409, "task_exists"));
    let tasks = json_of(&app, "/api/v1/tasks", &sofia).await;
    assert_eq!(tasks["total"], 1, "one task, not three");
    assert_eq!(app.count("change_log").await, logged + 1, "the task's change, logged once");

    // Another organization's supervisor with the same id is refused, as any unusable id is.
    app.create_user("MOH", "mara", Role::Supervisor).await;
    app.create_user("MOH", "hana", Role::FieldOfficer).await;
    let mara = app.sign_in("mara").await;
    let mut theirs = task.clone();
    theirs["assignee"] = json!("hana");
    let (status, code, message) = error_of(post(&app, "/api/v1/tasks", &mara, theirs).await).await;
    assert_eq!((status, code.as_str()), (422, "invalid_field"), "{message}");
    assert!(message.contains("cannot be used"), "{message}");
    let unknown_elsewhere = json!({"id": DocId(Uuid::new_v4()), "title": "t", "ppa": "p", "site": "s", "due_date": "2027-01-01", "assignee": "hana"});
    assert_eq!(post(&app, "/api/v1/tasks", &mara, unknown_elsewhere).await.status(), 201, "a fresh id is fine");
}

#[tokio::test]
async fn a_device_registration_sent_twice_with_its_key_registers_one_device() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    app.create_user("MILG", "ben", Role::FieldOfficer).await;
    let (ana, ben) = (app.sign_in("ana").await, app.sign_in("ben").await);
    let register = |who: &Browser, key: &'static str| {
        app.http
            .post(format!("{}/api/v1/devices", app.base))
            .header("cookie", &who.cookie)
            .header("x-csrf-token", &who.csrf)
            .header("idempotency-key", key)
            .send()
    };
    let before = app.count("devices").await;
    let (first, second) = tokio::join!(register(&ana, "page-1"), register(&ana, "page-1"));
    let (first, second): (Value, Value) = (first.unwrap().json().await.unwrap(), second.unwrap().json().await.unwrap());
    assert_eq!(first, second, "the same device and actor, twice");
    assert_eq!(app.count("devices").await, before + 1);
    // Another key, or the same key of another user: another device.
    let other: Value = register(&ana, "page-2").await.unwrap().json().await.unwrap();
    let bens: Value = register(&ben, "page-1").await.unwrap().json().await.unwrap();
    assert_ne!(other["device_id"], first["device_id"]);
    assert_ne!(bens["device_id"], first["device_id"]);
    assert_eq!(app.count("devices").await, before + 3);
}

//! A fuzz-style table of hostile text and dates, sent to every route that takes text and
//! to every synced field: no answer is a 5xx; a route answers a 4xx with a sentence; a
//! sync batch refuses the bad record alone and stores the others.

use bmms_shared::{BatchId, DocId};
use crate::helpers::spawn_app;
use crate::sync::Device;
use crate::sync_refusals::{changes_of, send};
use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT};
use bmms_shared::records::{FieldType, RecordKind};
use bmms_shared::sync::protocol::RejectionCode;
use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// Text as a hostile or careless client sends it.
fn hostile_texts() -> Vec<(&'static str, String)> {
    vec![
        ("NUL", "Poblacion\0".into()),
        ("a bell", "\u{7}".into()),
        ("an RTL override", "\u{202E}gnp.exe".into()),
        ("10,000 characters", "x".repeat(10_000)),
        ("year 0", "0000-01-01".into()),
        ("year 300000", "300000-01-01".into()),
        ("year -100000", "-100000-01-01".into()),
        ("no such day", "2026-02-30".into()),
    ]
}

/// The same, written into a query string (plus bytes that are not UTF-8 at all: a lone
/// surrogate as CESU-8 would write it).
fn hostile_query_values() -> Vec<(&'static str, String)> {
    let mut values: Vec<(&str, String)> =
        hostile_texts().into_iter().map(|(what, text)| (what, form_urlencoded::byte_serialize(text.as_bytes()).collect())).collect();
    values.push(("a lone surrogate", "%ED%A0%80".into()));
    values
}

/// Asserts what a person would notice: no server fault, and a refusal that says why.
async fn assert_clear(what: &str, response: reqwest::Response) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert!(status < 500, "{what}: {status} {text}");
    if status >= 400 {
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.len() > 10 && message.ends_with('.'), "{what}: {text}");
        for leak in ["sqlx", "SQL", "select ", "panicked", "src/", "postgres"] {
            assert!(!text.contains(leak), "{what} leaks {leak:?}: {text}");
        }
    }
}

#[tokio::test]
async fn hostile_text_and_dates_on_every_route_get_a_clear_answer() {
    let app = spawn_app().await;
    app.create_user("MILG", "sam", Role::Supervisor).await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let sam = app.sign_in("sam").await;
    let some_id = DocId(Uuid::new_v4());

    let query_routes: &[(&str, &[&str])] = &[
        ("/api/v1/assessments", &["status", "province", "municipality", "search", "sector", "from", "to", "sort", "order"]),
        ("/api/v1/assessments/export", &["format", "search", "from", "municipality"]),
        ("/api/v1/tasks", &["status", "assignee"]),
        ("/api/v1/dashboard", &["org"]),
        ("/api/v1/dashboard/records", &["province", "municipality", "status"]),
        ("/api/v1/devices", &["not_seen_days"]),
    ];
    for (path, params) in query_routes {
        for param in *params {
            for (what, value) in hostile_query_values() {
                let response = app.get(&format!("{path}?{param}={value}"), &sam).await;
                assert_clear(&format!("GET {path} with {what} in {param}"), response).await;
            }
        }
    }
    // NUL in a filter names the filter.
    let response = app.get("/api/v1/assessments?search=Pob%00", &sam).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["field"], "search");

    let valid_task = json!({"title": "Visit", "ppa": "Water", "site": "Tamontaka", "due_date": "2027-01-31", "assignee": "ana"});
    let json_routes: Vec<(String, Value)> = vec![
        ("/api/v1/auth/login".into(), json!({"username": "sam", "password": "x"})),
        ("/api/v1/tasks".into(), valid_task.clone()),
        (format!("/api/v1/tasks/{some_id}/assign"), json!({"assignee": "ana"})),
        (format!("/api/v1/conflicts/{some_id}/resolve"), json!({"value": "x", "reason": "checked"})),
        ("/api/v1/conflicts/resolve".into(), json!({"ids": [some_id], "value": "x", "reason": "checked"})),
    ];
    for (path, valid) in &json_routes {
        for field in valid.as_object().unwrap().keys() {
            for (what, text) in hostile_texts() {
                let mut body = valid.clone();
                body[field] = json!(text);
                let response = app.request(Method::POST, path, Some(&sam), Some(body)).await;
                assert_clear(&format!("POST {path} with {what} in {field}"), response).await;
            }
            // A lone surrogate cannot even be JSON text: the body is refused as such.
            let raw = valid.to_string().replacen(&format!("\"{field}\":"), &format!("\"{field}\":\"\\ud800\",\"_\":"), 1);
            let response = app
                .http
                .post(format!("{}{path}", app.base))
                .header("cookie", &sam.cookie)
                .header("x-csrf-token", &sam.csrf)
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .await
                .unwrap();
            assert_clear(&format!("POST {path} with a lone surrogate in {field}"), response).await;
        }
    }
    // The checklist's items are text too.
    let mut task = valid_task.clone();
    task["checklist"] = json!(["Walk the site", "Meet\0the officials"]);
    let response = app.request(Method::POST, "/api/v1/tasks", Some(&sam), Some(task)).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["field"], "checklist[1]");
}

/// Writes `text` into `field` of a document however its type is stored, bypassing the
/// app's checks as a hostile device would.
fn put_text(doc: &mut automerge::AutoCommit, field: &str, ty: &FieldType, text: &str) {
    match ty {
        FieldType::TextList { .. } | FieldType::Photos { .. } => {
            let list = doc.put_object(ROOT, field, ObjType::List).unwrap();
            doc.insert(&list, 0, text).unwrap();
        }
        FieldType::Checklist { .. } => {
            let list = doc.put_object(ROOT, field, ObjType::List).unwrap();
            let item = doc.insert_object(&list, 0, ObjType::Map).unwrap();
            doc.put(&item, "text", text).unwrap();
        }
        _ => doc.put(ROOT, field, text).unwrap(),
    }
}

#[tokio::test]
async fn hostile_text_in_every_synced_field_is_refused_alone_and_the_batch_stored() {
    let app = spawn_app().await;
    // A supervisor: who may create both kinds of record, so that only the values decide.
    app.create_user("MILG", "sam", Role::Supervisor).await;
    let mut sam = Device::register(&app, "sam").await;
    let good = DocId(Uuid::new_v4());
    sam.client.create(good, RecordKind::ManaAssessment);
    sam.client.edit_unchecked(good, |d| d.put(ROOT, "community", "Poblacion").unwrap()).unwrap();
    let mut batch = vec![changes_of(&sam, good)];
    let mut cases = Vec::new();
    for kind in [RecordKind::ManaAssessment, RecordKind::MonitoringTask] {
        for spec in kind.fields() {
            for (what, text) in hostile_texts() {
                let doc = DocId(Uuid::new_v4());
                sam.client.create(doc, kind);
                sam.client.edit_unchecked(doc, |d| put_text(d, &spec.name, &spec.ty, &text)).unwrap();
                batch.push(changes_of(&sam, doc));
                cases.push((doc, format!("{} {} with {what}", kind.as_str(), spec.name), spec.ty.clone(), text));
            }
        }
    }
    let answer = send(&app, &sam, batch).await;
    assert!(answer.acknowledged.contains(&good), "the good record of the batch is stored");
    for (doc, what, ty, text) in &cases {
        let refusal = answer.rejections.iter().find(|r| r.doc_id == *doc);
        // Only plain text within a text field's length may pass (dates are text there).
        let length = text.chars().count();
        let fits = match ty {
            FieldType::Text { max_chars } | FieldType::TextList { max_chars, .. } => length <= *max_chars,
            FieldType::Checklist { .. } => length <= 500,
            _ => false,
        } && text.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        match refusal {
            Some(refusal) => {
                assert!(!fits, "{what}: refused although valid: {}", refusal.message);
                assert_eq!(refusal.code, RejectionCode::Invalid, "{what}");
                assert!(refusal.message.ends_with('.') && !refusal.message.contains('\0'), "{what}: {}", refusal.message);
            }
            None => assert!(fits, "{what}: accepted"),
        }
    }
    let stored: i64 = sqlx::query_scalar("select count(*) from mana_assessments where id = $1").bind(good).fetch_one(&app.owner).await.unwrap();
    assert_eq!(stored, 1);
    // The supervisor's sync health keeps the last refusal, readable.
    let refusal: Option<String> =
        sqlx::query_scalar("select last_refusal from devices where id = $1").bind(sam.client.device_id()).fetch_one(&app.owner).await.unwrap();
    assert!(refusal.is_some_and(|r| !r.contains('\0')));
    assert_clear("the next exchange", crate::sync::post_sync(&app, &sam.browser, sam.client.next_request(u64::MAX, BatchId(Uuid::new_v4())).unwrap().1).await).await;
}

#[tokio::test]
async fn a_key_no_field_has_is_refused_with_a_readable_name() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let mut ana = Device::register(&app, "ana").await;
    let doc = DocId(Uuid::new_v4());
    ana.client.create(doc, RecordKind::ManaAssessment);
    ana.client.edit_unchecked(doc, |d| d.put(ROOT, "evil\0key", "x").unwrap()).unwrap();
    let answer = send(&app, &ana, vec![changes_of(&ana, doc)]).await;
    assert_eq!(answer.rejections.len(), 1);
    assert!(answer.rejections[0].message.contains("evil\u{FFFD}key is not a field"), "{}", answer.rejections[0].message);
}

/// A change chunk of a hundred bytes whose action column claims 2^60 operations: a run
/// of that many copies of one action. Automerge would walk them all to decode it.
fn operation_bomb(actor: &[u8]) -> Vec<u8> {
    let run = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 1];
    let mut data = vec![0, actor.len() as u8];
    data.extend(actor);
    data.extend([1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
    data.extend([1, 4 << 4 | 2, run.len() as u8]); // one column: actions
    data.extend(run);
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, data.len() as u8];
    chunk.extend(data);
    chunk
}

#[tokio::test]
async fn a_change_claiming_billions_of_operations_is_refused_alone_without_being_read() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let mut ana = Device::register(&app, "ana").await;
    let good = DocId(Uuid::new_v4());
    ana.client.create(good, RecordKind::ManaAssessment);
    let bomb = DocId(Uuid::new_v4());
    let actor = ana.client.actor().to_bytes().to_vec();
    let batch = vec![
        changes_of(&ana, good),
        bmms_shared::sync::protocol::DocumentChanges { doc_id: bomb, kind: RecordKind::ManaAssessment, changes: vec![operation_bomb(&actor)] },
    ];
    let answer = send(&app, &ana, batch).await;
    assert_eq!(answer.acknowledged, vec![good]);
    assert_eq!(answer.rejections.len(), 1);
    assert_eq!(answer.rejections[0].code, RejectionCode::Invalid);
    assert!(answer.rejections[0].message.contains("edit operations"), "{}", answer.rejections[0].message);
}

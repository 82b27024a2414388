//! Supervisors see and settle conflicts; the choice reaches every device; nobody else can.

use bmms_shared::DocId;
use crate::helpers::{error_of, spawn_app, TestApp};
use crate::sync::{set, Device};
use bmms_shared::records::{self, FieldValue, RecordKind};
use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// Two MILG officers who wrote different households into one assessment offline.
pub async fn conflicting(app: &TestApp) -> (Device, Device, DocId) {
    let (mut ana, mut ben) = crate::sync::two_officers(app).await;
    let doc = DocId(Uuid::new_v4());
    ana.create_assessment(doc);
    ana.sync(app).await;
    ben.sync(app).await;
    set(&mut ana, doc, "households", FieldValue::Integer(120));
    set(&mut ben, doc, "households", FieldValue::Integer(135));
    ana.sync(app).await;
    ben.sync(app).await;
    (ana, ben, doc)
}

#[tokio::test]
async fn a_supervisors_decision_reaches_every_device_and_is_audited() {
    let app = spawn_app().await;
    let (mut ana, mut ben, doc) = conflicting(&app).await;
    app.create_user("MILG", "sofia", Role::Supervisor).await;
    let sofia = app.sign_in("sofia").await;

    let queue: Value = app.get("/api/v1/conflicts", &sofia).await.json().await.unwrap();
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["field"], "households");
    let conflict_id = items[0]["id"].as_str().unwrap().to_owned();

    let record: Value = app.get(&format!("/api/v1/records/{doc}"), &sofia).await.json().await.unwrap();
    assert_eq!(record["conflicts"].as_array().unwrap().len(), 1);

    let resolved = app
        .request(Method::POST, &format!("/api/v1/conflicts/{conflict_id}/resolve"), Some(&sofia),
                 Some(json!({"value": 128, "reason": "Recounted with the barangay captain"})))
        .await;
    assert_eq!(resolved.status(), 200);

    ana.sync(&app).await;
    ben.sync(&app).await;
    for device in [&ana, &ben] {
        let local = &device.client.documents()[&doc];
        assert_eq!(records::get(&local.doc(), "households"), Some(FieldValue::Integer(128)));
        assert!(records::conflicts(&local.doc()).is_empty(), "the decision supersedes both values");
        assert!(local.conflicts.is_empty(), "the device no longer shows the conflict");
    }
    let record: Value = app.get(&format!("/api/v1/records/{doc}"), &sofia).await.json().await.unwrap();
    assert_eq!(record["fields"]["households"], 128);
    assert!(record["conflicts"].as_array().unwrap().is_empty());
    let (resolution, reason): (String, String) = sqlx::query_as("select resolution, reason from conflicts where resolved_by is not null")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!((resolution.as_str(), reason.as_str()), ("128", "Recounted with the barangay captain"));
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'conflict.resolve'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let households: Option<i32> = sqlx::query_scalar("select households from mana_assessments where id = $1")
        .bind(doc)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(households, Some(128));
}

#[tokio::test]
async fn only_the_organizations_supervisors_may_settle_and_only_once() {
    let app = spawn_app().await;
    let (_ana, _ben, _doc) = conflicting(&app).await;
    app.create_user("MILG", "sofia", Role::Supervisor).await;
    app.create_user("MOH", "mara", Role::Supervisor).await;
    let officer = app.sign_in("ana").await;
    let sofia = app.sign_in("sofia").await;
    let mara = app.sign_in("mara").await;
    let conflict_id: Uuid = sqlx::query_scalar("select id from conflicts").fetch_one(&app.owner).await.unwrap();
    let path = format!("/api/v1/conflicts/{conflict_id}/resolve");
    let good = json!({"value": 135, "reason": "The second count is right"});

    let (status, code, _) = error_of(app.get("/api/v1/conflicts", &officer).await).await;
    assert_eq!((status, code.as_str()), (403, "not_a_supervisor"));
    let (status, code, _) = error_of(app.request(Method::POST, &path, Some(&officer), Some(good.clone())).await).await;
    assert_eq!((status, code.as_str()), (403, "not_a_supervisor"));
    let (status, _, _) = error_of(app.request(Method::POST, &path, Some(&mara), Some(good.clone())).await).await;
    assert_eq!(status, 404, "another organization's conflict does not exist for MOH");
    let theirs: Value = app.get("/api/v1/conflicts", &mara).await.json().await.unwrap();
    assert!(theirs["items"].as_array().unwrap().is_empty());

    let empty_reason = app.request(Method::POST, &path, Some(&sofia), Some(json!({"value": 135, "reason": "  "}))).await;
    assert_eq!(empty_reason.status(), 422);
    let body: Value = empty_reason.json().await.unwrap();
    assert_eq!(body["field"], "reason");
    let bad_value = app.request(Method::POST, &path, Some(&sofia), Some(json!({"value": -3, "reason": "typo"}))).await;
    assert_eq!(bad_value.status(), 422);
    let body: Value = bad_value.json().await.unwrap();
    assert_eq!(body["field"], "value");
    assert!(body["message"].as_str().unwrap().contains("between 0 and"), "{body}");

    assert_eq!(app.request(Method::POST, &path, Some(&sofia), Some(good.clone())).await.status(), 200);
    let (status, code, message) = error_of(app.request(Method::POST, &path, Some(&sofia), Some(good)).await).await;
    assert_eq!((status, code.as_str()), (409, "already_resolved"));
    assert!(message.contains("135") && message.contains("The second count is right"), "{message}");
}

#[tokio::test]
async fn record_lists_hold_only_the_organizations_rows_and_refuse_bad_filters() {
    let app = spawn_app().await;
    let (_ana, _ben, doc) = conflicting(&app).await;
    app.create_user("MOH", "hana", Role::FieldOfficer).await;
    let mut hana = Device::register(&app, "hana").await;
    hana.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment);
    hana.sync(&app).await;
    let ana = app.sign_in("ana").await;
    let hana_browser = app.sign_in("hana").await;

    let list: Value = app.get("/api/v1/assessments?status=draft", &ana).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], doc.to_string());
    let none: Value = app.get("/api/v1/assessments?status=validated", &ana).await.json().await.unwrap();
    assert_eq!(none["total"], 0);
    assert_eq!(app.get(&format!("/api/v1/records/{doc}"), &hana_browser).await.status(), 404);

    for (path, status, code) in [
        ("/api/v1/assessments?limit=0", 422, "invalid_paging"),
        ("/api/v1/assessments?limit=abc", 400, "invalid_query"),
        ("/api/v1/tasks?colour=red", 400, "invalid_query"),
        ("/api/v1/records/not-an-id", 400, "invalid_path"),
    ] {
        let (got, got_code, _) = error_of(app.get(path, &ana).await).await;
        assert_eq!((got, got_code.as_str()), (status, code), "{path}");
    }
}

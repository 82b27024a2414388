//! What the sync endpoint refuses: every bad document is refused alone with a reason
//! while the rest of its batch is applied, another organization's document can be neither
//! written nor seen, and faults of a whole batch are refused with a sentence.

use bmms_shared::{BatchId, DocId};
use crate::helpers::{error_of, spawn_app, Browser, TestApp};
use crate::sync::{post_sync, set, two_officers, Device};
use automerge::transaction::Transactable;
use automerge::ROOT;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::sync::protocol::{self, DocumentChanges, RejectionCode, SyncRequest, SyncResponse, CONTENT_TYPE};
use bmms_shared::Role;
use reqwest::header::{CONTENT_TYPE as CT, COOKIE};
use uuid::Uuid;

/// Sends raw documents in one batch from `device` and returns the answer.
pub async fn send(app: &TestApp, device: &Device, documents: Vec<DocumentChanges>) -> SyncResponse {
    let request = SyncRequest { device_id: device.client.device_id(), batch_id: BatchId(Uuid::new_v4()), cursor: 0, documents, scope_version: 0 };
    let response = post_sync(app, &device.browser, protocol::encode(&request)).await;
    assert_eq!(response.status(), 200);
    protocol::decode(&response.bytes().await.unwrap()).unwrap()
}

pub fn changes_of(device: &Device, doc: DocId) -> DocumentChanges {
    let local = &device.client.documents()[&doc];
    DocumentChanges {
        doc_id: doc,
        kind: local.kind,
        changes: device.client.outbox()[&doc].iter().map(|c| c.bytes.clone()).collect(),
    }
}

#[tokio::test]
async fn each_bad_document_is_refused_alone_with_a_reason() {
    let app = spawn_app().await;
    let (mut ana, mut ben) = two_officers(&app).await;
    let good = DocId(Uuid::new_v4());
    ana.client.create(good, RecordKind::ManaAssessment);

    let negative = DocId(Uuid::new_v4());
    ana.client.create(negative, RecordKind::ManaAssessment);
    ana.client.edit_unchecked(negative, |d| { d.put(ROOT, "households", -5_i64).unwrap(); }).unwrap();

    let overdone = DocId(Uuid::new_v4());
    ana.client.create(overdone, RecordKind::MonitoringTask);
    ana.client.edit_unchecked(overdone, |d| { d.put(ROOT, "progress_percent", 140_i64).unwrap(); }).unwrap();

    let far_future = DocId(Uuid::new_v4());
    ana.client.create(far_future, RecordKind::MonitoringTask);
    ana.client.edit_unchecked(far_future, |d| { d.put(ROOT, "due_date", "30000-01-01").unwrap(); }).unwrap();

    let newer = DocId(Uuid::new_v4());
    ana.client.create(newer, RecordKind::ManaAssessment);
    ana.client.edit_unchecked(newer, |d| { d.put(ROOT, "schema_version", 99_u64).unwrap(); }).unwrap();

    // Ben's changes, sent as if they were Ana's.
    let bens = DocId(Uuid::new_v4());
    ben.client.create(bens, RecordKind::ManaAssessment);

    let garbled = DocId(Uuid::new_v4());
    let documents = vec![
        changes_of(&ana, good),
        changes_of(&ana, negative),
        changes_of(&ana, overdone),
        changes_of(&ana, far_future),
        changes_of(&ana, newer),
        changes_of(&ben, bens),
        DocumentChanges { doc_id: garbled, kind: RecordKind::ManaAssessment, changes: vec![vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]] },
    ];
    let answer = send(&app, &ana, documents).await;
    assert_eq!(answer.acknowledged, vec![good], "the good document is applied");
    let refused: Vec<(DocId, RejectionCode)> = answer.rejections.iter().map(|r| (r.doc_id, r.code)).collect();
    assert_eq!(
        refused,
        vec![
            (negative, RejectionCode::Invalid),
            (overdone, RejectionCode::Invalid),
            (far_future, RejectionCode::Invalid),
            (newer, RejectionCode::NewerSchema),
            (bens, RejectionCode::WrongActor),
            (garbled, RejectionCode::Undecodable),
        ]
    );
    for rejection in &answer.rejections {
        assert!(rejection.message.ends_with('.') && rejection.message.len() > 20, "{rejection:?}");
    }
    let messages: Vec<&str> = answer.rejections.iter().map(|r| r.message.as_str()).collect();
    assert!(messages[0].contains("households must be between 0 and"), "{}", messages[0]);
    assert!(messages[1].contains("progress_percent must be between 0 and 100"), "{}", messages[1]);
    assert_eq!(app.count("documents").await, 1);

    // Through the client, the refused changes stay on the device, marked.
    ana.sync(&app).await;
    let kept = &ana.client.outbox()[&negative];
    assert!(kept.iter().all(|c| c.rejected.as_ref().is_some_and(|r| r.code == RejectionCode::Invalid)));
}

/// A document of MOH's, by Hana, a field officer there (its community: "Secret place"),
/// stored on the server in one exchange.
pub async fn another_organizations_document(app: &TestApp) -> DocId {
    app.create_user("MOH", "hana", Role::FieldOfficer).await;
    let mut hana = Device::register(app, "hana").await;
    let theirs = DocId(Uuid::new_v4());
    hana.client.create(theirs, RecordKind::ManaAssessment);
    set(&mut hana, theirs, "community", FieldValue::Text("Secret place".into()));
    hana.sync(app).await;
    theirs
}

#[tokio::test]
async fn a_document_of_another_organization_cannot_be_written_or_seen() {
    let app = spawn_app().await;
    let (mut ana, _) = two_officers(&app).await;
    let theirs = another_organizations_document(&app).await;

    // Ana builds a document with the same id and sends it between two of her own.
    ana.client.create(theirs, RecordKind::ManaAssessment);
    let (before, after) = (DocId(Uuid::new_v4()), DocId(Uuid::new_v4()));
    ana.client.create(before, RecordKind::ManaAssessment);
    ana.client.create(after, RecordKind::ManaAssessment);
    let batch = vec![changes_of(&ana, before), changes_of(&ana, theirs), changes_of(&ana, after)];
    let answer = send(&app, &ana, batch).await;
    assert_eq!(answer.rejections.len(), 1);
    assert_eq!(answer.rejections[0].code, RejectionCode::NotYours);
    assert_eq!(answer.acknowledged, vec![before, after]);
    assert!(answer.updates.is_empty(), "nothing of MOH reaches a MILG device");
    // The refused document's place in the batch leaves no hole that later work falls into.
    let next = DocId(Uuid::new_v4());
    ana.client.create(next, RecordKind::ManaAssessment);
    assert_eq!(send(&app, &ana, vec![changes_of(&ana, next)]).await.acknowledged, vec![next]);
    let community: Option<String> = sqlx::query_scalar("select community from mana_assessments where id = $1")
        .bind(theirs)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(community.as_deref(), Some("Secret place"));
}

#[tokio::test]
async fn batch_level_faults_are_refused_whole_with_a_sentence() {
    let app = spawn_app().await;
    let (ana, ben) = two_officers(&app).await;
    let request = |device: &Device| SyncRequest { device_id: device.client.device_id(), batch_id: BatchId(Uuid::new_v4()), cursor: 0, documents: vec![], scope_version: 0 };

    let valid = protocol::encode(&request(&ana));
    let cases: Vec<(&str, Vec<u8>, Option<&str>, &Browser, u16, &str)> = vec![
        ("truncated", valid[..valid.len() - 3].to_vec(), Some(CONTENT_TYPE), &ana.browser, 400, "sync_unreadable"),
        ("random", vec![1, 0xff, 0xff, 0xff, 0xff, 0x0f, 9, 9], Some(CONTENT_TYPE), &ana.browser, 400, "sync_unreadable"),
        ("unknown version", [vec![7], valid[1..].to_vec()].concat(), Some(CONTENT_TYPE), &ana.browser, 400, "sync_unreadable"),
        ("empty", vec![], Some(CONTENT_TYPE), &ana.browser, 400, "sync_unreadable"),
        ("wrong content type", valid.clone(), Some("application/json"), &ana.browser, 415, "unsupported_media_type"),
        ("someone else's device", valid.clone(), Some(CONTENT_TYPE), &ben.browser, 403, "unknown_device"),
        ("over the size limit", vec![1; protocol::MAX_REQUEST_BYTES + 1], Some(CONTENT_TYPE), &ana.browser, 413, "body_too_large"),
    ];
    for (what, body, content_type, browser, status, code) in cases {
        let mut request = app
            .http
            .post(format!("{}/api/v1/sync", app.base))
            .header(COOKIE, &browser.cookie)
            .header("x-csrf-token", &browser.csrf)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header(CT, content_type);
        }
        let (got_status, got_code, message) = error_of(request.send().await.unwrap()).await;
        assert_eq!((got_status, got_code.as_str()), (status, code), "{what}: {message}");
        assert!(message.ends_with('.'), "{what}: {message}");
    }

    // A batch id reused with other content.
    let mut first = request(&ana);
    let doc = DocId(Uuid::new_v4());
    let mut device = ana;
    device.client.create(doc, RecordKind::ManaAssessment);
    first.documents = vec![changes_of(&device, doc)];
    let mut second = first.clone();
    second.documents.clear();
    assert_eq!(post_sync(&app, &device.browser, protocol::encode(&first)).await.status(), 200);
    let (status, code, _) = error_of(post_sync(&app, &device.browser, protocol::encode(&second)).await).await;
    assert_eq!((status, code.as_str()), (409, "batch_reused"));
    assert_eq!(app.count("change_log").await, 1, "the first batch stands, the second changed nothing");
    let (refusal, contact_after_sync): (Option<String>, bool) =
        sqlx::query_as("select last_refusal, last_contact_at > last_sync_at from devices where id = $1")
            .bind(device.client.device_id())
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(refusal.unwrap_or_default().contains("batch id"), "the supervisor's sync health shows the error");
    assert!(contact_after_sync, "the last contact is the refused one, after the last sync");
}

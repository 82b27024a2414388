//! Writers of one record at the same moment: a supervisor's decision during an officer's
//! sync, and two supervisors settling two conflicts of one record. Each takes the locks
//! in the one order (records, then conflicts), so neither deadlocks: no 5xx, and every
//! decision and every edit is kept.

use bmms_shared::{BatchId, DocId};
use crate::helpers::{spawn_app, Browser, TestApp};
use crate::sync::{post_sync, set, Device};
use bmms_shared::records::FieldValue;
use bmms_shared::Role;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

const ROUNDS: usize = 50;

/// A new assessment in which Ana and Ben wrote different values into each of `fields`.
async fn conflicting(app: &TestApp, ana: &mut Device, ben: &mut Device, fields: &[&str]) -> DocId {
    let doc = DocId(Uuid::new_v4());
    ana.create_assessment(doc);
    ana.sync(app).await;
    ben.sync(app).await;
    for field in fields {
        set(ana, doc, field, FieldValue::Integer(120));
        set(ben, doc, field, FieldValue::Integer(135));
    }
    ana.sync(app).await;
    ben.sync(app).await;
    doc
}

async fn open_conflicts(app: &TestApp, doc: DocId) -> Vec<(Uuid, String)> {
    sqlx::query_as("select id, field from conflicts where doc_id = $1 and resolved_at is null order by field")
        .bind(doc)
        .fetch_all(&app.owner)
        .await
        .unwrap()
}

async fn resolve(app: &TestApp, supervisor: &Browser, conflict: Uuid, value: i64) -> u16 {
    let body = json!({"value": value, "reason": "Counted again"});
    app.request(Method::POST, &format!("/api/v1/conflicts/{conflict}/resolve"), Some(supervisor), Some(body)).await.status().as_u16()
}

async fn households_and_respondents(app: &TestApp, doc: DocId) -> (Option<i32>, Option<i32>) {
    sqlx::query_as("select households, respondents from mana_assessments where id = $1").bind(doc).fetch_one(&app.owner).await.unwrap()
}

async fn officers_and_supervisors(app: &TestApp) -> (Device, Device, Browser, Browser) {
    for (name, role) in [("sofia", Role::Supervisor), ("omar", Role::Supervisor)] {
        app.create_user("MILG", name, role).await;
    }
    let (ana, ben) = crate::sync::two_officers(app).await;
    (ana, ben, app.sign_in("sofia").await, app.sign_in("omar").await)
}

#[tokio::test]
async fn two_supervisors_settle_two_conflicts_of_one_record_at_once() {
    let app = spawn_app().await;
    let (mut ana, mut ben, sofia, omar) = officers_and_supervisors(&app).await;
    for round in 0..ROUNDS {
        let doc = conflicting(&app, &mut ana, &mut ben, &["households", "respondents"]).await;
        let conflicts = open_conflicts(&app, doc).await;
        assert_eq!(conflicts.len(), 2, "round {round}");
        let (households, respondents) = (conflicts[0].0, conflicts[1].0);
        let (first, second) = tokio::join!(resolve(&app, &sofia, households, 128), resolve(&app, &omar, respondents, 700));
        assert_eq!((first, second), (200, 200), "round {round}");
        assert_eq!(households_and_respondents(&app, doc).await, (Some(128), Some(700)), "round {round}: both decisions applied");
        assert!(open_conflicts(&app, doc).await.is_empty(), "round {round}");
    }
}

#[tokio::test]
async fn a_decision_during_an_officers_sync_of_the_same_record_keeps_both() {
    let app = spawn_app().await;
    let (mut ana, mut ben, sofia, _) = officers_and_supervisors(&app).await;
    for round in 0..ROUNDS {
        let doc = conflicting(&app, &mut ana, &mut ben, &["households"]).await;
        let conflict = open_conflicts(&app, doc).await[0].0;
        // Ana's next batch: an edit of another field of that record, among others.
        set(&mut ana, doc, "respondents", FieldValue::Integer(640 + round as i64));
        for _ in 0..20 {
            let other = DocId(Uuid::new_v4());
            ana.create_assessment(other);
            set(&mut ana, other, "households", FieldValue::Integer(9));
        }
        let (_, body) = ana.client.next_request(u64::MAX, BatchId(Uuid::new_v4())).unwrap();
        let (synced, decided) = tokio::join!(post_sync(&app, &ana.browser, body), resolve(&app, &sofia, conflict, 128));
        let synced_status = synced.status().as_u16();
        assert_eq!((synced_status, decided), (200, 200), "round {round}");
        ana.client.on_response(&synced.bytes().await.unwrap()).unwrap();
        assert_eq!(ana.client.pending_count(), 0, "round {round}: the whole batch was stored");
        assert_eq!(households_and_respondents(&app, doc).await, (Some(128), Some(640 + round as i32)), "round {round}");
    }
}

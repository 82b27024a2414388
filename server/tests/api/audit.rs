//! The hash-chained audit log: tampering is found and named; the app cannot rewrite history.

use crate::helpers::spawn_app;
use bmms_server::audit;
use bmms_server::db::OrgTx;
use bmms_shared::Role;

#[tokio::test]
async fn changing_one_entry_in_the_middle_names_exactly_that_entry() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    app.create_user("MOH", "ben", Role::FieldOfficer).await;
    for _ in 0..2 {
        let browser = app.sign_in("ana").await;
        app.request(reqwest::Method::POST, "/api/v1/auth/logout", Some(&browser), None).await;
    }
    let before = audit::verify(app.db()).await.unwrap();
    assert!(before.broken.is_empty(), "{:?}", before.broken);
    assert_eq!(before.entries, 6, "two user creations, two sign-ins, two sign-outs");

    // As the database owner, rewrite entry 3 of MILG's chain (its first sign-in).
    let changed = sqlx::query(
        "update audit_log set details = '{\"client_address\": \"10.9.9.9\"}'
         where seq = 3 and org_id = (select id from organizations where code = 'MILG')",
    )
    .execute(&app.owner)
    .await
    .unwrap();
    assert_eq!(changed.rows_affected(), 1);

    let after = audit::verify(app.db()).await.unwrap();
    assert_eq!(after.broken.len(), 1, "only MILG's chain is broken: {:?}", after.broken);
    assert_eq!((after.broken[0].org_code.as_str(), after.broken[0].seq), ("MILG", 3));
}

#[tokio::test]
async fn the_app_role_can_neither_update_nor_delete_audit_entries() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let milg = app.org_id("MILG").await;
    for statement in ["update audit_log set action = 'nothing happened'", "delete from audit_log", "truncate audit_log"] {
        let mut tx = OrgTx::begin(app.db(), milg).await.unwrap();
        let err = sqlx::query(statement).execute(&mut *tx).await.unwrap_err().to_string();
        assert!(err.contains("permission denied"), "{statement}: {err}");
    }
    assert_eq!(app.count("audit_log").await, 1);
}

#[tokio::test]
async fn concurrent_appends_keep_one_unbroken_chain() {
    let app = spawn_app().await;
    let milg = app.org_id("MILG").await;
    let actor = audit::Actor::cli();
    let writers = (0..8).map(|i| {
        let db = app.db().clone();
        let actor = actor.clone();
        tokio::spawn(async move {
            let mut tx = OrgTx::begin(&db, milg).await.unwrap();
            audit::append(&mut tx, audit::Event { actor: &actor, action: "test.write", subject: format!("n:{i}"), details: serde_json::json!({}) })
                .await
                .unwrap();
            tx.commit().await.unwrap();
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    let report = audit::verify(app.db()).await.unwrap();
    assert!(report.broken.is_empty(), "{:?}", report.broken);
    assert_eq!(report.entries, 8);
}

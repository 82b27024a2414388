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

#[tokio::test]
async fn an_archive_holds_each_entry_once_stays_read_only_and_is_recorded_in_the_chain() {
    use bmms_server::audit_archive::{archive, verify_archive, Part};
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    app.create_user("MOH", "ben", Role::FieldOfficer).await;
    app.sign_in("ana").await;
    let part = |organization: &str, first_seq, last_seq| Part { organization: organization.into(), first_seq, last_seq };

    // Not into the future: entries may still come.
    assert!(archive(app.db(), dir.path(), chrono::Utc::now() + chrono::TimeDelta::minutes(1)).await.is_err());
    let first = archive(app.db(), dir.path(), chrono::Utc::now()).await.unwrap();
    assert_eq!(first.parts, [part("MILG", 1, 2), part("MOH", 1, 1)]);
    let file = first.file.unwrap();
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o222, 0, "nobody may write to it");
    assert_eq!(verify_archive(app.db(), &file).await.unwrap(), first.parts);
    // Each organization's chain says what was archived, and still holds every entry.
    let recorded: Vec<(String, serde_json::Value)> =
        sqlx::query_as("select o.code, a.details from audit_log a join organizations o on o.id = a.org_id where a.action = 'audit.archived' order by o.code")
            .fetch_all(&app.owner)
            .await
            .unwrap();
    assert_eq!(recorded.len(), 2);
    assert_eq!((recorded[0].1["first_seq"].as_i64(), recorded[0].1["last_seq"].as_i64()), (Some(1), Some(2)));
    assert_eq!(app.count("audit_log").await, 5, "three entries, and the two records of the archive");

    // The next archive continues where this one ended: the records of the first archive
    // and what came after, nothing twice.
    app.sign_in("ana").await;
    let second = archive(app.db(), dir.path(), chrono::Utc::now()).await.unwrap();
    assert_eq!(second.parts, [part("MILG", 3, 4), part("MOH", 2, 2)]);
    assert_eq!(verify_archive(app.db(), &second.file.unwrap()).await.unwrap(), second.parts);

    // A copy with one entry changed is found out, with the entry named.
    let forged = dir.path().join("forged.jsonl");
    let text = std::fs::read_to_string(&file).unwrap().replacen("\"action\":\"auth.sign_in\"", "\"action\":\"auth.sign_out\"", 1);
    std::fs::write(&forged, text).unwrap();
    let error = verify_archive(app.db(), &forged).await.unwrap_err().to_string();
    assert!(error.contains("MILG entry #2"), "{error}");
    // And an intact copy under another name is not the file the database recorded.
    let renamed = dir.path().join("renamed.jsonl");
    std::fs::copy(&file, &renamed).unwrap();
    assert!(verify_archive(app.db(), &renamed).await.unwrap_err().to_string().contains("no record of archiving renamed.jsonl"));
}

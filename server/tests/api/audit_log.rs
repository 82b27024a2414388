//! An organization's administrator reads its audit log in the app: filtered by who, what
//! and when, a page at a time, with the chain checked, and exported. Each organization
//! sees its own chain only.

use crate::helpers::{error_of, spawn_app, TestApp};
use bmms_server::audit::{self, Actor, Event};
use bmms_server::db::OrgTx;
use bmms_shared::Role;
use serde_json::{json, Value};

/// `count` entries of action `test.filler` in `org`'s chain.
async fn fill(app: &TestApp, org: &str, count: usize) {
    let org_id = app.org_id(org).await;
    let mut tx = OrgTx::begin(app.db(), org_id).await.unwrap();
    for n in 0..count {
        audit::append(&mut tx, Event { actor: &Actor::cli(), action: "test.filler", subject: format!("n:{n}"), details: json!({ "n": n }) })
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn page(app: &TestApp, browser: &crate::helpers::Browser, query: &str) -> Value {
    let response = app.get(&format!("/api/v1/audit{query}"), browser).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn an_administrator_browses_filters_pages_checks_and_exports_their_own_chain() {
    let app = spawn_app().await;
    app.create_user("MOH", "hamid", Role::OrgAdmin).await;
    app.create_user("MILG", "lina", Role::OrgAdmin).await;
    let hamid = app.sign_in("hamid").await;
    let lina = app.sign_in("lina").await;
    fill(&app, "MOH", 150).await;

    let first = page(&app, &hamid, "").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 100);
    let seqs: Vec<i64> = first["items"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
    let before = first["next_before"].as_i64().expect("a next page");
    let second = page(&app, &hamid, &format!("?before={before}")).await;
    assert!(second["next_before"].is_null(), "the last page");
    let total = 100 + second["items"].as_array().unwrap().len();
    let (entries, _) = audit::verify_organization(&mut OrgTx::begin(app.db(), app.org_id("MOH").await).await.unwrap()).await.unwrap();
    assert_eq!(total, entries, "the two pages hold the whole chain");

    // Who, what, when.
    let by_hamid = page(&app, &hamid, "?actor=hamid").await;
    assert!(actions(&by_hamid).iter().all(|a| a.starts_with("auth.")), "{:?}", actions(&by_hamid));
    assert!(!actions(&by_hamid).is_empty());
    let sign_ins = page(&app, &hamid, "?action=auth.sign").await;
    assert!(!actions(&sign_ins).is_empty() && actions(&sign_ins).iter().all(|a| a.starts_with("auth.sign")));
    let long_ago = page(&app, &hamid, "?from=2020-01-01&to=2020-12-31").await;
    assert_eq!(actions(&long_ago), Vec::<String>::new());
    let (status, _, message) = error_of(app.get("/api/v1/audit?from=yesterday", &hamid).await).await;
    assert_eq!(status, 422);
    assert!(message.contains("YYYY-MM-DD"), "{message}");

    // MILG's administrator sees MILG's chain alone.
    let milg = page(&app, &lina, "?action=test.").await;
    assert_eq!(actions(&milg), Vec::<String>::new());

    let ok: Value = app.get("/api/v1/audit/verify", &hamid).await.json().await.unwrap();
    assert_eq!(ok["broken_at"], Value::Null);
    assert_eq!(ok["entries"].as_u64().unwrap() as usize, entries);
    sqlx::query("update audit_log set details = '{\"n\": -1}' where action = 'test.filler' and subject = 'n:7'").execute(&app.owner).await.unwrap();
    let broken: Value = app.get("/api/v1/audit/verify", &hamid).await.json().await.unwrap();
    let tampered: i64 = sqlx::query_scalar("select seq from audit_log where subject = 'n:7'").fetch_one(&app.owner).await.unwrap();
    assert_eq!(broken["broken_at"], tampered);
    assert_eq!(broken["reason"], "its content does not match its hash");
    let milg_check: Value = app.get("/api/v1/audit/verify", &lina).await.json().await.unwrap();
    assert_eq!(milg_check["broken_at"], Value::Null, "MILG's chain is its own");

    let csv = app.get("/api/v1/audit/export?action=test.", &hamid).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("audit-log.csv"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("seq,at,actor,action,subject,details\n"));
    assert_eq!(text.lines().count(), 151, "a header and every filler entry");
}

#[tokio::test]
async fn only_an_administrator_reads_the_audit_log() {
    let app = spawn_app().await;
    for (username, org, role) in [("sam", "MOH", Role::Supervisor), ("olive", "OCM", Role::OcmExecutive), ("fatima", "MOH", Role::FieldOfficer)] {
        app.create_user(org, username, role).await;
        let browser = app.sign_in(username).await;
        for path in ["/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/export"] {
            assert_eq!(error_of(app.get(path, &browser).await).await.0, 403, "{username}: {path}");
        }
    }
}

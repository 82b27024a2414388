//! The system administrator manages organizations and acts for any of them: creates a
//! ministry and its first administrator, renames it, deactivates it (its people are
//! signed out and cannot sign in; nothing is deleted) and reactivates it, each change in
//! that organization's audit chain. Nobody else does any of it, nor reaches another
//! organization's people or audit log by naming it.

use crate::helpers::{error_of, spawn_app, Browser, TestApp, PASSWORD};
use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};

async fn post(app: &TestApp, path: &str, browser: &Browser, body: Option<Value>) -> reqwest::Response {
    app.request(Method::POST, path, Some(browser), body).await
}

async fn chain_actions(app: &TestApp, code: &str) -> Vec<String> {
    sqlx::query_scalar("select action from audit_log a join organizations o on o.id = a.org_id where o.code = $1 order by seq")
        .bind(code)
        .fetch_all(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_system_administrator_creates_renames_deactivates_and_reactivates_an_organization() {
    let app = spawn_app().await;
    app.create_user("BICTO", "root", Role::SystemAdmin).await;
    let root = app.sign_in("root").await;

    let created = post(&app, "/api/v1/organizations", &root, Some(json!({ "code": " mrd ", "name": "Ministry of Rural Development" }))).await;
    assert_eq!(created.status(), 201);
    let organization: Value = created.json().await.unwrap();
    assert_eq!((organization["code"].as_str(), organization["kind"].as_str()), (Some("MRD"), Some("moa")));
    let id = organization["id"].as_str().unwrap().to_owned();
    let (status, _, message) = error_of(post(&app, "/api/v1/organizations", &root, Some(json!({ "code": "MRD", "name": "Another name" }))).await).await;
    assert_eq!(status, 422, "{message}");
    assert!(message.contains("MRD"), "{message}");

    // Its first administrator, added by the system administrator acting for it.
    let people = format!("/api/v1/users?org={id}");
    let added = post(&app, &people, &root, Some(json!({ "username": "mrd.admin", "display_name": "Amina Sinsuat", "role": "org_admin" }))).await;
    assert_eq!(added.status(), 201);
    let listed: Value = app.get(&people, &root).await.json().await.unwrap();
    assert_eq!(listed["items"][0]["username"], "mrd.admin");
    let mine: Value = app.get("/api/v1/users", &root).await.json().await.unwrap();
    assert!(mine["items"].as_array().unwrap().iter().all(|p| p["username"] != "mrd.admin"), "without ?org=, their own organization");

    let nowhere = uuid::Uuid::new_v4();
    let (status, _, message) = error_of(app.get(&format!("/api/v1/users?org={nowhere}"), &root).await).await;
    assert_eq!(status, 404, "an organization that does not exist: {message}");
    let renamed: Value = app.request(Method::PUT, &format!("/api/v1/organizations/{id}"), Some(&root), Some(json!({ "name": "Ministry of Rural Affairs" }))).await.json().await.unwrap();
    assert_eq!(renamed["name"], "Ministry of Rural Affairs");

    // Deactivated: its people are signed out at once and refused at sign-in, with a reason.
    app.create_user("MRD", "mrd.officer", Role::FieldOfficer).await;
    let officer = app.sign_in("mrd.officer").await;
    let deactivated: Value = post(&app, &format!("/api/v1/organizations/{id}/deactivate"), &root, None).await.json().await.unwrap();
    assert_eq!(deactivated["deactivated"], true);
    assert_eq!(error_of(app.get("/api/v1/me", &officer).await).await.0, 401, "signed out at once");
    let (status, code, _) = error_of(app.login("mrd.officer", PASSWORD).await).await;
    assert_eq!((status, code.as_str()), (403, "organization_deactivated"));
    let (status, code, _) = error_of(app.login("mrd.officer", "a wrong password").await).await;
    assert_eq!((status, code.as_str()), (401, "invalid_credentials"), "a wrong password learns nothing");

    let reactivated: Value = post(&app, &format!("/api/v1/organizations/{id}/reactivate"), &root, None).await.json().await.unwrap();
    assert_eq!(reactivated["deactivated"], false);
    assert_eq!(app.login("mrd.officer", PASSWORD).await.status(), 200);
    let changes: Vec<String> = chain_actions(&app, "MRD").await.into_iter().filter(|a| a.starts_with("organization.") || a.starts_with("people.")).collect();
    assert_eq!(
        changes,
        ["organization.create", "people.create_user", "organization.rename", "organization.deactivate", "organization.reactivate"],
        "each change in the organization's own chain"
    );
    let refused: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'auth.sign_in_failed' and details->>'reason' = 'organization_deactivated'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(refused, 1, "the refused sign-in is audited");
}

#[tokio::test]
async fn oversight_and_the_caller_s_own_organization_cannot_be_deactivated() {
    let app = spawn_app().await;
    app.create_user("BICTO", "root", Role::SystemAdmin).await;
    let root = app.sign_in("root").await;
    for code in ["OCM", "BPDA", "MFBM", "BICTO"] {
        let id = app.org_id(code).await;
        let (status, code_, _) = error_of(post(&app, &format!("/api/v1/organizations/{id}/deactivate"), &root, None).await).await;
        assert_eq!((status, code_.as_str()), (409, "organization_stays"), "{code}");
    }
    let unknown = uuid::Uuid::new_v4();
    assert_eq!(error_of(post(&app, &format!("/api/v1/organizations/{unknown}/deactivate"), &root, None).await).await.0, 404);
}

#[tokio::test]
async fn nobody_else_manages_organizations_or_reaches_another_organization_by_naming_it() {
    let app = spawn_app().await;
    app.create_user("MOH", "hamid", Role::OrgAdmin).await;
    app.create_user("MILG", "mila", Role::OrgAdmin).await;
    let hamid = app.sign_in("hamid").await;
    let milg = app.org_id("MILG").await;
    let before: i64 = app.count("organizations").await;

    let (status, _, _) = error_of(post(&app, "/api/v1/organizations", &hamid, Some(json!({ "code": "XYZ", "name": "Ministry of XYZ" }))).await).await;
    assert_eq!(status, 403);
    let (status, _, _) = error_of(post(&app, &format!("/api/v1/organizations/{milg}/deactivate"), &hamid, None).await).await;
    assert_eq!(status, 403);
    for path in [format!("/api/v1/users?org={milg}"), format!("/api/v1/audit?org={milg}"), format!("/api/v1/audit/verify?org={milg}")] {
        let (status, code, _) = error_of(app.get(&path, &hamid).await).await;
        assert_eq!((status, code.as_str()), (403, "own_organization_only"), "{path}");
    }
    let (status, code, _) = error_of(post(&app, &format!("/api/v1/users?org={milg}"), &hamid, Some(json!({ "username": "spy", "display_name": "Spy", "role": "org_admin" }))).await).await;
    assert_eq!((status, code.as_str()), (403, "own_organization_only"));
    assert_eq!(app.count("organizations").await, before);
    assert_eq!(sqlx::query_scalar::<_, i64>("select count(*) from users where username = 'spy'").fetch_one(&app.owner).await.unwrap(), 0);
    let own = app.org_id("MOH").await;
    assert_eq!(app.get(&format!("/api/v1/users?org={own}"), &hamid).await.status(), 200, "naming one's own is fine");
}

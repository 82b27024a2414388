//! An organization's administrator manages its people at the desk: a new user chooses
//! their password from a one-time link; roles stay within the organization's kind;
//! disabling ends sessions at once; a lost authenticator app is removed; and another
//! organization's users cannot be touched at all.

use crate::helpers::{error_of, spawn_app, Browser, TestApp, PASSWORD};
use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};

async fn post(app: &TestApp, path: &str, browser: &Browser, body: Option<Value>) -> reqwest::Response {
    app.request(Method::POST, path, Some(browser), body).await
}

async fn user_id(app: &TestApp, username: &str) -> uuid::Uuid {
    sqlx::query_scalar("select id from users where username = $1").bind(username).fetch_one(&app.owner).await.unwrap()
}

async fn choose_password(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/auth/set-up", app.base))
        .json(&json!({ "token": token, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_user_chooses_their_password_from_a_link_that_works_once() {
    let app = spawn_app().await;
    app.create_user("MOH", "hamid", Role::OrgAdmin).await;
    let admin = app.sign_in("hamid").await;

    let created = post(&app, "/api/v1/users", &admin, Some(json!({ "username": " Bai.Sarip ", "display_name": "Bai Sarip", "role": "field_officer" }))).await;
    assert_eq!(created.status(), 201);
    let link: Value = created.json().await.unwrap();
    assert_eq!(link["person"]["username"], "bai.sarip");
    assert_eq!(link["person"]["set_up_pending"], true);
    let token = link["set_up_token"].as_str().unwrap().to_owned();
    // Only a digest of the token is stored.
    let stored: i64 = sqlx::query_scalar("select count(*) from user_set_up_links where token_sha256 = convert_to($1, 'UTF8')")
        .bind(&token)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // Too short a password is refused on its field, and the link still works.
    let short: Value = choose_password(&app, &token, "short").await.json().await.unwrap();
    assert_eq!(short["field"], "password");
    let chosen = choose_password(&app, &token, "my own long password").await;
    assert_eq!(chosen.status(), 200);
    assert_eq!(chosen.json::<Value>().await.unwrap()["username"], "bai.sarip");
    let (status, code, _) = error_of(choose_password(&app, &token, "another long password").await).await;
    assert_eq!((status, code.as_str()), (410, "set_up_link_unknown"), "a link works once");

    let signed_in = app.login("bai.sarip", "my own long password").await;
    assert_eq!(signed_in.status(), 200);
    let people: Value = app.get("/api/v1/users", &admin).await.json().await.unwrap();
    let bai = people["items"].as_array().unwrap().iter().find(|p| p["username"] == "bai.sarip").unwrap().clone();
    assert_eq!(bai["set_up_pending"], false);
    assert!(bai["last_sign_in"].is_string());
    assert_eq!(bai["active_sessions"], 1);
    assert_eq!(people["grantable_roles"], json!(["field_officer", "supervisor", "ministry_staff", "org_admin"]));

    let (status, code, _) = error_of(choose_password(&app, "not-a-token", "a long enough password").await).await;
    assert_eq!((status, code.as_str()), (410, "set_up_link_unknown"));
    let actions: Vec<String> = sqlx::query_scalar("select action from audit_log where action in ('people.create_user', 'auth.password_chosen') order by seq")
        .fetch_all(&app.owner)
        .await
        .unwrap();
    assert_eq!(actions, ["people.create_user", "auth.password_chosen"]);
}

#[tokio::test]
async fn an_administrator_changes_roles_disables_enables_resets_a_second_factor_and_ends_sessions() {
    let app = spawn_app().await;
    app.create_user("MOH", "hamid", Role::OrgAdmin).await;
    app.create_user("MOH", "sam", Role::Supervisor).await;
    app.create_user("MOH", "mona", Role::OrgAdmin).await;
    let admin = app.sign_in("hamid").await;
    let sam_browser = app.sign_in("sam").await;
    app.sign_in("mona").await; // mona sets up her authenticator app
    let (sam, mona, hamid) = (user_id(&app, "sam").await, user_id(&app, "mona").await, user_id(&app, "hamid").await);

    let changed: Value = app.request(Method::PUT, &format!("/api/v1/users/{sam}/role"), Some(&admin), Some(json!({ "role": "ministry_staff" }))).await.json().await.unwrap();
    assert_eq!(changed["role"], "ministry_staff");
    assert_eq!(app.get("/api/v1/me", &sam_browser).await.status(), 401, "the session with the old role ended");
    let sam_browser = app.sign_in("sam").await;
    let me: Value = app.get("/api/v1/me", &sam_browser).await.json().await.unwrap();
    assert_eq!(me["role"], "ministry_staff", "the next sign-in has the new role");

    // Roles outside a ministry's kind, and the system administrator, are not given.
    for role in ["ocm_executive", "bpda_planner", "system_admin"] {
        let refused: Value = app.request(Method::PUT, &format!("/api/v1/users/{sam}/role"), Some(&admin), Some(json!({ "role": role }))).await.json().await.unwrap();
        assert_eq!(refused["field"], "role", "{role}");
    }

    let disabled: Value = post(&app, &format!("/api/v1/users/{sam}/disable"), &admin, None).await.json().await.unwrap();
    assert_eq!(disabled["disabled"], true);
    assert_eq!(disabled["active_sessions"], 0);
    assert_eq!(app.get("/api/v1/me", &sam_browser).await.status(), 401, "signed out at once");
    assert_eq!(app.login("sam", PASSWORD).await.status(), 401);
    post(&app, &format!("/api/v1/users/{sam}/enable"), &admin, None).await;
    assert_eq!(app.login("sam", PASSWORD).await.status(), 200);

    let reset: Value = post(&app, &format!("/api/v1/users/{mona}/reset-second-factor"), &admin, None).await.json().await.unwrap();
    assert_eq!(reset["second_factor"], false);
    let step: Value = app.login("mona", PASSWORD).await.json().await.unwrap();
    assert_eq!(step["step"], "set_up_second_factor", "she sets up a new one");

    let ended: Value = app.request(Method::DELETE, &format!("/api/v1/users/{sam}/sessions"), Some(&admin), None).await.json().await.unwrap();
    assert_eq!(ended["active_sessions"], 0);

    let new_link = post(&app, &format!("/api/v1/users/{sam}/set-up-link"), &admin, None).await;
    assert_eq!(new_link.status(), 200);

    // An administrator cannot lock themselves out.
    for (method, path, body) in [
        (Method::POST, format!("/api/v1/users/{hamid}/disable"), None),
        (Method::PUT, format!("/api/v1/users/{hamid}/role"), Some(json!({ "role": "field_officer" }))),
    ] {
        let (status, code, _) = error_of(app.request(method, &path, Some(&admin), body).await).await;
        assert_eq!((status, code.as_str()), (409, "not_yourself"), "{path}");
    }
    let audited: Vec<String> = sqlx::query_scalar("select action from audit_log where action like 'people.%' or (action = 'auth.second_factor_removed') order by seq")
        .fetch_all(&app.owner)
        .await
        .unwrap();
    assert_eq!(audited, ["people.change_role", "people.disable_user", "people.enable_user", "auth.second_factor_removed", "people.end_sessions", "people.new_set_up_link"]);
}

/// Every route that changes a user, with its body.
fn user_changes(id: uuid::Uuid) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::PUT, format!("/api/v1/users/{id}/role"), Some(json!({ "role": "supervisor" }))),
        (Method::POST, format!("/api/v1/users/{id}/disable"), None),
        (Method::POST, format!("/api/v1/users/{id}/enable"), None),
        (Method::POST, format!("/api/v1/users/{id}/reset-second-factor"), None),
        (Method::POST, format!("/api/v1/users/{id}/set-up-link"), None),
        (Method::DELETE, format!("/api/v1/users/{id}/sessions"), None),
    ]
}

/// What a change to a user could alter: their row, membership, factors, links, sessions.
async fn users_state(app: &TestApp) -> String {
    sqlx::query_scalar(
        "select string_agg(u.username || m.role || coalesce(u.disabled_at::text, '') || u.password_hash
                || (select count(*) from sessions s where s.user_id = u.id)
                || (select count(*) from user_set_up_links l where l.user_id = u.id)
                || (select count(*) from user_totp t where t.user_id = u.id), ',' order by u.username)
         from users u join memberships m on m.user_id = u.id",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_administrator_cannot_touch_another_organizations_users_and_nobody_else_administers() {
    let app = spawn_app().await;
    app.create_user("MOH", "hamid", Role::OrgAdmin).await;
    app.create_user("MILG", "lina", Role::OrgAdmin).await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    app.create_user("MOH", "sam", Role::Supervisor).await;
    let hamid = app.sign_in("hamid").await;
    app.sign_in("lina").await;
    let ana = user_id(&app, "ana").await;

    let listed: Value = app.get("/api/v1/users", &hamid).await.json().await.unwrap();
    let names: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["hamid", "sam"], "MOH's people only");

    let before = users_state(&app).await;
    for (method, path, body) in user_changes(ana) {
        let (status, code, _) = error_of(app.request(method.clone(), &path, Some(&hamid), body).await).await;
        assert_eq!((status, code.as_str()), (404, "not_found"), "{method} {path}: MILG's officer is not found from MOH");
    }
    assert_eq!(users_state(&app).await, before, "nothing of MILG's changed");

    // Nobody but an administrator manages people: a supervisor, an OCM executive.
    app.create_user("OCM", "olive", Role::OcmExecutive).await;
    let sam_id = user_id(&app, "sam").await;
    let others = [("sam", app.sign_in("sam").await), ("olive", app.sign_in("olive").await)];
    let before = users_state(&app).await;
    for (username, browser) in others {
        assert_eq!(error_of(app.get("/api/v1/users", &browser).await).await.0, 403, "{username} lists");
        for (method, path, body) in user_changes(sam_id) {
            let (status, _, _) = error_of(app.request(method.clone(), &path, Some(&browser), body).await).await;
            assert_eq!(status, 403, "{username}: {method} {path}");
        }
    }
    assert_eq!(users_state(&app).await, before);
}

#[tokio::test]
async fn a_sign_in_left_halfway_ends_with_the_account_and_a_system_administrators_account_is_out_of_reach() {
    let app = spawn_app().await;
    app.create_user("MOH", "hamid", Role::OrgAdmin).await;
    app.create_user("MOH", "mona", Role::OrgAdmin).await;
    app.create_user("MOH", "root", Role::SystemAdmin).await;
    let admin = app.sign_in("hamid").await;
    let mona = user_id(&app, "mona").await;

    // Mona's password is right and she is halfway, to set up her authenticator app...
    let login = app.login("mona", PASSWORD).await;
    let halfway = Browser { cookie: crate::helpers::session_cookie(&login).unwrap(), csrf: login.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned() };
    // ...when she is disabled: the halfway sign-in ends with her other sessions.
    post(&app, &format!("/api/v1/users/{mona}/disable"), &admin, None).await;
    let (status, code, _) = error_of(post(&app, "/api/v1/auth/second-factor/totp", &halfway, None).await).await;
    assert_eq!((status, code.as_str()), (401, "not_signed_in"));

    // An organization's administrator cannot take over the system administrator's account.
    let root = user_id(&app, "root").await;
    let before = users_state(&app).await;
    for (method, path, body) in user_changes(root) {
        let (status, code, _) = error_of(app.request(method.clone(), &path, Some(&admin), body).await).await;
        assert_eq!((status, code.as_str()), (403, "beyond_your_roles"), "{method} {path}");
    }
    assert_eq!(users_state(&app).await, before);
}

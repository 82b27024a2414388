//! Second factors as people meet them: the roles that must have one are walked through
//! setting up an authenticator app at sign-in; a code works once; recovery codes once
//! each; sensitive actions ask again after 15 minutes; wrong codes are limited and
//! audited. Time is the server's factor clock, moved forward instead of waiting.

use crate::helpers::{error_of, session_cookie, spawn_app, spawn_app_with, Browser, TestApp, PASSWORD};
use bmms_server::auth::second_factor::{MfaPolicy, STEP_UP_WINDOW};
use bmms_server::auth::totp;
use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// The organization a member with `role` belongs to.
fn home(role: Role) -> &'static str {
    match role.required_org_kind() {
        Some(bmms_shared::OrgKind::Ocm) => "OCM",
        Some(bmms_shared::OrgKind::Bpda) => "BPDA",
        Some(bmms_shared::OrgKind::Mfbm) => "MFBM",
        _ => "MOH",
    }
}

/// Logs in with the password alone; returns the step and the halfway session.
async fn password_step(app: &TestApp, username: &str) -> (String, Browser) {
    let (step, browser) = app.password_step(username).await;
    (step["step"].as_str().unwrap().to_owned(), browser)
}

async fn give(app: &TestApp, browser: &Browser, code: &str) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/auth/second-factor", Some(browser), Some(json!({ "code": code }))).await
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1").bind(action).fetch_one(&app.owner).await.unwrap()
}

#[tokio::test]
async fn every_role_the_policy_names_sets_up_an_authenticator_app_before_it_is_signed_in() {
    let app = spawn_app().await;
    let policy = MfaPolicy::default();
    for role in Role::ALL {
        let username = format!("user.{}", role.as_str().replace('_', "."));
        app.create_user(home(role), &username, role).await;
        let (step, halfway) = password_step(&app, &username).await;
        if !policy.requires(role) {
            assert_eq!(step, "signed_in", "{role}: a password is enough");
            continue;
        }
        assert_eq!(step, "set_up_second_factor", "{role} must set up a second factor");
        // Halfway is not signed in: nothing but finishing the sign-in is open to it.
        let (status, code, _) = error_of(app.get("/api/v1/me", &halfway).await).await;
        assert_eq!((status, code.as_str()), (401, "not_signed_in"), "{role}");
        let (status, code, _) = error_of(give(&app, &halfway, "123456").await).await;
        assert_eq!((status, code.as_str()), (409, "set_up_first"), "{role}");

        let (browser, recovery_codes) = app.set_up_authenticator(&username, &halfway).await;
        assert_eq!(recovery_codes.len(), 10);
        assert_ne!(browser.cookie, halfway.cookie, "finishing the sign-in gives the session a new id");
        let me: Value = app.get("/api/v1/me", &browser).await.json().await.unwrap();
        assert_eq!(me["role"], role.as_str());
        assert_eq!(error_of(app.get("/api/v1/me", &halfway).await).await.0, 401, "the halfway id is gone");

        // From now on, the password is followed by a code.
        let (step, _) = password_step(&app, &username).await;
        assert_eq!(step, "second_factor", "{role}");
    }
    assert_eq!(audited(&app, "auth.totp_set_up").await, 6);
}

#[tokio::test]
async fn a_code_works_once_and_a_recovery_code_once_each() {
    let app = spawn_app().await;
    app.create_user("BPDA", "pia", Role::BpdaPlanner).await;
    let (_, halfway) = password_step(&app, "pia").await;
    let (_, recovery_codes) = app.set_up_authenticator("pia", &halfway).await;

    let (step, halfway) = password_step(&app, "pia").await;
    assert_eq!(step, "second_factor");
    let code = app.next_code("pia");
    let signed_in = give(&app, &halfway, &code).await;
    assert_eq!(signed_in.status(), 200);
    let me: Value = signed_in.json().await.unwrap();
    assert_eq!(me["user"]["username"], "pia");

    // Seen over a shoulder and typed again at once: spent.
    let (_, halfway) = password_step(&app, "pia").await;
    let (status, code_name, message) = error_of(give(&app, &halfway, &code).await).await;
    assert_eq!((status, code_name.as_str()), (401, "wrong_code"));
    assert!(message.contains("used already"), "{message}");
    assert_eq!(error_of(app.get("/api/v1/me", &halfway).await).await.0, 401, "still halfway");
    // A code of two steps ago is refused as well.
    let secret = app_secret(&app, "pia").await;
    let old = totp::code_at(&secret, (app.state.factor_clock.now() - 65) as u64);
    assert_eq!(error_of(give(&app, &halfway, &old).await).await.1, "wrong_code");

    // A recovery code, typed in capitals with spaces, works once.
    let typed = recovery_codes[3].to_uppercase().replace('-', " ");
    assert_eq!(give(&app, &halfway, &typed).await.status(), 200);
    let (_, halfway) = password_step(&app, "pia").await;
    assert_eq!(error_of(give(&app, &halfway, &recovery_codes[3]).await).await.1, "wrong_code");
    assert_eq!(give(&app, &halfway, &recovery_codes[4]).await.status(), 200);
    let browser = Browser { cookie: session_cookie(&give_fresh(&app, "pia").await).unwrap(), csrf: String::new() };
    let factors: Value = app.get("/api/v1/auth/second-factor", &browser).await.json().await.unwrap();
    assert_eq!(factors["recovery_codes_left"], 8);
    assert_eq!(factors["required_by_role"], true);

    assert_eq!(audited(&app, "auth.second_factor_failed").await, 3);
    let used: Vec<Value> = sqlx::query_scalar("select details->'second_factor' from audit_log where action = 'auth.sign_in' order by seq")
        .fetch_all(&app.owner)
        .await
        .unwrap();
    assert_eq!(used, [json!("totp"), json!("totp"), json!("recovery_code"), json!("recovery_code"), json!("totp")]);
}

/// A fresh sign-in of `username` with a code; the answer (its cookie is the session).
async fn give_fresh(app: &TestApp, username: &str) -> reqwest::Response {
    let (_, halfway) = password_step(app, username).await;
    let code = app.next_code(username);
    give(app, &halfway, &code).await
}

/// The secret of the authenticator app the helpers set up for `username`, read back the
/// way the server does (it is sealed in the database).
async fn app_secret(app: &TestApp, username: &str) -> Vec<u8> {
    let (user_id, sealed): (uuid::Uuid, Vec<u8>) =
        sqlx::query_as("select u.id, t.secret_sealed from users u join user_totp t on t.user_id = u.id where u.username = $1")
            .bind(username)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    app.state.settings.factor_key.open(user_id, &sealed).unwrap()
}

#[tokio::test]
async fn the_secret_is_stored_sealed_and_the_qr_code_is_drawn_by_bmms() {
    let app = spawn_app().await;
    app.create_user("OCM", "olive", Role::OcmExecutive).await;
    let (_, halfway) = password_step(&app, "olive").await;
    let set_up: Value = app.request(Method::POST, "/api/v1/auth/second-factor/totp", Some(&halfway), None).await.json().await.unwrap();
    assert!(set_up["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/BMMS:olive?"));
    assert!(set_up["qr_svg"].as_str().unwrap().starts_with("<?xml") || set_up["qr_svg"].as_str().unwrap().contains("<svg"));
    let secret = totp_rs::Secret::Encoded(set_up["secret"].as_str().unwrap().to_owned()).to_bytes().unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("select secret_sealed from user_totp_pending").fetch_one(&app.owner).await.unwrap();
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_slice()), "the seed is not in the database in the clear");
    // A wrong first code names the field and signs nobody in.
    let wrong = app.request(Method::POST, "/api/v1/auth/second-factor/totp/confirm", Some(&halfway), Some(json!({ "code": "000000" }))).await;
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["field"], "code");
    assert_eq!(app.count("user_totp").await, 0);
}

#[tokio::test]
async fn a_sign_in_left_halfway_ends_after_ten_minutes() {
    let app = spawn_app().await;
    app.create_user("MFBM", "mara", Role::MfbmBudgetOfficer).await;
    app.sign_in("mara").await;
    let (_, halfway) = password_step(&app, "mara").await;
    app.state.factor_clock.advance(Duration::from_secs(11 * 60));
    let code = app.next_code("mara");
    let (status, code, _) = error_of(give(&app, &halfway, &code).await).await;
    assert_eq!((status, code.as_str()), (401, "session_expired"));
}

#[tokio::test]
async fn wrong_codes_are_limited_per_user() {
    let app = spawn_app().await;
    app.create_user("MFBM", "mara", Role::MfbmBudgetOfficer).await;
    app.sign_in("mara").await;
    // The set-up's code counted too; this starts from a full allowance.
    app.state.factor_limiter.clock().advance(Duration::from_secs(3600));
    let (_, halfway) = password_step(&app, "mara").await;
    for _ in 0..10 {
        assert_eq!(give(&app, &halfway, "000000").await.status(), 401);
    }
    let limited = give(&app, &halfway, &app.next_code("mara")).await;
    assert_eq!(limited.status(), 429, "the right code waits too, once the limit is reached");
    app.state.factor_limiter.clock().advance(Duration::from_secs(30));
    assert_eq!(give(&app, &halfway, &app.next_code("mara")).await.status(), 200);
}

/// One sensitive action: who may take it, and the request.
struct Sensitive {
    role: Role,
    method: Method,
    path: &'static str,
}

/// Every sensitive action (server/tests/api/routes.rs holds the list complete), with a
/// role that may take it. The request need not succeed: what counts is whether the step-up
/// is asked for; the data behind it does not exist.
fn sensitive_actions() -> Vec<Sensitive> {
    let action = |role, method, path| Sensitive { role, method, path };
    vec![
        action(Role::BpdaPlanner, Method::POST, "/submissions/00000000-0000-0000-0000-000000000000/certify"),
        action(Role::OrgAdmin, Method::POST, "/budget-proposals/2027/submit"),
        action(Role::MfbmBudgetOfficer, Method::POST, "/budget-submissions/2027/MOH/review"),
        action(Role::OcmExecutive, Method::POST, "/budget-approvals/2027/MOH"),
        action(Role::MfbmBudgetOfficer, Method::POST, "/expenditure-program/2027/parliament"),
        action(Role::OrgAdmin, Method::GET, "/assessments/export"),
        action(Role::OcmAnalyst, Method::GET, "/implementation/export"),
        action(Role::BpdaPlanner, Method::GET, "/aip/export?year=2027"),
        action(Role::MfbmBudgetOfficer, Method::GET, "/expenditure-program/2027/export"),
        action(Role::OcmAnalyst, Method::GET, "/budget-monitoring/export?year=2027"),
        action(Role::OrgAdmin, Method::GET, "/audit/export"),
        action(Role::OrgAdmin, Method::POST, "/auth/second-factor/recovery-codes"),
        action(Role::OrgAdmin, Method::POST, "/users"),
        action(Role::OrgAdmin, Method::POST, "/users/00000000-0000-0000-0000-000000000000/set-up-link"),
        action(Role::OrgAdmin, Method::PUT, "/users/00000000-0000-0000-0000-000000000000/role"),
        action(Role::OrgAdmin, Method::POST, "/users/00000000-0000-0000-0000-000000000000/disable"),
        action(Role::OrgAdmin, Method::POST, "/users/00000000-0000-0000-0000-000000000000/enable"),
        action(Role::OrgAdmin, Method::POST, "/users/00000000-0000-0000-0000-000000000000/reset-second-factor"),
        action(Role::OrgAdmin, Method::DELETE, "/users/00000000-0000-0000-0000-000000000000/sessions"),
        action(Role::OrgAdmin, Method::DELETE, "/auth/passkeys/00000000-0000-0000-0000-000000000000"),
        action(Role::OrgAdmin, Method::POST, "/auth/oidc/no-such-service/link"),
        action(Role::OrgAdmin, Method::DELETE, "/auth/oidc/no-such-service/link"),
        action(Role::SystemAdmin, Method::POST, "/organizations"),
        action(Role::SystemAdmin, Method::PUT, "/organizations/00000000-0000-0000-0000-000000000000"),
        action(Role::SystemAdmin, Method::POST, "/organizations/00000000-0000-0000-0000-000000000000/deactivate"),
        action(Role::SystemAdmin, Method::POST, "/organizations/00000000-0000-0000-0000-000000000000/reactivate"),
    ]
}

#[tokio::test]
async fn every_sensitive_action_asks_for_the_second_factor_again_after_15_minutes() {
    let app = spawn_app().await;
    for (index, action) in sensitive_actions().into_iter().enumerate() {
        let username = format!("step.up.{index}");
        app.create_user(home(action.role), &username, action.role).await;
        let browser = app.sign_in(&username).await;
        let path = format!("/api/v1{}", action.path);
        let body = (action.method == Method::POST).then(|| json!({ "decision": "recommended", "comments": "fine" }));
        let name = format!("{} {}", action.method, action.path);

        // Just signed in with a code: not asked (and the request itself is well formed:
        // a refusal of its query would come before the step-up and prove nothing).
        let fresh = app.request(action.method.clone(), &path, Some(&browser), body.clone()).await;
        assert!(![400, 403].contains(&fresh.status().as_u16()), "{name}: {}", fresh.text().await.unwrap());

        app.state.factor_clock.advance(STEP_UP_WINDOW + Duration::from_secs(60));
        let entries = app.count("audit_log").await;
        let (status, code, message) = error_of(app.request(action.method.clone(), &path, Some(&browser), body.clone()).await).await;
        assert_eq!((status, code.as_str()), (403, "second_factor_needed"), "{name}");
        assert!(message.contains("authenticator app"), "{message}");
        assert_eq!(app.count("audit_log").await, entries, "{name}: refused, it changed nothing");

        // The code, and the action is let through again.
        let step_up = give(&app, &browser, &app.next_code(&username)).await;
        assert_eq!(step_up.status(), 200, "{name}");
        let again = app.request(action.method.clone(), &path, Some(&browser), body).await;
        assert_ne!(again.status(), 403, "{name}: {}", again.text().await.unwrap());
    }
    assert_eq!(audited(&app, "auth.step_up").await, sensitive_actions().len() as i64);
}

#[tokio::test]
async fn a_user_without_a_second_factor_whose_role_needs_none_is_not_asked() {
    let app = spawn_app().await;
    app.create_user("MOH", "sam", Role::Supervisor).await;
    let browser = app.sign_in("sam").await;
    app.state.factor_clock.advance(STEP_UP_WINDOW * 4);
    assert_eq!(app.get("/api/v1/assessments/export", &browser).await.status(), 200);
}

#[tokio::test]
async fn a_role_that_needs_no_second_factor_may_set_one_up_and_remove_it() {
    let app = spawn_app().await;
    app.create_user("MOH", "sam", Role::Supervisor).await;
    let browser = app.sign_in("sam").await;
    let (browser, _) = app.set_up_authenticator("sam", &browser).await;
    // From now on sam gives a code at sign-in, and exports ask again after 15 minutes.
    assert_eq!(password_step(&app, "sam").await.0, "second_factor");
    app.state.factor_clock.advance(STEP_UP_WINDOW * 2);
    assert_eq!(error_of(app.get("/api/v1/assessments/export", &browser).await).await.1, "second_factor_needed");
    assert_eq!(error_of(app.request(Method::DELETE, "/api/v1/auth/second-factor", Some(&browser), None).await).await.1, "second_factor_needed");
    assert_eq!(give(&app, &browser, &app.next_code("sam")).await.status(), 200);
    assert_eq!(app.request(Method::DELETE, "/api/v1/auth/second-factor", Some(&browser), None).await.status(), 200);
    assert_eq!(password_step(&app, "sam").await.0, "signed_in");
    assert_eq!(app.count("user_recovery_codes").await, 0);
    assert_eq!(audited(&app, "auth.second_factor_removed").await, 1);

    // A role that needs one cannot remove it.
    app.create_user("MOH", "hamid", Role::OrgAdmin).await;
    let head = app.sign_in("hamid").await;
    let (status, code, _) = error_of(app.request(Method::DELETE, "/api/v1/auth/second-factor", Some(&head), None).await).await;
    assert_eq!((status, code.as_str()), (409, "second_factor_required"));
}

#[tokio::test]
async fn replacing_an_authenticator_app_asks_for_the_old_one_first_and_keeps_it_until_confirmed() {
    let app = spawn_app().await;
    app.create_user("OCM", "olive", Role::OcmAnalyst).await;
    let browser = app.sign_in("olive").await;
    let old_secret = app_secret(&app, "olive").await;
    app.state.factor_clock.advance(STEP_UP_WINDOW * 2);
    let (status, code, _) = error_of(app.request(Method::POST, "/api/v1/auth/second-factor/totp", Some(&browser), None).await).await;
    assert_eq!((status, code.as_str()), (403, "second_factor_needed"));
    assert_eq!(give(&app, &browser, &app.next_code("olive")).await.status(), 200);
    let started = app.request(Method::POST, "/api/v1/auth/second-factor/totp", Some(&browser), None).await;
    assert_eq!(started.status(), 200);
    // Not confirmed yet: the old app still signs in.
    assert_eq!(app_secret(&app, "olive").await, old_secret);
    assert_eq!(give_fresh(&app, "olive").await.status(), 200);
}

#[tokio::test]
async fn with_no_policy_every_role_signs_in_with_a_password() {
    let app = spawn_app_with(|settings| settings.mfa_policy = MfaPolicy::none()).await;
    app.create_user("OCM", "olive", Role::OcmExecutive).await;
    let (step, _) = password_step(&app, "olive").await;
    assert_eq!(step, "signed_in");
    assert_eq!("field_officer, supervisor".parse::<MfaPolicy>().unwrap(), MfaPolicy::of(&[Role::Supervisor, Role::FieldOfficer]));
    assert!("field_officer,chief".parse::<MfaPolicy>().is_err());
    assert_eq!("default".parse::<MfaPolicy>().unwrap(), MfaPolicy::default());
}

#[tokio::test]
async fn a_sign_in_halfway_in_a_browser_signed_in_as_someone_else_leaves_nobody_signed_in() {
    let app = spawn_app().await;
    app.create_user("MOH", "sam", Role::Supervisor).await;
    app.create_user("MOH", "hamid", Role::OrgAdmin).await;
    app.sign_in("hamid").await;
    let sam = app.sign_in("sam").await;
    // hamid types his password in the browser where sam is signed in.
    let response = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header(reqwest::header::COOKIE, &sam.cookie)
        .json(&json!({ "username": "hamid", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let halfway = Browser { cookie: session_cookie(&response).unwrap(), csrf: String::new() };
    let step: Value = response.json().await.unwrap();
    assert_eq!(step["step"], "second_factor");
    let (status, code, _) = error_of(app.get("/api/v1/me", &halfway).await).await;
    assert_eq!((status, code.as_str()), (401, "not_signed_in"), "sam is signed out, and hamid not yet in");
}

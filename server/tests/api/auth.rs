//! Sign-in, sessions, CSRF and attempt limits, as a browser would meet them.

use crate::helpers::{error_of, session_cookie, spawn_app, Browser, PASSWORD};
use bmms_server::audit::Actor;
use bmms_server::cli::admin;
use bmms_shared::Role;
use reqwest::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn signing_in_returns_the_user_organization_and_role() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana.reyes", Role::FieldOfficer).await;

    let response = app.login("Ana.Reyes", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    for attribute in ["__Host-bmms_session=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "cookie lacks {attribute}: {set_cookie}");
    }
    assert!(!set_cookie.contains("Domain"), "__Host- cookies carry no Domain");
    assert_eq!(response.headers()["x-frame-options"], "DENY", "no other site may frame BMMS");
    let cookie = session_cookie(&response).unwrap();

    let me = app
        .http
        .get(format!("{}/api/v1/me", app.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["user"]["username"], "ana.reyes");
    assert_eq!(me["organization"]["code"], "MILG");
    assert_eq!(me["organization"]["kind"], "moa");
    assert_eq!(me["role"], "field_officer");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let wrong = error_of(app.login("ana", "not the password").await).await;
    let unknown = error_of(app.login("nobody", "not the password").await).await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong.1, "invalid_credentials");
}

#[tokio::test]
async fn sign_in_and_failures_are_audited_in_the_users_organization() {
    let app = spawn_app().await;
    app.create_user("MOH", "ana", Role::Supervisor).await;
    app.login("ana", "wrong password!").await;
    let browser = app.sign_in("ana").await;
    app.request(Method::POST, "/api/v1/auth/logout", Some(&browser), None).await;
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_log a join organizations o on o.id = a.org_id where o.code = 'MOH' order by seq",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(actions, ["admin.create_user", "auth.sign_in_failed", "auth.sign_in", "auth.sign_out"]);
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_the_old_one_stops_working() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let first = app.sign_in("ana").await;
    let response = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header(COOKIE, &first.cookie)
        .json(&serde_json::json!({"username": "ana", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let second = session_cookie(&response).unwrap();
    assert_ne!(first.cookie, second);
    assert_eq!(app.get("/api/v1/me", &first).await.status(), 401);
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let browser = app.sign_in("ana").await;
    assert_eq!(app.count("sessions").await, 1);
    let out = app.request(Method::POST, "/api/v1/auth/logout", Some(&browser), None).await;
    assert_eq!(out.status(), 200);
    assert_eq!(app.count("sessions").await, 0);
    // A browser that kept the old cookie is not signed in.
    let (status, code, _) = error_of(app.get("/api/v1/me", &browser).await).await;
    assert_eq!((status, code.as_str()), (401, "not_signed_in"));
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_at_once_and_blocks_sign_in() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let browser = app.sign_in("ana").await;
    let ended = admin::disable_user(app.db(), &Actor::cli(), "ana").await.unwrap();
    assert_eq!(ended, 1);
    assert_eq!(app.get("/api/v1/me", &browser).await.status(), 401);
    assert_eq!(app.login("ana", PASSWORD).await.status(), 401);
}

#[tokio::test]
async fn an_idle_expired_session_gets_401() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let browser = app.sign_in("ana").await;
    sqlx::query("update sessions set expiry_date = now() - interval '1 second'").execute(&app.owner).await.unwrap();
    assert_eq!(app.get("/api/v1/me", &browser).await.status(), 401);
}

#[tokio::test]
async fn a_session_in_use_keeps_moving_its_idle_deadline_with_a_write_every_few_minutes() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let browser = app.sign_in("ana").await;
    assert_eq!(app.get("/api/v1/me", &browser).await.status(), 200);
    let deadline = || async {
        sqlx::query_scalar::<_, f64>("select extract(epoch from expiry_date - now())::float8 from sessions")
            .fetch_one(&app.owner)
            .await
            .unwrap()
    };
    // Saved a moment ago: another request writes nothing, the deadline stays where it is.
    sqlx::query("update sessions set expiry_date = now() + interval '10 minutes'").execute(&app.owner).await.unwrap();
    assert_eq!(app.get("/api/v1/me", &browser).await.status(), 200);
    assert!(deadline().await < 601.0);
    // Last saved an hour ago (the idle time is an hour here): the request moves the deadline.
    sqlx::query("update sessions set data = jsonb_set(data, '{touched_at}', to_jsonb(extract(epoch from now() - interval '1 hour')::bigint))")
        .execute(&app.owner)
        .await
        .unwrap();
    assert_eq!(app.get("/api/v1/me", &browser).await.status(), 200);
    assert!(deadline().await > 3500.0, "an hour from now again");
}

#[tokio::test]
async fn a_session_past_its_absolute_lifetime_gets_401_even_if_active() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let browser = app.sign_in("ana").await;
    // Signed in eight days ago (the limit is seven), and active ever since.
    sqlx::query("update sessions set data = jsonb_set(data, '{auth,signed_in_at}', to_jsonb(extract(epoch from now() - interval '8 days')::bigint))")
        .execute(&app.owner)
        .await
        .unwrap();
    let (status, code, _) = error_of(app.get("/api/v1/me", &browser).await).await;
    assert_eq!((status, code.as_str()), (401, "session_expired"));
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn writes_without_the_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let browser = app.sign_in("ana").await;
    for token in ["", "forged-token-forged-token-forged-"] {
        let forged = Browser { csrf: token.to_owned(), ..browser.clone() };
        let (status, code, _) = error_of(app.request(Method::POST, "/api/v1/auth/logout", Some(&forged), None).await).await;
        assert_eq!((status, code.as_str()), (403, "csrf_token_invalid"));
    }
    assert_eq!(app.get("/api/v1/me", &browser).await.status(), 200, "still signed in");
}

#[tokio::test]
async fn a_sign_in_posted_from_another_site_is_refused() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let response = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({"username": "ana", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(response).await;
    assert_eq!((status, code.as_str()), (403, "cross_origin"));
}

#[tokio::test]
async fn too_many_attempts_get_429_with_retry_after_until_the_limit_refills() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    for _ in 0..5 {
        assert_eq!(app.login("ana", "guess guess guess").await.status(), 401);
    }
    let limited = app.login("ana", PASSWORD).await;
    assert_eq!(limited.status(), 429, "even the right password waits");
    let retry_after: u64 = limited.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After: {retry_after}");
    let (_, code, message) = error_of(limited).await;
    assert_eq!(code, "too_many_attempts");
    assert!(message.contains(&retry_after.to_string()), "{message}");

    // Another account from the same address is not held back.
    app.create_user("MILG", "ben", Role::FieldOfficer).await;
    assert_eq!(app.login("ben", PASSWORD).await.status(), 200);

    app.state.login_limiter.clock().advance(Duration::from_secs(retry_after));
    assert_eq!(app.login("ana", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn requests_with_unknown_cookies_leave_no_session_rows() {
    let app = spawn_app().await;
    let stranger = Browser { cookie: "__Host-bmms_session=AAAAAAAAAAAAAAAAAAAAAA".into(), csrf: String::new() };
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/me", &stranger).await.status(), 401);
        app.login("nobody", "wrong password").await;
    }
    assert_eq!(app.count("sessions").await, 0);
}

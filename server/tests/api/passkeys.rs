//! Passkeys through the API, with webauthn-authenticator-rs's software passkey as the
//! person's device: added at sign-in (a role that needs a second factor) or from the
//! Security page, given as the second factor and as a step-up, each challenge once and
//! for its own user only, a copied passkey refused, renamed, and removed except when it
//! is the last second factor of a role that needs one. Signing in with a passkey alone
//! needs a passkey that names its user, which this software passkey does not keep; the
//! browser test (e2e/tests/passkeys.test.mjs) does it with Chromium's virtual one.

use crate::helpers::{error_of, session_cookie, spawn_app, Browser, TestApp, PASSKEY_ORIGIN};
use bmms_server::auth::second_factor::STEP_UP_WINDOW;
use bmms_shared::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use std::time::Duration;
use webauthn_authenticator_rs::prelude::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;

type Device = WebauthnAuthenticator<SoftPasskey>;

/// A phone or laptop with a passkey store whose screen lock verifies its owner.
fn device() -> Device {
    WebauthnAuthenticator::new(SoftPasskey::new(true))
}

fn origin() -> Url {
    PASSKEY_ORIGIN.parse().unwrap()
}

async fn post(app: &TestApp, path: &str, browser: Option<&Browser>, body: Option<Value>) -> Response {
    app.request(Method::POST, &format!("/api/v1{path}"), browser, body).await
}

/// Begins a ceremony at `path`: its id and the options for the device.
async fn challenge(app: &TestApp, path: &str, browser: &Browser) -> (Value, Value) {
    let response = post(app, path, Some(browser), None).await;
    assert_eq!(response.status(), 200, "POST {path}");
    let begun: Value = response.json().await.unwrap();
    (begun["ceremony"].clone(), begun["options"].clone())
}

/// The device's new passkey for the challenge of `browser`'s session, sent as `name`.
async fn add_passkey(app: &TestApp, browser: &Browser, device: &mut Device, name: &str) -> Response {
    let (ceremony, options) = challenge(app, "/auth/passkeys/registration", browser).await;
    let credential = device.do_registration(origin(), serde_json::from_value(options).unwrap()).expect("the device makes a passkey");
    let body = json!({ "ceremony": ceremony, "name": name, "credential": credential });
    post(app, "/auth/passkeys", Some(browser), Some(body)).await
}

/// The device's answer to a second-factor challenge of `browser`'s session.
async fn passkey_answer(app: &TestApp, browser: &Browser, device: &mut Device) -> Value {
    let (ceremony, options) = challenge(app, "/auth/passkeys/challenge", browser).await;
    let credential = device.do_authentication(origin(), serde_json::from_value(options).unwrap()).expect("the device uses its passkey");
    json!({ "ceremony": ceremony, "credential": credential })
}

async fn give(app: &TestApp, browser: &Browser, answer: Value) -> Response {
    post(app, "/auth/second-factor/passkey", Some(browser), Some(answer)).await
}

/// `username` with a passkey on a device, signed in: the session and the device.
async fn with_passkey(app: &TestApp, org: &str, username: &str, role: Role) -> (Browser, Device) {
    app.create_user(org, username, role).await;
    let (_, halfway) = app.password_step(username).await;
    let mut device = device();
    let response = add_passkey(app, &halfway, &mut device, "Work laptop").await;
    assert_eq!(response.status(), 200, "adding the first passkey of {username}");
    let cookie = session_cookie(&response).unwrap_or(halfway.cookie);
    (Browser { cookie, csrf: halfway.csrf }, device)
}

async fn factors(app: &TestApp, browser: &Browser) -> Value {
    app.get("/api/v1/auth/second-factor", browser).await.json().await.unwrap()
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1").bind(action).fetch_one(&app.owner).await.unwrap()
}

#[tokio::test]
async fn a_role_that_needs_a_second_factor_adds_a_passkey_at_sign_in_and_gives_it_next_time() {
    let app = spawn_app().await;
    app.create_user("MOH", "olive", Role::OrgAdmin).await;
    let (step, halfway) = app.password_step("olive").await;
    assert_eq!(step["step"], "set_up_second_factor");

    let mut laptop = device();
    let response = add_passkey(&app, &halfway, &mut laptop, "  Work laptop ").await;
    assert_eq!(response.status(), 200);
    let signed_in = Browser { cookie: session_cookie(&response).expect("a new session id"), csrf: halfway.csrf.clone() };
    let added: Value = response.json().await.unwrap();
    assert_eq!(added["passkey"]["name"], "Work laptop", "the name is kept without the spaces around it");
    assert_eq!(added["recovery_codes"].as_array().unwrap().len(), 10, "the first second factor comes with recovery codes");
    assert_eq!(added["signed_in"]["user"]["username"], "olive");
    assert_eq!(app.get("/api/v1/me", &signed_in).await.status(), 200);
    assert_eq!(error_of(app.get("/api/v1/me", &halfway).await).await.0, 401, "the halfway id is gone");

    // Next time, the password is followed by the passkey.
    let (step, halfway) = app.password_step("olive").await;
    assert_eq!((step["step"].as_str(), step["has_passkey"].as_bool(), step["has_app"].as_bool()), (Some("second_factor"), Some(true), Some(false)));
    let answer = passkey_answer(&app, &halfway, &mut laptop).await;
    let response = give(&app, &halfway, answer).await;
    assert_eq!(response.status(), 200);
    let signed_in = Browser { cookie: session_cookie(&response).unwrap(), csrf: halfway.csrf };
    let listed = factors(&app, &signed_in).await;
    assert_eq!(listed["passkeys"][0]["name"], "Work laptop");
    assert!(listed["passkeys"][0]["last_used_at"].is_string(), "its last use is shown");
    assert_eq!(audited(&app, "auth.passkey_added").await, 1);
    let signed_in_with_passkey: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'auth.sign_in' and details->>'second_factor' = 'passkey'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(signed_in_with_passkey, 2);
}

#[tokio::test]
async fn a_challenge_is_answered_once_by_its_own_user_and_a_forged_answer_is_refused() {
    let app = spawn_app().await;
    let (_, mut device) = with_passkey(&app, "MOH", "olive", Role::OrgAdmin).await;
    let (_, olive) = app.password_step("olive").await;
    let answer = passkey_answer(&app, &olive, &mut device).await;

    // Another user's session cannot finish olive's ceremony.
    let (mallory_browser, _) = with_passkey(&app, "MOH", "mallory", Role::OrgAdmin).await;
    let (status, code, message) = error_of(give(&app, &mallory_browser, answer.clone()).await).await;
    assert_eq!((status, code.as_str()), (409, "passkey_ceremony_over"), "{message}");

    // A forged signature is refused (and the ceremony is spent).
    let mut forged = answer.clone();
    let signature = forged["credential"]["response"]["signature"].as_str().unwrap().to_owned();
    let flipped = if signature.starts_with('A') { format!("B{}", &signature[1..]) } else { format!("A{}", &signature[1..]) };
    forged["credential"]["response"]["signature"] = json!(flipped);
    let (status, code, _) = error_of(give(&app, &olive, forged).await).await;
    assert_eq!((status, code.as_str()), (401, "passkey_not_accepted"));
    assert_eq!(error_of(app.get("/api/v1/me", &olive).await).await.0, 401, "still not signed in");

    // A fresh answer signs in once; the same answer again finds its ceremony over.
    let answer = passkey_answer(&app, &olive, &mut device).await;
    let response = give(&app, &olive, answer.clone()).await;
    assert_eq!(response.status(), 200);
    let olive = Browser { cookie: session_cookie(&response).unwrap(), csrf: olive.csrf };
    let (status, code, _) = error_of(give(&app, &olive, answer).await).await;
    assert_eq!((status, code.as_str()), (409, "passkey_ceremony_over"));
    assert!(audited(&app, "auth.second_factor_failed").await >= 2, "the refusals are audited");
}

#[tokio::test]
async fn a_challenge_not_answered_in_time_is_over() {
    let app = spawn_app().await;
    let (_, mut device) = with_passkey(&app, "MOH", "olive", Role::OrgAdmin).await;
    let (_, olive) = app.password_step("olive").await;
    let answer = passkey_answer(&app, &olive, &mut device).await;
    sqlx::query("update passkey_ceremonies set expires_at = now() - interval '1 second'").execute(&app.owner).await.unwrap();
    let (status, code, _) = error_of(give(&app, &olive, answer).await).await;
    assert_eq!((status, code.as_str()), (409, "passkey_ceremony_over"));
}

#[tokio::test]
async fn a_passkey_whose_counter_goes_back_is_refused_as_copied() {
    let app = spawn_app().await;
    let (_, mut device) = with_passkey(&app, "MOH", "olive", Role::OrgAdmin).await;
    // As if a copy of the passkey had been used many times elsewhere.
    sqlx::query("update user_passkeys set sign_count = 1000").execute(&app.owner).await.unwrap();
    let (_, olive) = app.password_step("olive").await;
    let answer = passkey_answer(&app, &olive, &mut device).await;
    let (status, code, message) = error_of(give(&app, &olive, answer).await).await;
    assert_eq!((status, code.as_str()), (401, "passkey_not_accepted"));
    assert!(message.contains("copied"), "{message}");
}

#[tokio::test]
async fn a_passkey_confirms_it_is_you_before_a_sensitive_action() {
    let app = spawn_app().await;
    let (olive, mut device) = with_passkey(&app, "MOH", "olive", Role::OrgAdmin).await;
    let renew = || post(&app, "/auth/second-factor/recovery-codes", Some(&olive), None);
    assert_eq!(renew().await.status(), 200, "fresh from the sign-in");
    app.state.factor_clock.advance(STEP_UP_WINDOW + Duration::from_secs(1));
    let (status, code, _) = error_of(renew().await).await;
    assert_eq!((status, code.as_str()), (403, "second_factor_needed"));
    let answer = passkey_answer(&app, &olive, &mut device).await;
    assert_eq!(give(&app, &olive, answer).await.status(), 200);
    assert_eq!(renew().await.status(), 200, "confirmed with the passkey");
    assert_eq!(audited(&app, "auth.step_up").await, 1);
}

#[tokio::test]
async fn passkeys_are_renamed_and_removed_but_not_the_last_second_factor_of_a_role_that_needs_one() {
    let app = spawn_app().await;
    let (olive, _) = with_passkey(&app, "MOH", "olive", Role::OrgAdmin).await;
    let first = factors(&app, &olive).await["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/auth/passkeys/{first}");

    let renamed: Value = app.request(Method::PUT, &path, Some(&olive), Some(json!({ "name": "Old laptop" }))).await.json().await.unwrap();
    assert_eq!(renamed["passkeys"][0]["name"], "Old laptop");
    let (status, _, message) = error_of(app.request(Method::PUT, &path, Some(&olive), Some(json!({ "name": " " }))).await).await;
    assert_eq!(status, 422, "{message}");

    let (status, code, _) = error_of(app.request(Method::DELETE, &path, Some(&olive), None).await).await;
    assert_eq!((status, code.as_str()), (409, "second_factor_required"));
    assert_eq!(factors(&app, &olive).await["passkeys"].as_array().unwrap().len(), 1, "the refused removal changed nothing");

    let mut phone = device();
    let added: Value = add_passkey(&app, &olive, &mut phone, "Phone").await.json().await.unwrap();
    assert_eq!(added["recovery_codes"].as_array().unwrap().len(), 0, "the recovery codes written down still work");
    let left: Value = app.request(Method::DELETE, &path, Some(&olive), None).await.json().await.unwrap();
    let names: Vec<&str> = left["passkeys"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Phone"]);
    assert_eq!(left["recovery_codes_left"], 10);

    // Another user's passkey is not found, and stays.
    let (mallory, _) = with_passkey(&app, "MOH", "mallory", Role::OrgAdmin).await;
    let other = format!("/api/v1/auth/passkeys/{}", added["passkey"]["id"].as_str().unwrap());
    assert_eq!(error_of(app.request(Method::DELETE, &other, Some(&mallory), None).await).await.0, 404);
    assert_eq!(error_of(app.request(Method::PUT, &other, Some(&mallory), Some(json!({ "name": "mine" }))).await).await.0, 404);
    assert_eq!(factors(&app, &olive).await["passkeys"][0]["name"], "Phone");
    assert_eq!(audited(&app, "auth.passkey_removed").await, 1);
}

#[tokio::test]
async fn the_last_passkey_of_a_role_that_needs_none_goes_with_the_recovery_codes() {
    let app = spawn_app().await;
    app.create_user("MOH", "fred", Role::FieldOfficer).await;
    let fred = app.sign_in("fred").await;
    let mut phone = device();
    let added: Value = add_passkey(&app, &fred, &mut phone, "Phone").await.json().await.unwrap();
    assert_eq!(added["recovery_codes"].as_array().unwrap().len(), 10);
    assert!(added["signed_in"].is_null(), "adding from the Security page signs nobody in");
    let (step, _) = app.password_step("fred").await;
    assert_eq!(step["step"], "second_factor", "a passkey added is asked for");

    // fred's session gave no second factor yet: removing one asks for it first.
    let path = format!("/api/v1/auth/passkeys/{}", added["passkey"]["id"].as_str().unwrap());
    let (status, code, _) = error_of(app.request(Method::DELETE, &path, Some(&fred), None).await).await;
    assert_eq!((status, code.as_str()), (403, "second_factor_needed"));
    let answer = passkey_answer(&app, &fred, &mut phone).await;
    assert_eq!(give(&app, &fred, answer).await.status(), 200);
    let left: Value = app.request(Method::DELETE, &path, Some(&fred), None).await.json().await.unwrap();
    assert_eq!((left["passkeys"].as_array().unwrap().len(), left["recovery_codes_left"].as_i64()), (0, Some(0)));
    let (step, _) = app.password_step("fred").await;
    assert_eq!(step["step"], "signed_in", "with no second factor left, the password is enough again");
}

#[tokio::test]
async fn signing_in_with_a_passkey_alone_asks_for_a_verified_passkey_and_takes_no_other_ceremony() {
    let app = spawn_app().await;
    let response = post(&app, "/auth/passkey-sign-in/challenge", None, None).await;
    assert_eq!(response.status(), 200);
    let begun: Value = response.json().await.unwrap();
    assert!(begun["options"]["publicKey"]["challenge"].is_string());
    assert!(begun["options"].get("mediation").is_none(), "the browser's own prompt, not autofill");
    assert_eq!(begun["options"]["publicKey"]["userVerification"], "required");

    let (olive, mut device) = with_passkey(&app, "MOH", "olive", Role::OrgAdmin).await;
    // A ceremony begun as olive's second factor does not finish a sign-in.
    let answer = passkey_answer(&app, &olive, &mut device).await;
    let (status, code, _) = error_of(post(&app, "/auth/passkey-sign-in", None, Some(answer)).await).await;
    assert_eq!((status, code.as_str()), (409, "passkey_ceremony_over"), "a second-factor ceremony is not a sign-in's");
}

#[tokio::test]
async fn a_first_passkey_needs_a_recent_sign_in_and_a_sign_in_halfway_adds_none_before_its_second_factor() {
    let app = spawn_app().await;
    app.create_user("MOH", "fred", Role::FieldOfficer).await;
    let fred = app.sign_in("fred").await;
    // A session left open for an hour: someone at an unattended desk cannot add a
    // passkey that would sign them in as fred.
    sqlx::query("update sessions set data = jsonb_set(data, '{auth,signed_in_at}', to_jsonb(extract(epoch from now())::bigint - 3600))")
        .execute(&app.owner)
        .await
        .unwrap();
    let (status, code, _) = error_of(post(&app, "/auth/passkeys/registration", Some(&fred), None).await).await;
    assert_eq!((status, code.as_str()), (403, "sign_in_again"));

    // Halfway through a sign-in of someone who has a passkey, nothing is added before it.
    with_passkey(&app, "MOH", "olive", Role::OrgAdmin).await;
    let (_, halfway) = app.password_step("olive").await;
    let (status, code, _) = error_of(post(&app, "/auth/passkeys/registration", Some(&halfway), None).await).await;
    assert_eq!((status, code.as_str()), (409, "second_factor_first"));
    assert_eq!(app.count("user_passkeys").await, 1);
}

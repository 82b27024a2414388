//! Every route, fed what a careless or hostile client sends: each answer is a 4xx with
//! a JSON `{error, message}`, no internals leak, and nothing stored changes.

use crate::helpers::{spawn_app, Browser};
use bmms_shared::Role;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use reqwest::Method;

/// How a case is sent.
enum Body {
    None,
    Raw(&'static str, &'static str),
    Big,
}

struct Case {
    method: Method,
    path: &'static str,
    signed_in: bool,
    csrf: bool,
    body: Body,
    status: u16,
    code: &'static str,
}

fn case(method: Method, path: &'static str, signed_in: bool, body: Body, status: u16, code: &'static str) -> Case {
    Case { method, path, signed_in, csrf: true, body, status, code }
}

const JSON: &str = "application/json";

fn cases() -> Vec<Case> {
    use Body::*;
    let login = "/api/v1/auth/login";
    vec![
        case(Method::POST, login, false, Raw(JSON, "{\"username\": \"ana\","), 400, "malformed_json"),
        case(Method::POST, login, false, Raw(JSON, "not json at all"), 400, "malformed_json"),
        case(Method::POST, login, false, Raw("text/plain", "{\"username\":\"ana\",\"password\":\"x\"}"), 415, "unsupported_media_type"),
        case(Method::POST, login, false, Raw("application/x-www-form-urlencoded", "username=ana&password=x"), 415, "unsupported_media_type"),
        case(Method::POST, login, false, None, 415, "unsupported_media_type"),
        case(Method::POST, login, false, Raw(JSON, "{\"username\":\"ana\",\"password\":\"x\",\"admin\":true}"), 422, "invalid_body"),
        case(Method::POST, login, false, Raw(JSON, "{\"username\":\"ana\"}"), 422, "invalid_body"),
        case(Method::POST, login, false, Raw(JSON, "{\"username\":42,\"password\":\"x\"}"), 422, "invalid_body"),
        case(Method::POST, login, false, Raw(JSON, "{\"username\":\"\",\"password\":\"\"}"), 422, "missing_credentials"),
        case(Method::POST, login, false, Raw(JSON, "{\"username\":\"ana\",\"password\":\"wrong wrong\"}"), 401, "invalid_credentials"),
        case(Method::POST, login, false, Raw(JSON, "{\"username\":\"ana'; drop table users; --\",\"password\":\"x\"}"), 401, "invalid_credentials"),
        // Text no field may hold (PostgreSQL cannot store NUL at all) is refused at the edge.
        case(Method::POST, login, false, Raw(JSON, "{\"username\":\"ana\\u0000\",\"password\":\"x\"}"), 422, "invalid_field"),
        case(Method::POST, login, false, Big, 413, "body_too_large"),
        case(Method::GET, login, false, None, 405, "method_not_allowed"),
        case(Method::POST, "/api/v1/auth/logout", false, None, 401, "not_signed_in"),
        Case { csrf: false, ..case(Method::POST, "/api/v1/auth/logout", true, None, 403, "csrf_token_invalid") },
        case(Method::POST, "/api/v1/auth/second-factor", false, Raw(JSON, "{\"code\":\"123456\"}"), 401, "not_signed_in"),
        case(Method::POST, "/api/v1/auth/second-factor", true, Raw(JSON, "{\"code\":123456}"), 422, "invalid_body"),
        case(Method::POST, "/api/v1/auth/second-factor", true, Raw(JSON, "{\"code\":\"123456\",\"trusted\":true}"), 422, "invalid_body"),
        case(Method::POST, "/api/v1/auth/second-factor", true, Raw(JSON, "{\"code\":\"12345\\u0000\"}"), 422, "invalid_field"),
        case(Method::POST, "/api/v1/auth/second-factor", true, Big, 413, "body_too_large"),
        case(Method::POST, "/api/v1/auth/second-factor", true, Raw(JSON, "{\"code\":\"123456\"}"), 409, "no_second_factor"),
        case(Method::POST, "/api/v1/auth/second-factor/totp/confirm", true, Raw(JSON, "{\"code\":\"123456\"}"), 409, "nothing_to_confirm"),
        case(Method::POST, "/api/v1/auth/second-factor/recovery-codes", true, None, 409, "no_second_factor"),
        case(Method::DELETE, "/api/v1/auth/second-factor", false, None, 401, "not_signed_in"),
        case(Method::POST, "/api/v1/auth/passkeys", true, Raw(JSON, "{\"ceremony\":\"00000000-0000-0000-0000-000000000000\",\"name\":\"\",\"credential\":{}}"), 422, "invalid_field"),
        case(Method::POST, "/api/v1/auth/passkeys", true, Raw(JSON, "{\"ceremony\":\"00000000-0000-0000-0000-000000000000\",\"name\":\"Phone\",\"credential\":{\"id\":1}}"), 422, "invalid_field"),
        case(Method::POST, "/api/v1/auth/passkeys", true, Raw(JSON, "{\"ceremony\":\"not a uuid\",\"name\":\"Phone\",\"credential\":{}}"), 422, "invalid_body"),
        case(Method::POST, "/api/v1/auth/passkeys", true, Big, 413, "body_too_large"),
        case(Method::POST, "/api/v1/auth/passkeys/challenge", true, None, 409, "no_passkey"),
        case(Method::PUT, "/api/v1/auth/passkeys/00000000-0000-0000-0000-000000000000", true, Raw(JSON, "{\"name\":\"Phone\"}"), 404, "not_found"),
        case(Method::PUT, "/api/v1/auth/passkeys/00000000-0000-0000-0000-000000000000", true, Raw(JSON, "{\"name\":\"a\\u0007b\"}"), 422, "invalid_field"),
        case(Method::PUT, "/api/v1/auth/passkeys/not-a-uuid", true, Raw(JSON, "{\"name\":\"Phone\"}"), 400, "invalid_path"),
        case(Method::DELETE, "/api/v1/auth/passkeys/00000000-0000-0000-0000-000000000000", true, None, 404, "not_found"),
        case(Method::POST, "/api/v1/auth/second-factor/passkey", true, Raw(JSON, "{\"ceremony\":\"00000000-0000-0000-0000-000000000000\",\"credential\":[]}"), 422, "invalid_field"),
        case(Method::POST, "/api/v1/auth/passkey-sign-in", false, Raw(JSON, "{\"ceremony\":\"00000000-0000-0000-0000-000000000000\",\"credential\":{}}"), 422, "invalid_field"),
        case(Method::POST, "/api/v1/auth/passkey-sign-in", false, Raw(JSON, "{\"ceremony\":\"00000000-0000-0000-0000-000000000000\"}"), 422, "invalid_body"),
        case(Method::POST, "/api/v1/auth/passkey-sign-in", false, Big, 413, "body_too_large"),
        case(Method::GET, "/api/v1/users?org=not-a-uuid", true, None, 400, "invalid_query"),
        case(Method::GET, "/api/v1/users?org=00000000-0000-0000-0000-000000000000&extra=1", true, None, 400, "invalid_query"),
        case(Method::POST, "/api/v1/organizations", true, Raw(JSON, "{\"code\":\"MX\"}"), 403, "not_allowed"),
        case(Method::POST, "/api/v1/organizations/not-a-uuid/deactivate", true, None, 400, "invalid_path"),
        case(Method::POST, "/api/v1/auth/set-up", false, Raw(JSON, "{\"token\":\"x\"}"), 422, "invalid_body"),
        case(Method::POST, "/api/v1/auth/set-up", false, Raw(JSON, "{\"token\":\"x\",\"password\":\"a long enough password\"}"), 410, "set_up_link_unknown"),
        case(Method::POST, "/api/v1/auth/set-up", false, Big, 413, "body_too_large"),
        case(Method::GET, "/api/v1/users", true, None, 403, "not_allowed"),
        case(Method::PUT, "/api/v1/users/not-a-uuid/role", true, Raw(JSON, "{\"role\":\"supervisor\"}"), 400, "invalid_path"),
        case(Method::GET, "/api/v1/me", false, None, 401, "not_signed_in"),
        case(Method::DELETE, "/api/v1/me", true, None, 405, "method_not_allowed"),
        case(Method::GET, "/api/v1/organizations", false, None, 401, "not_signed_in"),
        case(Method::GET, "/api/v1/organizations/not-a-uuid", true, None, 400, "invalid_path"),
        case(Method::GET, "/api/v1/organizations/00000000-0000-0000-0000-00000000000g", true, None, 400, "invalid_path"),
        case(Method::GET, "/api/v1/organizations/6f1c3a52-8f8e-4e8a-9a53-5a0c8f7f2b11", true, None, 404, "not_found"),
        case(Method::GET, "/api/v1/no-such-thing", true, None, 404, "not_found"),
        case(Method::GET, "/api/v2/me", false, None, 404, "not_found"),
    ]
}

#[tokio::test]
async fn every_route_answers_bad_input_with_a_clear_4xx_and_stores_nothing() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let browser: Browser = app.sign_in("ana").await;
    let stored_before = snapshot(&app).await;
    let big = format!("{{\"username\":\"ana\",\"password\":\"{}\"}}", "x".repeat(200 * 1024));

    for case in cases() {
        let mut request = app.http.request(case.method.clone(), format!("{}{}", app.base, case.path));
        if case.signed_in {
            request = request.header(COOKIE, &browser.cookie);
            if case.csrf {
                request = request.header("x-csrf-token", &browser.csrf);
            }
        }
        request = match case.body {
            Body::None => request,
            Body::Raw(content_type, body) => request.header(CONTENT_TYPE, content_type).body(body),
            Body::Big => request.header(CONTENT_TYPE, JSON).body(big.clone()),
        };
        let response = request.send().await.unwrap();
        let what = format!("{} {}", case.method, case.path);
        assert_eq!(response.status().as_u16(), case.status, "{what} ({})", case.code);
        let text = response.text().await.unwrap();
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
        assert_eq!(body["error"], case.code, "{what}: {text}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.len() > 10 && message.ends_with('.'), "{what}: a sentence, not {message:?}");
        for leak in ["sqlx", "SQL", "select ", "panicked", "src/", "postgres"] {
            assert!(!text.contains(leak), "{what} leaks {leak:?}: {text}");
        }
    }

    assert_eq!(snapshot(&app).await, stored_before, "bad input changed stored data");
    assert_eq!(app.get("/api/v1/me", &browser).await.status(), 200, "the session survived");
}

/// Everything stored that a request could change, except the audit of failed sign-ins.
async fn snapshot(app: &crate::helpers::TestApp) -> (i64, i64, i64, String) {
    let users_digest: String = sqlx::query_scalar(
        "select coalesce(string_agg(username || password_hash || coalesce(disabled_at::text, ''), ',' order by username), '') from users",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    (app.count("organizations").await, app.count("memberships").await, app.count("sessions").await, users_digest)
}

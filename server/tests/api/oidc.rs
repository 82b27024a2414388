//! Signing in through an OpenID Connect provider, where nothing reaches the provider: an
//! unknown provider, a provider that cannot be reached, and a callback that no sign-in in
//! this browser began each get a page in words (these are browser navigations), and
//! nobody is signed in. The flows through a real provider are the browser test's
//! (e2e/tests/sso.test.mjs, against panva's certified oidc-provider).

use crate::helpers::{error_of, free_port, spawn_app_with};
use bmms_server::auth::oidc::Provider;
use reqwest::header::{CONTENT_TYPE, LOCATION};

fn unreachable_provider() -> Provider {
    let file = tempfile::NamedTempFile::new().unwrap();
    let issuer = format!("http://127.0.0.1:{}", free_port());
    std::fs::write(file.path(), format!(r#"[{{"id": "sso", "label": "Bangsamoro SSO", "issuer": "{issuer}", "client_id": "bmms", "client_secret": "s"}}]"#)).unwrap();
    Provider::load_all(file.path()).unwrap().remove(0)
}

#[tokio::test]
async fn without_a_provider_to_reach_every_step_answers_a_page_in_words_and_signs_nobody_in() {
    let app = spawn_app_with(|settings| settings.oidc_providers = vec![unreachable_provider()]).await;
    let listed: serde_json::Value = app.http.get(format!("{}/api/v1/auth/oidc", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, serde_json::json!([{ "id": "sso", "label": "Bangsamoro SSO" }]));

    let cases = [
        ("/api/v1/auth/oidc/nobody/start", 404, "no such sign-in service"),
        ("/api/v1/auth/oidc/sso/start", 503, "cannot be reached just now"),
        ("/api/v1/auth/oidc/sso/callback?code=c&state=s", 400, "start again"),
        ("/api/v1/auth/oidc/sso/callback?error=access_denied", 400, "start again"),
        ("/api/v1/auth/oidc/sso/callback", 400, "start again"),
    ];
    for (path, status, words) in cases {
        let response = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert!(response.headers().get(LOCATION).is_none(), "{path}: not sent on");
        assert!(response.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains(words), "{path}: {page}");
        assert!(!page.contains("sqlx") && !page.contains("panicked"), "{path}: {page}");
    }
}

#[test]
fn a_providers_file_that_is_not_right_is_refused_at_start_with_the_reason() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), r#"[{"id": "has spaces", "label": "x", "issuer": "https://sso.example", "client_id": "a", "client_secret": "b"}]"#).unwrap();
    let error = Provider::load_all(file.path()).unwrap_err().to_string();
    assert!(error.contains("letters, digits and dashes"), "{error}");
    std::fs::write(file.path(), r#"[{"id": "sso", "label": "x", "issuer": "https://sso.example", "client_id": "a"}]"#).unwrap();
    let error = Provider::load_all(file.path()).unwrap_err().to_string();
    assert!(error.contains("client_secret"), "{error}");
}

#[tokio::test]
async fn linking_an_account_needs_a_recent_sign_in_and_an_administrators_reset_undoes_links() {
    let app = spawn_app_with(|settings| settings.oidc_providers = vec![unreachable_provider()]).await;
    app.create_user("MOH", "fred", bmms_shared::Role::FieldOfficer).await;
    let fred = app.sign_in("fred").await;
    // A session left open for an hour: nobody at that desk links their own account to fred.
    sqlx::query("update sessions set data = jsonb_set(data, '{auth,signed_in_at}', to_jsonb(extract(epoch from now())::bigint - 3600))")
        .execute(&app.owner)
        .await
        .unwrap();
    let (status, code, _) = error_of(app.request(reqwest::Method::POST, "/api/v1/auth/oidc/sso/link", Some(&fred), None).await).await;
    assert_eq!((status, code.as_str()), (403, "sign_in_again"));

    // A link made earlier goes with the administrator's reset of fred's second factors.
    let fred_id: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'fred'").fetch_one(&app.owner).await.unwrap();
    sqlx::query("insert into user_sso_identities (provider, subject, user_id) values ('sso', 'someone', $1)").bind(fred_id).execute(&app.owner).await.unwrap();
    app.create_user("MOH", "hamid", bmms_shared::Role::OrgAdmin).await;
    let hamid = app.sign_in("hamid").await;
    let reset = app.request(reqwest::Method::POST, &format!("/api/v1/users/{fred_id}/reset-second-factor"), Some(&hamid), None).await;
    assert_eq!(reset.status(), 200);
    assert_eq!(app.count("user_sso_identities").await, 0);
}

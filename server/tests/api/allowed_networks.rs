//! OCM's accounts sign in and work only from the networks the operator allowed
//! (BMMS_OCM_ALLOWED_NETWORKS), judged by the address a trusted proxy forwards; other
//! accounts are not affected.

use crate::helpers::{error_of, session_cookie, spawn_app_with, PASSWORD};
use bmms_server::auth::second_factor::MfaPolicy;
use bmms_shared::Role;
use reqwest::header::COOKIE;

#[tokio::test]
async fn ocm_accounts_work_only_from_the_networks_the_operator_allowed() {
    let app = spawn_app_with(|settings| {
        settings.trust_forwarded_for = true;
        settings.ocm_networks = "10.20.0.0/16".parse().unwrap();
        // What is tested is the address; a second factor would add nothing here.
        settings.mfa_policy = MfaPolicy::none();
    })
    .await;
    app.create_user("OCM", "olive", Role::OcmExecutive).await;
    app.create_user("MOH", "sam", Role::Supervisor).await;
    let login = |username: &'static str, from: &'static str| {
        app.http
            .post(format!("{}/api/v1/auth/login", app.base))
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
            .send()
    };

    let (status, code, message) = error_of(login("olive", "192.0.2.1").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (403, "address_not_allowed"));
    assert!(message.contains("office network"), "{message}");
    let refused: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'auth.sign_in_failed' and details->>'reason' = 'address_not_allowed'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(refused, 1);

    let inside = login("olive", "10.20.1.2").await.unwrap();
    assert_eq!(inside.status(), 200);
    let cookie = session_cookie(&inside).unwrap();
    let dashboard = |from: Option<&'static str>| {
        let mut request = app.http.get(format!("{}/api/v1/dashboard", app.base)).header(COOKIE, &cookie);
        if let Some(from) = from {
            request = request.header("x-forwarded-for", from);
        }
        request.send()
    };
    assert_eq!(dashboard(Some("10.20.9.9")).await.unwrap().status(), 200);
    // The same session, taken outside: refused, and so is the proxy's own address.
    let (status, code, _) = error_of(dashboard(Some("192.0.2.1")).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (403, "address_not_allowed"));
    assert_eq!(dashboard(None).await.unwrap().status(), 403);

    // A ministry's supervisor is not held to OCM's networks.
    assert_eq!(login("sam", "192.0.2.1").await.unwrap().status(), 200);
}

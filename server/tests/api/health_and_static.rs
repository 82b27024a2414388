//! Probes, and the built app served with compression and the right cache headers.

use crate::helpers::{spawn_app, spawn_app_with};
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING};

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_database_is_migrated() {
    let app = spawn_app().await;
    let health = app.http.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.http.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<serde_json::Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn readyz_says_not_ready_when_a_migration_is_missing() {
    let app = spawn_app().await;
    sqlx::query("delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)")
        .execute(&app.owner)
        .await
        .unwrap();
    let ready = app.http.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn the_app_is_served_compressed_with_immutable_hashed_files() {
    let dist = tempfile::tempdir().unwrap();
    let script = format!("console.log('{}');", "BMMS ".repeat(2000));
    std::fs::write(dist.path().join("index.html"), "<!doctype html><title>BMMS</title><body>app shell</body>").unwrap();
    std::fs::write(dist.path().join("bmms-app-0123456789abcdef.js"), &script).unwrap();
    let dist_dir = dist.path().to_owned();
    let app = spawn_app_with(move |s| s.dist_dir = dist_dir).await;

    let hashed = app
        .http
        .get(format!("{}/bmms-app-0123456789abcdef.js", app.base))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(hashed.status(), 200);
    assert_eq!(hashed.headers()[CONTENT_ENCODING], "br");
    assert_eq!(hashed.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");
    let compressed = hashed.bytes().await.unwrap();
    assert!(compressed.len() < script.len() / 10, "{} bytes", compressed.len());

    let gzip = app
        .http
        .get(format!("{}/bmms-app-0123456789abcdef.js", app.base))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");

    // An asset that is not there (an older build's) is a 404, not the page cached for a year.
    let gone = app.http.get(format!("{}/bmms-app-ffffffffffffffff.js", app.base)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert_ne!(gone.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");

    // The page itself, and any app route, must be asked for again each time.
    for path in ["/", "/assessments/42"] {
        let page = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(page.headers()[CACHE_CONTROL], "no-cache", "{path}");
        assert!(page.text().await.unwrap().contains("app shell"), "{path}");
    }
}

#[tokio::test]
async fn hsts_is_sent_when_a_trusted_proxy_says_the_request_came_over_https() {
    let hsts = |response: &reqwest::Response| response.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
    let behind_proxy = spawn_app_with(|settings| settings.trust_forwarded_for = true).await;
    let url = format!("{}/healthz", behind_proxy.base);
    let over_https = behind_proxy.http.get(&url).header("x-forwarded-proto", "https").send().await.unwrap();
    assert_eq!(hsts(&over_https).as_deref(), Some("max-age=31536000"));
    let over_http = behind_proxy.http.get(&url).header("x-forwarded-proto", "http").send().await.unwrap();
    assert_eq!(hsts(&over_http), None, "plain http says nothing of HTTPS");
    // Without a trusted proxy, anyone could send the header: it is not believed.
    let direct = spawn_app().await;
    let claimed = direct.http.get(format!("{}/healthz", direct.base)).header("x-forwarded-proto", "https").send().await.unwrap();
    assert_eq!(hsts(&claimed), None);
}

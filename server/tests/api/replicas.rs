//! Two BMMS replicas on one database behind Debian's nginx, configured with the files of
//! `deployment/nginx/`: they behave as one server. A session made through one replica
//! works on the other, a desk screen's live updates reach it whichever replica it is
//! connected to, a sync larger than nginx's default body limit goes through, and sign-in
//! attempts from one address are limited once for all replicas.

use bmms_server::app::AppState;
use bmms_shared::records::FieldValue;
use bmms_shared::Role;
use reqwest::header::COOKIE;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

use crate::desk::team;
use crate::helpers::{free_port, spawn_app, TestApp};
use crate::metrics::{samples, until, value};
use crate::sync::{set, Device};

/// nginx in front of `upstreams`, with the deployment's proxy rules, on a loopback port.
struct Nginx {
    base: String,
    _process: tokio::process::Child,
    _dir: TempDir,
}

async fn nginx_in_front_of(upstreams: &[&str]) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let deployment = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deployment/nginx").canonicalize().unwrap();
    let port = free_port();
    let at = |name: &str| dir.path().join(name).display().to_string();
    let servers: String = upstreams.iter().map(|u| format!("server {u}; ")).collect();
    // What a site's configuration adds around the deployment's two files: the replicas,
    // and a server block (plain HTTP here; TLS in deployment/nginx/site.conf).
    let config = format!(
        // One process (no master and workers), so that killing it leaves nothing behind.
        "daemon off; master_process off; pid {pid}; error_log {log};
         events {{}}
         http {{
           access_log off;
           client_body_temp_path {body}; proxy_temp_path {proxy}; fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
           include {deployment}/bmms-http.conf;
           upstream bmms_replicas {{ {servers} keepalive 8; }}
           server {{ listen 127.0.0.1:{port}; include {deployment}/bmms-proxy.conf; }}
         }}",
        pid = at("nginx.pid"),
        log = at("error.log"),
        body = at("body"),
        proxy = at("proxy"),
        tmp = at("tmp"),
        deployment = deployment.display(),
    );
    std::fs::write(dir.path().join("nginx.conf"), config).unwrap();
    // Debian puts it in /usr/sbin, which a non-root PATH may lack.
    let nginx = if Path::new("/usr/sbin/nginx").exists() { "/usr/sbin/nginx" } else { "nginx" };
    let process = tokio::process::Command::new(nginx)
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .arg("-p")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("Debian's nginx is installed (scripts/install-tools --for-tests)");
    until("nginx listens", async || tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()).await;
    Nginx { base: format!("http://127.0.0.1:{port}"), _process: process, _dir: dir }
}

/// A second server on `app`'s database, with memory of its own; returns its address.
async fn replica_of(app: &TestApp) -> (AppState, String) {
    let replica = AppState::new(app.state.db.clone(), (*app.state.settings).clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(bmms_server::app::serve(listener, replica.clone(), std::future::pending()));
    (replica, address)
}

/// How many times `state`'s replica answered `GET route` with 200.
async fn answered(state: &AppState, route: &str) -> f64 {
    let samples = samples(&state.metrics.render(state).await);
    value(&samples, "bmms_http_requests_total", &[("method", "GET"), ("route", route), ("status", "200")])
}

#[tokio::test]
async fn two_replicas_behind_nginx_serve_as_one() {
    let app = spawn_app().await;
    let first = app.base.trim_start_matches("http://").to_owned();
    let (replica, second) = replica_of(&app).await;
    let nginx = nginx_in_front_of(&[&first, &second]).await;
    let front = TestApp::sharing_database_with(&app, nginx.base.clone(), app.state.clone());

    // A session made through one replica holds on both: nginx takes turns.
    let (mut ana, _ben, sofia_direct, doc) = team(&app).await;
    drop(sofia_direct);
    let sofia = front.sign_in("sofia").await;
    for _ in 0..4 {
        assert_eq!(front.get("/api/v1/me", &sofia).await.status(), 200);
    }
    let (on_first, on_second) = (answered(&app.state, "/api/v1/me").await, answered(&replica, "/api/v1/me").await);
    assert!(on_first >= 1.0 && on_second >= 1.0, "both replicas answered: {on_first} and {on_second}");
    // A browser's write carries its Origin, port included; nginx passes the Host it was
    // asked for, so BMMS sees them match and takes the write.
    let signed_out = front
        .http
        .post(format!("{}/api/v1/auth/logout", nginx.base))
        .header(COOKIE, &sofia.cookie)
        .header("x-csrf-token", &sofia.csrf)
        .header("origin", &nginx.base)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 200, "a same-origin write through nginx");
    let sofia = front.sign_in("sofia").await;

    // Two desk screens through nginx, one on each replica; a sync on the first replica
    // reaches both.
    app.state.events.wait_until_listening().await;
    replica.events.wait_until_listening().await;
    let open = || front.http.get(format!("{}/api/v1/events", nginx.base)).header(COOKIE, &sofia.cookie).send();
    let mut screens = [open().await.unwrap(), open().await.unwrap()];
    for screen in &screens {
        assert_eq!(screen.headers()["content-type"], "text/event-stream");
    }
    assert_eq!((app.state.events.open_streams(), replica.events.open_streams()), (1, 1), "one screen on each replica");
    set(&mut ana, doc, "households", FieldValue::Integer(7));
    ana.sync(&app).await;
    for screen in &mut screens {
        let mut seen = String::new();
        while !seen.contains("event: records") {
            let chunk = tokio::time::timeout(Duration::from_secs(20), screen.chunk()).await.expect("the news arrives").unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("the stream stays open")));
        }
    }

    // A sync request above nginx's default 1 MiB body limit passes (the deployment allows
    // what the server allows); incompressible text makes the compressed body that large.
    app.create_user("MILG", "carlo", Role::FieldOfficer).await;
    let mut carlo = Device::register(&front, "carlo").await;
    let big = bmms_shared::DocId(uuid::Uuid::new_v4());
    carlo.client.create(big, bmms_shared::records::RecordKind::ManaAssessment);
    // Three changes of 700,000 random letters and digits: each within a change's limit,
    // together about 1.6 MB compressed.
    use rand::distributions::{Alphanumeric, DistString};
    use rand::SeedableRng;
    let mut random = rand::rngs::SmallRng::seed_from_u64(7);
    for field in ["notes", "access", "remarks"] {
        let noise = Alphanumeric.sample_string(&mut random, 700_000);
        carlo.client.edit_unchecked(big, |doc| {
            use automerge::transaction::Transactable;
            doc.put(automerge::ROOT, field, noise.as_str()).unwrap();
        })
        .unwrap();
    }
    let (_, body) = carlo.client.next_request(1, bmms_shared::BatchId(uuid::Uuid::new_v4())).unwrap();
    let kib = body.len() / 1024;
    assert!(kib > 1024, "the body is {kib} KiB");
    let answer = crate::sync::post_sync(&front, &carlo.browser, body).await;
    assert_eq!(answer.status(), 200, "a sync of {kib} KiB passes nginx");

    // Sign-in attempts from one address are counted by nginx for every replica at once:
    // a burst of 20 or so passes (each replica alone would let 50 through), then nginx
    // refuses, as JSON the app reads. Each try names another account, so that the
    // replicas' own per-account limits stay out of it.
    let mut passed = 0;
    let refused = loop {
        let answer = front.login(&format!("nobody{passed}"), "guess").await;
        if answer.status() != 401 {
            break answer;
        }
        passed += 1;
        assert!(passed <= 30, "nginx let 30 sign-in attempts through in a burst");
    };
    assert!(passed >= 15, "nginx refused after {passed} attempts");
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "60");
    let refusal: Value = refused.json().await.unwrap();
    assert_eq!(refusal["error"], "too_many_attempts");
    assert!(refusal["message"].as_str().unwrap().contains("from this address"), "nginx's refusal, not a replica's: {refusal}");
}

//! The operators' metrics: served on their own address only, counting what happened
//! (requests by declared route, sync refusals and conflicts, failed sign-ins), and read by
//! a real Prometheus (Debian's) that loads the project's alert rules, while every query of
//! the Grafana dashboard and of the rules names only series the server serves.

use bmms_shared::Role;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::conflicts::conflicting;
use crate::helpers::{free_port, spawn_app, TestApp, PASSWORD};
use crate::sync_refusals::{another_organizations_document, changes_of, send};

/// One sample of the text format: its name, its labels, its value.
#[derive(Debug)]
pub struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a scrape (label values in BMMS's series hold no comma or quote).
pub fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("a sample line: {line}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap();
                    (key.to_owned(), value.trim_matches('"').to_owned())
                })
                .collect();
            Sample { name: name.to_owned(), labels, value: value.parse().unwrap_or_else(|_| panic!("a number: {line}")) }
        })
        .collect()
}

/// The value of the one sample named `name` with these labels (0 when there is none).
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .collect();
    assert!(matching.len() <= 1, "{name} {labels:?} names several series: {matching:?}");
    matching.first().map_or(0.0, |s| s.value)
}

/// Serves `app`'s metrics on a loopback port of their own; returns its address.
async fn metrics_address(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(bmms_server::app::serve_metrics(listener, app.state.clone(), std::future::pending()));
    address
}

async fn scrape(app: &TestApp, address: &str) -> String {
    let response = app.http.get(format!("http://{address}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_metrics_count_what_happened_on_their_own_address_only() {
    let app = spawn_app().await;
    let address = metrics_address(&app).await;

    // A wrong password; two officers who wrote the same field offline (one conflict);
    // a device that sends a document id another organization holds.
    app.create_user("MILG", "farida", Role::FieldOfficer).await;
    assert_eq!(app.login("farida", "not the password").await.status(), 401);
    let (mut ana, _ben, doc) = conflicting(&app).await;
    let theirs = another_organizations_document(&app).await;
    ana.create_assessment(theirs);
    assert_eq!(send(&app, &ana, vec![changes_of(&ana, theirs)]).await.rejections.len(), 1);
    let farida = app.sign_in("farida").await;
    assert_eq!(app.get(&format!("/api/v1/records/{doc}"), &farida).await.status(), 200);

    // The public address does not serve them.
    let public = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(public.status(), 404);
    assert!(!public.text().await.unwrap().contains("bmms_"), "the public address shows no metrics");

    let text = scrape(&app, &address).await;
    assert!(text.ends_with("# EOF\n"), "the OpenMetrics text format");
    let samples = samples(&text);
    let failures = |reason| value(&samples, "bmms_sign_in_failures_total", &[("reason", reason)]);
    assert_eq!(failures("wrong_credentials"), 1.0);
    assert_eq!(value(&samples, "bmms_conflicts_opened_total", &[]), 1.0);
    assert_eq!(value(&samples, "bmms_sync_refusals_total", &[("code", "not_yours")]), 1.0);
    // Every exchange answered is one 200 of the sync route (six: four of the conflict, Hana's, and the refused one).
    let exchanges = value(&samples, "bmms_sync_exchanges_total", &[]);
    assert_eq!(exchanges, 6.0);
    assert_eq!(value(&samples, "bmms_http_requests_total", &[("method", "POST"), ("route", "/api/v1/sync"), ("status", "200")]), exchanges);
    // Routes as declared, never the path as sent: one series for every record.
    let record = [("method", "GET"), ("route", "/api/v1/records/{id}"), ("status", "200")];
    assert_eq!(value(&samples, "bmms_http_requests_total", &record), 1.0);
    assert!(!text.contains(&doc.to_string()), "no record id in a label");
    assert_eq!(value(&samples, "bmms_http_requests_total", &[("method", "GET"), ("route", "other"), ("status", "404")]), 1.0);
    assert_eq!(value(&samples, "bmms_http_request_duration_seconds_count", &[("method", "GET"), ("route", "/api/v1/records/{id}")]), 1.0);
    assert_eq!(value(&samples, "bmms_db_pool_max_connections", &[]), 4.0);
    assert!(value(&samples, "bmms_sessions", &[]) >= 1.0, "farida's session at least");
    assert!(value(&samples, "bmms_db_begin_seconds_count", &[]) >= exchanges, "each exchange began a transaction");
}

/// The repository's `deployment/` folder.
fn deployment() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deployment")
}

/// Every `bmms_…` series named in the Grafana dashboard's queries and in the alert rules,
/// with each query.
fn queries_of_the_deployment() -> (Vec<String>, BTreeSet<String>) {
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(deployment().join("grafana/bmms-dashboard.json")).unwrap()).unwrap();
    let mut queries: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .map(|target| target["expr"].as_str().unwrap().to_owned())
        .collect();
    let rules = std::fs::read_to_string(deployment().join("prometheus/alerts.yml")).unwrap();
    let names_in = |text: &str| -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for (start, _) in text.match_indices("bmms_") {
            let name: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            names.insert(name);
        }
        names
    };
    let mut names = names_in(&rules);
    for query in &queries {
        names.extend(names_in(query));
    }
    queries.retain(|q| !q.is_empty());
    (queries, names)
}

/// The series names a scrape declares (`# TYPE` lines), as queries name them.
fn declared_series(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let Some(declared) = line.strip_prefix("# TYPE ") else { continue };
        let (family, kind) = declared.split_once(' ').unwrap();
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_count", "_sum"],
            _ => &[""],
        };
        names.extend(suffixes.iter().map(|suffix| format!("{family}{suffix}")));
    }
    names
}

/// Asks Prometheus's HTTP API; returns `data`, after checking the query was accepted.
async fn ask(http: &reqwest::Client, prometheus: &str, path: &str, query: Option<&str>) -> Value {
    let mut request = http.get(format!("{prometheus}{path}"));
    if let Some(query) = query {
        request = request.query(&[("query", query)]);
    }
    let answer: Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["status"], "success", "{path} {query:?}: {answer}");
    answer["data"].clone()
}

/// Waits, up to a minute, until `done` holds (a program started by the test is ready).
pub async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "it did not come to pass within a minute: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn prometheus_scrapes_the_server_and_the_dashboard_and_alerts_read_its_series() {
    let app = spawn_app().await;
    let address = metrics_address(&app).await;
    app.create_user("MILG", "farida", Role::FieldOfficer).await;
    assert_eq!(app.login("farida", PASSWORD).await.status(), 200);
    assert_eq!(app.login("farida", "not the password").await.status(), 401);

    // Every series the dashboard and the rules read is one the server declares (a family
    // with no sample yet, such as budget decisions on a new server, is declared all the same).
    let served = declared_series(&scrape(&app, &address).await);
    let (queries, names) = queries_of_the_deployment();
    for name in &names {
        assert!(served.contains(name), "{name} is read by deployment/ but the server has no such series: {served:?}");
    }

    // Debian's Prometheus, on loopback, with the project's rules.
    let dir = tempfile::tempdir().unwrap();
    let rules = deployment().join("prometheus/alerts.yml");
    let config = format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [{:?}]\nscrape_configs:\n  - job_name: bmms\n    static_configs: [{{targets: [{address:?}]}}]\n",
        rules.canonicalize().unwrap().display().to_string()
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let _prometheus = tokio::process::Command::new("prometheus")
        .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("Debian's prometheus is installed (scripts/install-tools --for-tests)");
    let prometheus = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    // The failed sign-in, as Prometheus stored it from a scrape.
    let failures = r#"bmms_sign_in_failures_total{job="bmms",reason="wrong_credentials"}"#;
    until("a scrape of the failed sign-in", async || {
        let Ok(answer) = http.get(format!("{prometheus}/api/v1/query")).query(&[("query", failures)]).send().await else {
            return false; // not listening yet
        };
        let answer: Value = answer.json().await.unwrap_or_default();
        answer["data"]["result"][0]["value"][1] == "1"
    })
    .await;

    // Every query of the dashboard is one Prometheus accepts.
    for query in &queries {
        ask(&http, &prometheus, "/api/v1/query", Some(query)).await;
    }
    // Every alert rule loaded and evaluated without error, none firing on a quiet server.
    until("an evaluation of every alert rule", async || {
        let groups = ask(&http, &prometheus, "/api/v1/rules", None).await["groups"].clone();
        let rules: Vec<Value> = groups.as_array().unwrap().iter().flat_map(|g| g["rules"].as_array().unwrap().clone()).collect();
        !rules.is_empty() && rules.iter().all(|r| r["health"] == "ok" && r["lastEvaluation"] != "0001-01-01T00:00:00Z")
    })
    .await;
    let groups = ask(&http, &prometheus, "/api/v1/rules", None).await["groups"].clone();
    let rules: Vec<Value> = groups.as_array().unwrap().iter().flat_map(|g| g["rules"].as_array().unwrap().clone()).collect();
    let alerts: Vec<&str> = rules.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(alerts.contains(&"BmmsServerErrors") && alerts.contains(&"BmmsCrossOrganizationWrites"), "{alerts:?}");
    let firing: Vec<&str> = rules.iter().filter(|r| r["state"] == "firing").map(|r| r["name"].as_str().unwrap()).collect();
    assert!(firing.is_empty(), "alerts firing on a quiet server: {firing:?}");
}

#[tokio::test]
async fn the_budget_figures_count_each_finding_move_and_decision() {
    let mut m = crate::budget_proposals::ministry().await;
    let address = metrics_address(&m.app).await;
    let year = crate::budget_proposals::fiscal_year();
    let stations = m.ppa("Health stations", true).await;
    m.call(10_000_000_00, 30).await;
    // Signing an empty budget is refused: the check finds BC-6 (required parts).
    assert_eq!(m.act(&m.sofia, "prepare", None).await.status(), 422);
    assert_eq!(m.act(&m.sofia, "ppas", Some(serde_json::json!({"proposal_id": stations}))).await.status(), 200);
    assert_eq!(m.act(&m.sofia, "prepare", None).await.status(), 200);
    assert_eq!(m.act(&m.hana, "submit", Some(serde_json::json!({}))).await.status(), 200);
    let review = serde_json::json!({"decision": "recommended", "comments": "Within the ceiling."});
    let reviewed = m.app.request(reqwest::Method::POST, &format!("/api/v1/budget-submissions/{year}/MOH/review"), Some(&m.mara), Some(review)).await;
    assert_eq!(reviewed.status(), 201);
    m.app.create_user("OCM", "olive", Role::OcmExecutive).await;
    let olive = m.app.sign_in("olive").await;
    let approve = format!("/api/v1/budget-approvals/{year}/MOH");
    assert_eq!(m.app.request(reqwest::Method::POST, &approve, Some(&olive), None).await.status(), 201);
    assert_eq!(m.app.request(reqwest::Method::POST, &approve, Some(&olive), None).await.status(), 409, "approved once");

    let samples = samples(&scrape(&m.app, &address).await);
    let findings = |rule| value(&samples, "bmms_budget_compliance_violations_total", &[("rule", rule), ("severity", "error")]);
    assert_eq!((findings("BC-6"), findings("BC-2")), (1.0, 0.0));
    let moves = |status| value(&samples, "bmms_budget_moves_total", &[("status", status)]);
    assert_eq!((moves("prepared"), moves("submitted"), moves("preparing")), (1.0, 1.0, 0.0));
    let decisions = |stage, decision| value(&samples, "bmms_budget_decisions_total", &[("stage", stage), ("decision", decision)]);
    assert_eq!((decisions("review", "recommended"), decisions("review", "returned"), decisions("approval", "approved")), (1.0, 0.0, 1.0));
    let waits = |stage| value(&samples, "bmms_budget_decision_wait_seconds_count", &[("stage", stage)]);
    assert_eq!((waits("review"), waits("approval")), (1.0, 1.0));
}

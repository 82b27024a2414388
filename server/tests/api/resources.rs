//! Resources a client cannot hold: exports that are never read keep no database
//! connection, and each user has a bounded number of exports and exchanges in progress.

use crate::helpers::{error_of, spawn_app, Browser, TestApp};
use bmms_shared::Role;
use reqwest::header::{COOKIE, RETRY_AFTER};
use std::time::Duration;

/// `rows` assessments of `org`, written straight into the materialized table (what the
/// export reads), each with a long name so that a download far outgrows what the
/// sockets between the server and the client can buffer.
async fn many_assessments(app: &TestApp, org: &str, rows: i64) {
    sqlx::query(
        "insert into mana_assessments (org_id, id, status, community, municipality, province, households)
         select $1, gen_random_uuid(), 'submitted', 'Barangay ' || n || ' ' || repeat('x', 200), 'Datu Piang',
                'Maguindanao del Sur', n % 500
         from generate_series(1, $2) as n",
    )
    .bind(app.org_id(org).await)
    .bind(rows)
    .execute(&app.owner)
    .await
    .unwrap();
}

/// Starts an export and reads nothing of its body: the answer's headers have arrived, the
/// body waits in the sockets.
async fn stalled_export(app: &TestApp, browser: &Browser) -> reqwest::Response {
    let response = app
        .http
        .get(format!("{}/api/v1/assessments/export?format=csv", app.base))
        .header(COOKIE, &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

#[tokio::test]
async fn ten_exports_that_are_never_read_do_not_stop_other_organizations() {
    let app = spawn_app().await;
    // 40,000 rows of about 300 bytes: 12 MB per export, far past the socket buffers.
    many_assessments(&app, "MILG", 40_000).await;
    let mut readers = Vec::new();
    for i in 0..5 {
        let username = format!("staff{i}");
        app.create_user("MILG", &username, Role::MinistryStaff).await;
        readers.push(app.sign_in(&username).await);
    }
    app.create_user("MOH", "hana", Role::Supervisor).await;
    let hana = app.sign_in("hana").await;

    // Two each: as many as a user may have in progress at once.
    let mut stalled = Vec::new();
    for reader in &readers {
        for _ in 0..2 {
            stalled.push(stalled_export(&app, reader).await);
        }
    }
    // The exports have filled what the sockets hold and wait for their clients. With a
    // connection held while waiting, the test app's four connections would all be
    // taken: every request below would wait for a free one, then fail.
    for _ in 0..20 {
        let answer = tokio::time::timeout(Duration::from_secs(60), app.get("/api/v1/assessments?limit=5", &hana))
            .await
            .expect("another organization's request is answered while the exports stall");
        assert_eq!(answer.status(), 200);
    }
    let ready = app.http.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), 200, "the database answers");

    // A third export of one user waits for one of theirs to end.
    let third = app.get("/api/v1/assessments/export?format=csv", &readers[0]).await;
    assert_eq!(third.status(), 429);
    assert!(third.headers().get(RETRY_AFTER).is_some(), "says when to come back");
    let (_, code, message) = error_of(third).await;
    assert_eq!(code, "exports_busy");
    assert!(message.contains("downloads in progress"), "{message}");

    // Meanwhile a colleague's export, read as it comes, is whole.
    app.create_user("MILG", "staff5", Role::MinistryStaff).await;
    let colleague = app.sign_in("staff5").await;
    let whole = app.get("/api/v1/assessments/export?format=csv", &colleague).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.text().await.unwrap().lines().count(), 40_001, "a header and every row");
    drop(stalled);
}

#[tokio::test]
async fn an_export_neutralizes_cells_a_spreadsheet_would_run() {
    let app = spawn_app().await;
    app.create_user("MILG", "sofia", Role::MinistryStaff).await;
    let sofia = app.sign_in("sofia").await;
    for (community, municipality) in [("=HYPERLINK(\"http://evil\",\"x\")", "+SUM(1,2)"), ("@cmd", "-2+3"), ("Poblacion", "Datu Piang")] {
        sqlx::query(
            "insert into mana_assessments (org_id, id, status, community, municipality, latitude) values ($1, gen_random_uuid(), 'draft', $2, $3, -7.25)",
        )
        .bind(app.org_id("MILG").await)
        .bind(community)
        .bind(municipality)
        .execute(&app.owner)
        .await
        .unwrap();
    }
    let csv = app.get("/api/v1/assessments/export?format=csv&sort=community", &sofia).await.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cells: Vec<(String, String, String)> =
        rows.iter().map(|r| (r[column("community")].to_owned(), r[column("municipality")].to_owned(), r[column("latitude")].to_owned())).collect();
    assert!(cells.contains(&("'=HYPERLINK(\"http://evil\",\"x\")".into(), "'+SUM(1,2)".into(), "-7.25".into())), "{cells:?}");
    assert!(cells.contains(&("'@cmd".into(), "'-2+3".into(), "-7.25".into())), "{cells:?}");
    assert!(cells.contains(&("Poblacion".into(), "Datu Piang".into(), "-7.25".into())), "numbers and plain text stay as they are");
    // JSON is not a spreadsheet: the values as they are.
    let json: serde_json::Value = app.get("/api/v1/assessments/export?format=json", &sofia).await.json().await.unwrap();
    let communities: Vec<&str> = json.as_array().unwrap().iter().map(|r| r["community"].as_str().unwrap()).collect();
    assert!(communities.contains(&"@cmd"), "{communities:?}");
}

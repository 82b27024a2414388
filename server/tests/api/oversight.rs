//! Dashboards: OCM reads every organization's totals and writes nothing; an executive never
//! reaches a record; a ministry sees its own totals only; an unchanged dashboard costs no
//! body; and the totals the triggers keep equal a recomputation after random sync work,
//! and the dashboard's figures their sums in SQL.
//! Replay one random workload with BMMS_AGG_SEED=<seed>.

use bmms_shared::DocId;
use crate::helpers::{error_of, spawn_app, Browser, TestApp};
use crate::sync::{set, Device};
use bmms_shared::records::{mana, task, FieldValue, RecordKind};
use bmms_shared::Role;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// MILG with two assessments in Datu Piang and a task; MOH with one assessment. Ana
/// supervises, since she also hands out the task.
async fn two_ministries(app: &TestApp) -> (Device, DocId) {
    app.create_user("MILG", "ana", Role::Supervisor).await;
    app.create_user("MOH", "hana", Role::FieldOfficer).await;
    let (mut ana, mut hana) = (Device::register(app, "ana").await, Device::register(app, "hana").await);
    let first = DocId(Uuid::new_v4());
    for (doc, households) in [(first, 120), (DocId(Uuid::new_v4()), 80)] {
        ana.client.create(doc, RecordKind::ManaAssessment);
        set(&mut ana, doc, "municipality", FieldValue::Text("Datu Piang".into()));
        set(&mut ana, doc, "province", FieldValue::Text("Maguindanao del Sur".into()));
        set(&mut ana, doc, "households", FieldValue::Integer(households));
        set(&mut ana, doc, "needs.health.severity", FieldValue::Integer(4));
    }
    let task = DocId(Uuid::new_v4());
    ana.client.create(task, RecordKind::MonitoringTask);
    set(&mut ana, task, "due_date", FieldValue::Date("2020-01-01".into()));
    ana.sync(app).await;
    let doc = DocId(Uuid::new_v4());
    hana.client.create(doc, RecordKind::ManaAssessment);
    set(&mut hana, doc, "households", FieldValue::Integer(7));
    hana.sync(app).await;
    (ana, first)
}

async fn dashboard(app: &TestApp, who: &Browser, query: &str) -> Value {
    let response = app.get(&format!("/api/v1/dashboard{query}"), who).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn org<'a>(figures: &'a Value, code: &str) -> &'a Value {
    figures["figures"]["organizations"].as_array().unwrap().iter().find(|o| o["code"] == code).unwrap()
}

#[tokio::test]
async fn ocm_sees_every_ministry_and_can_change_nothing() {
    let app = spawn_app().await;
    let (_ana, doc) = two_ministries(&app).await;
    app.create_user("OCM", "exec", Role::OcmExecutive).await;
    app.create_user("OCM", "analyst", Role::OcmAnalyst).await;
    let (exec, analyst) = (app.sign_in("exec").await, app.sign_in("analyst").await);

    let all = dashboard(&app, &exec, "").await;
    assert_eq!(all["figures"]["assessments"]["assessments"], 3);
    assert_eq!(all["figures"]["assessments"]["households"], 207);
    assert_eq!((org(&all, "MILG")["assessments"].as_i64(), org(&all, "MILG")["overdue"].as_i64()), (Some(2), Some(1)));
    assert_eq!(org(&all, "MOH")["households"], 7);
    let milg_id = org(&all, "MILG")["id"].as_str().unwrap().to_owned();
    let milg = dashboard(&app, &exec, &format!("?org={milg_id}")).await;
    assert_eq!(milg["figures"]["assessments"]["households"], 200);
    let datu_piang = &milg["figures"]["municipalities"].as_array().unwrap()[0];
    assert_eq!((datu_piang["municipality"].as_str(), datu_piang["assessments"].as_i64()), (Some("Datu Piang"), Some(2)));
    assert_eq!(milg["figures"]["needs"], json!([{"sector": "health", "severity": 4, "assessments": 2}]));

    // The executive sees totals only; the analyst opens the records, read-only.
    let drill = format!("/api/v1/dashboard/records?org={milg_id}&municipality=Datu%20Piang");
    let (status, code, _) = error_of(app.get(&drill, &exec).await).await;
    assert_eq!((status, code.as_str()), (403, "totals_only"));
    let records: Value = app.get(&drill, &analyst).await.json().await.unwrap();
    assert_eq!(records["total"], 2);
    for who in [&exec, &analyst] {
        assert_eq!(app.get(&format!("/api/v1/records/{doc}"), who).await.status(), 404, "no record route crosses organizations");
        assert_eq!(app.get("/api/v1/assessments", who).await.json::<Value>().await.unwrap()["total"], 0);
    }

    // Every write route refuses an OCM session, whatever it carries.
    let conflict = DocId(Uuid::new_v4());
    let writes: Vec<(&str, Option<Value>)> = vec![
        ("/api/v1/devices", None),
        ("/api/v1/sync", None),
        ("/api/v1/tasks", Some(json!({"title": "t", "ppa": "p", "site": "s", "due_date": "2027-01-01", "assignee": "ana"}))),
        ("/api/v1/conflicts/resolve", Some(json!({"ids": [conflict], "value": 1, "reason": "r"}))),
    ];
    let assign = format!("/api/v1/tasks/{doc}/assign");
    let resolve = format!("/api/v1/conflicts/{conflict}/resolve");
    let writes = writes.into_iter().chain([(assign.as_str(), Some(json!({"assignee": "ana"}))), (resolve.as_str(), Some(json!({"value": 1, "reason": "r"})))]);
    for (path, body) in writes {
        for who in [&exec, &analyst] {
            let (status, code, _) = error_of(app.request(Method::POST, path, Some(who), body.clone()).await).await;
            assert_eq!((status, code.as_str()), (403, "read_only_role"), "{path}");
        }
    }
    assert_eq!(app.request(Method::POST, "/api/v1/auth/logout", Some(&exec), None).await.status(), 200);
}

#[tokio::test]
async fn a_ministry_sees_only_its_own_totals_and_an_unchanged_dashboard_costs_no_body() {
    let app = spawn_app().await;
    let (mut ana, doc) = two_ministries(&app).await;
    app.create_user("MILG", "staff", Role::MinistryStaff).await;
    let staff = app.sign_in("staff").await;
    let own = app.get("/api/v1/dashboard", &staff).await;
    let etag = own.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(own.headers()["cache-control"], "private, no-cache");
    let own: Value = own.json().await.unwrap();
    assert_eq!(own["organization"]["code"], "MILG");
    assert_eq!(own["figures"]["assessments"]["assessments"], 2, "MOH's assessment is not counted");
    assert!(own["figures"]["organizations"].as_array().unwrap().is_empty());
    let moh = app.org_id("MOH").await;
    assert_eq!(app.get(&format!("/api/v1/dashboard?org={moh}"), &staff).await.status(), 404);
    assert_eq!(app.get(&format!("/api/v1/dashboard/records?org={moh}"), &staff).await.status(), 404);

    let again = app.http.get(format!("{}/api/v1/dashboard", app.base)).header("cookie", &staff.cookie).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    set(&mut ana, doc, "households", FieldValue::Integer(121));
    ana.sync(&app).await;
    let changed = app.http.get(format!("{}/api/v1/dashboard", app.base)).header("cookie", &staff.cookie).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.json::<Value>().await.unwrap()["figures"]["assessments"]["households"], 201);
}

/// Every summary table, as the triggers left it and as computed afresh from the rows.
async fn maintained_and_recomputed(app: &TestApp) -> Vec<(String, Vec<String>, Vec<String>)> {
    // Each table, and what a row that dropped back to nothing looks like: equivalent to
    // a row that never existed, so the comparison leaves those out.
    let tables = [
        ("agg_assessments_place", "assessments = 0 and households = 0 and population = 0 and located = 0 and latitude_sum = 0 and longitude_sum = 0"),
        ("agg_assessments_month", "assessments = 0 and households = 0 and population = 0"),
        ("agg_needs", "assessments = 0"),
        ("agg_tasks_month", "tasks = 0 and progress_sum = 0 and progress_count = 0"),
        ("agg_tasks_open_due", "tasks = 0"),
    ];
    let rows = |table: &str| format!("select t::text from {table} t order by 1");
    let mut snapshot = Vec::new();
    for (table, empty) in tables {
        sqlx::query(&format!("delete from {table} where {empty}")).execute(&app.owner).await.unwrap();
        snapshot.push(sqlx::query_scalar::<_, String>(&rows(table)).fetch_all(&app.owner).await.unwrap());
    }
    sqlx::query("select agg_rebuild()").execute(&app.owner).await.unwrap();
    let mut out = Vec::new();
    for ((table, _), maintained) in tables.into_iter().zip(snapshot) {
        let recomputed = sqlx::query_scalar::<_, String>(&rows(table)).fetch_all(&app.owner).await.unwrap();
        out.push((table.to_owned(), maintained, recomputed));
    }
    out
}

async fn random_workload(seed: u64) {
    let app = spawn_app().await;
    // Supervisors: the random work creates tasks and sets their due dates too.
    app.create_user("MILG", "ana", Role::Supervisor).await;
    app.create_user("MOH", "hana", Role::Supervisor).await;
    let mut devices = vec![Device::register(&app, "ana").await, Device::register(&app, "ana").await, Device::register(&app, "hana").await];
    let mut rng = SmallRng::seed_from_u64(seed);
    let places = ["Datu Piang", "Marawi City", "Jolo"];
    for _step in 0..60 {
        let device = &mut devices[rng.gen_range(0..3)];
        let docs: Vec<(DocId, RecordKind)> = device.client.documents().iter().map(|(id, d)| (*id, d.kind)).collect();
        match rng.gen_range(0..10) {
            0 => {
                let kind = if rng.gen_bool(0.5) { RecordKind::ManaAssessment } else { RecordKind::MonitoringTask };
                device.client.create(DocId(Uuid::from_u128(rng.gen())), kind);
            }
            1..=6 if !docs.is_empty() => {
                let (doc, kind) = docs[rng.gen_range(0..docs.len())];
                let (field, value) = match (kind, rng.gen_range(0..5)) {
                    (RecordKind::ManaAssessment, 0) => ("municipality".into(), FieldValue::Text(places[rng.gen_range(0..3)].into())),
                    // Two barangays of Lamitan and the town of Lantawan, Basilan.
                    (RecordKind::ManaAssessment, 4) => ("place_code".into(), FieldValue::Text(["1900702001", "1900702002", "1900703000"][rng.gen_range(0..3)].into())),
                    (RecordKind::ManaAssessment, 1) => ("households".into(), FieldValue::Integer(rng.gen_range(0..500))),
                    (RecordKind::ManaAssessment, 2) => ("status".into(), FieldValue::Choice(mana::STATUSES[rng.gen_range(0..2)].into())),
                    (RecordKind::ManaAssessment, _) => {
                        let sector = mana::SECTORS[rng.gen_range(0..3)].0;
                        (format!("needs.{sector}.severity"), FieldValue::Integer(rng.gen_range(1..=5)))
                    }
                    (RecordKind::MonitoringTask, 0) => ("status".into(), FieldValue::Choice(task::STATUSES[rng.gen_range(0..4)].into())),
                    (RecordKind::MonitoringTask, 1) => ("progress_percent".into(), FieldValue::Integer(rng.gen_range(0..=100))),
                    (RecordKind::MonitoringTask, _) => ("due_date".to_string(), FieldValue::Date(format!("2026-{:02}-15", rng.gen_range(1..=12)))),
                    (RecordKind::PpaProposal, _) => unreachable!("this workload creates no proposals"),
                };
                set(device, doc, &field, value);
            }
            _ => device.sync(&app).await,
        }
    }
    for _ in 0..2 {
        for device in devices.iter_mut() {
            device.sync(&app).await;
        }
    }
    for (table, maintained, recomputed) in maintained_and_recomputed(&app).await {
        assert_eq!(maintained, recomputed, "seed {seed}: {table} drifted from its rows");
    }
    the_dashboard_sums_the_tables_as_sql_does(&app, seed).await;
}

/// One organization's figures summed in SQL, piece by piece, as the dashboard once read them.
const SUMMED_IN_SQL: &str = "
with a as (select * from agg_assessments_month where org_id = $1), t as (select * from agg_tasks_month where org_id = $1)
select json_build_object(
  'assessments', (select json_build_object('assessments', coalesce(sum(assessments), 0), 'households', coalesce(sum(households), 0),
                                           'population', coalesce(sum(population), 0)) from a),
  'assessments_by_status', (select coalesce(json_agg(json_build_object('count', n, 'status', status) order by status), '[]')
                            from (select status, sum(assessments) n from a group by status having sum(assessments) > 0) s),
  'assessments_by_month', (select coalesce(json_agg(json_build_object('count', n, 'done', 0, 'month', to_char(nullif(month, 'infinity'), 'YYYY-MM-DD')) order by month), '[]')
                           from (select month, sum(assessments) n from a group by month having sum(assessments) > 0) s),
  'tasks_by_status', (select coalesce(json_agg(json_build_object('count', n, 'status', status) order by status), '[]')
                      from (select status, sum(tasks) n from t group by status having sum(tasks) > 0) s),
  'tasks_by_month', (select coalesce(json_agg(json_build_object('count', n, 'done', d, 'month', to_char(nullif(month, 'infinity'), 'YYYY-MM-DD')) order by month), '[]')
                     from (select month, sum(tasks) n, coalesce(sum(tasks) filter (where status = 'done'), 0) d from t
                           group by month having sum(tasks) > 0) s),
  'tasks', (select json_build_object('tasks', coalesce(sum(tasks), 0), 'average_progress', round(sum(progress_sum)::numeric / nullif(sum(progress_count), 0))) from t),
  'provinces', (select coalesce(json_agg(json_build_array(code, n, h, p) order by code, n), '[]')
                from (select nullif(province_code, '') code, sum(assessments) n, sum(households) h, sum(population) p
                      from agg_assessments_place where org_id = $1 group by province_code, province having sum(assessments) > 0) s))";

/// The dashboard sums the summary tables in Rust, from fewer and wider queries than one a
/// figure: each figure must equal its sum in SQL.
async fn the_dashboard_sums_the_tables_as_sql_does(app: &TestApp, seed: u64) {
    app.create_user("MILG", "milg.staff", Role::MinistryStaff).await;
    let shown = dashboard(app, &app.sign_in("milg.staff").await, "").await["figures"].clone();
    let summed: Value = sqlx::query_scalar(SUMMED_IN_SQL).bind(app.org_id("MILG").await).fetch_one(&app.owner).await.unwrap();
    for piece in ["assessments", "assessments_by_status", "assessments_by_month", "tasks_by_status", "tasks_by_month"] {
        assert_eq!(shown[piece], summed[piece], "seed {seed}: {piece}");
    }
    assert_eq!((&shown["tasks"]["tasks"], &shown["tasks"]["average_progress"]), (&summed["tasks"]["tasks"], &summed["tasks"]["average_progress"]), "seed {seed}");
    let mut provinces: Vec<Value> = shown["provinces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!([p["province_code"], p["assessments"], p["households"], p["population"]]))
        .collect();
    provinces.sort_by_key(|p| p.to_string());
    let mut expected = summed["provinces"].as_array().unwrap().clone();
    expected.sort_by_key(|p| p.to_string());
    assert!(!expected.is_empty(), "seed {seed}: the workload placed assessments");
    assert_eq!(provinces, expected, "seed {seed}: provinces");
}

#[tokio::test]
async fn maintained_totals_equal_a_recomputation_after_random_sync_work() {
    let seeds: Vec<u64> = match std::env::var("BMMS_AGG_SEED") {
        Ok(seed) => vec![seed.parse().unwrap()],
        Err(_) => vec![21, 22, 23],
    };
    for seed in seeds {
        random_workload(seed).await;
    }
}

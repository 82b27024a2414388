//! Implementation tracking, through real HTTP and a field officer's real syncs: a
//! supervisor points a monitoring task at a submitted PPA (chosen from the organization's
//! submitted and certified ones, never a draft or another organization's), the officer's
//! progress shows on the PPA with its overdue milestone, and OCM's implementation view
//! puts the late PPA first. Who sees which PPA is PostgreSQL's to say.

use bmms_server::db::{OrgTx, ReadTx};
use bmms_shared::records::FieldValue;
use bmms_shared::records::RecordKind;
use bmms_shared::{DocId, Role};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{error_of, spawn_app, Browser, TestApp};
use crate::proposals::{complete, submit};
use crate::sync::{set, Device};

/// MOH's team (Sara drafts, Sofia supervises, Fatima visits) and its complete proposal
/// with one milestone long overdue and one far ahead, submitted by Sofia, and a draft
/// beside it: Sara's device, Sofia's session, the proposal and the draft.
async fn submitted_ppa(app: &TestApp) -> (Device, Browser, DocId, DocId) {
    app.create_user("MOH", "sara", Role::MinistryStaff).await;
    app.create_user("MOH", "sofia", Role::Supervisor).await;
    app.create_user("MOH", "fatima", Role::FieldOfficer).await;
    let (mut sara, sofia) = (Device::register(app, "sara").await, app.sign_in("sofia").await);
    let (doc, draft) = (DocId(Uuid::new_v4()), DocId(Uuid::new_v4()));
    sara.client.create(doc, RecordKind::PpaProposal);
    complete(&mut sara, doc);
    let text = |s: &str| FieldValue::Text(s.into());
    set(&mut sara, doc, "milestone.1.title", text("Sites cleared"));
    set(&mut sara, doc, "milestone.1.due", FieldValue::Date("2026-03-31".into()));
    set(&mut sara, doc, "milestone.2.title", text("Stations open"));
    set(&mut sara, doc, "milestone.2.due", FieldValue::Date("2099-06-30".into()));
    sara.client.create(draft, RecordKind::PpaProposal);
    set(&mut sara, draft, "title", text("A draft nobody outside MOH sees"));
    sara.sync(app).await;
    assert_eq!(submit(app, &sofia, doc).await.status(), 201);
    (sara, sofia, doc, draft)
}

async fn new_task(app: &TestApp, sofia: &Browser, ppa_id: DocId) -> reqwest::Response {
    let body = json!({"title": "Check the stations", "ppa_id": ppa_id, "site": "Datu Piang", "due_date": "2099-01-31", "assignee": "fatima"});
    app.request(reqwest::Method::POST, "/api/v1/tasks", Some(sofia), Some(body)).await
}

async fn json_of(app: &TestApp, path: &str, who: &Browser) -> Value {
    let answer = app.get(path, who).await;
    assert_eq!(answer.status(), 200, "{path}");
    answer.json().await.unwrap()
}

#[tokio::test]
async fn a_task_points_at_a_submitted_ppa_and_its_progress_shows_on_the_ppa_and_on_ocms_view() {
    let app = spawn_app().await;
    let (sara, sofia, doc, draft) = submitted_ppa(&app).await;
    app.create_user("MILG", "milo", Role::Supervisor).await;
    app.create_user("OCM", "oscar", Role::OcmAnalyst).await;
    app.create_user("OCM", "olive", Role::OcmExecutive).await;

    // The choice is the submitted PPA, not the draft.
    let choices = json_of(&app, "/api/v1/tasks/ppas", &sofia).await;
    let milestones = json!([{"n": 1, "title": "Sites cleared", "due": "2026-03-31"}, {"n": 2, "title": "Stations open", "due": "2099-06-30"}]);
    assert_eq!(choices["items"], json!([{"id": doc, "status": "submitted", "title": "Barangay health stations for Datu Piang", "milestones": milestones}]));
    let (status, _, message) = error_of(new_task(&app, &sofia, draft).await).await;
    assert!(status == 422 && message.contains("submitted or certified"), "{message}");
    let milo = app.sign_in("milo").await;
    let (status, _, _) = error_of(new_task(&app, &milo, doc).await).await;
    assert_eq!(status, 422, "another organization's PPA is not one to choose");

    let created = new_task(&app, &sofia, doc).await;
    assert_eq!(created.status(), 201);
    let task: DocId = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse().unwrap();
    let listed = json_of(&app, "/api/v1/tasks", &sofia).await;
    assert_eq!(listed["items"][0]["ppa_id"], json!(doc));

    // The officer's device receives the task, with the PPA's title for older apps too.
    let mut fatima = Device::register(&app, "fatima").await;
    fatima.sync(&app).await;
    let local = fatima.client.documents()[&task].doc();
    assert_eq!(bmms_shared::records::get(local, "ppa"), Some(FieldValue::Text("Barangay health stations for Datu Piang".into())));
    set(&mut fatima, task, "progress_percent", FieldValue::Integer(60));
    fatima.sync(&app).await;

    // The PPA shows the task's progress, both milestones, and why it is at risk.
    let path = format!("/api/v1/proposals/{doc}/implementation");
    let ppa = json_of(&app, &path, &sara.browser).await;
    assert_eq!(ppa["progress_percent"], 60, "{ppa}");
    assert_eq!(ppa["tasks"][0]["assignee"], "fatima");
    let overdue: Vec<bool> = ppa["milestones"].as_array().unwrap().iter().map(|m| m["overdue"].as_bool().unwrap()).collect();
    assert_eq!(overdue, [true, false]);
    assert_eq!(ppa["risks"], json!(["1 milestone is overdue."]));

    // OCM: the analyst opens it; the executive sees the view, not the PPA behind it.
    let moh = app.org_id("MOH").await;
    let opened = json_of(&app, &format!("{path}?org={moh}"), &app.sign_in("oscar").await).await;
    assert_eq!(opened["progress_percent"], 60);
    let olive = app.sign_in("olive").await;
    assert_eq!(error_of(app.get(&format!("{path}?org={moh}"), &olive).await).await.1, "totals_only");
    let view = json_of(&app, "/api/v1/implementation", &olive).await;
    let row = &view["rows"]["items"][0];
    assert_eq!((row["proposal_id"].clone(), row["org_code"].as_str()), (json!(doc), Some("MOH")), "{view}");
    assert_eq!((row["progress_percent"].as_i64(), row["overdue_milestones"].as_i64(), row["at_risk"].as_bool()), (Some(60), Some(1), Some(true)));
    assert_eq!(row["late_since"], "2026-03-31");
    assert_eq!(view["rows"]["total"], 1, "the draft is MOH's own: {view}");
    assert_eq!(view["by_status"], json!([{"status": "submitted", "ppas": 1, "at_risk": 1}]));
    assert_eq!(view["by_organization"][0]["average_progress"], 60);
    let csv = app.get("/api/v1/implementation/export?format=csv", &olive).await.text().await.unwrap();
    assert!(csv.lines().nth(1).is_some_and(|line| line.starts_with("MOH,") && line.ends_with(",yes")), "{csv}");

}

#[tokio::test]
async fn a_task_that_checks_a_milestone_marks_it_done_and_leaves_the_submitted_plan_as_it_was() {
    let app = spawn_app().await;
    let (_sara, sofia, doc, _) = submitted_ppa(&app).await;
    let heads = || sqlx::query_scalar::<_, Vec<String>>("select heads from ppa_proposals where id = $1").bind(doc).fetch_one(&app.owner);
    let submitted_heads = heads().await.unwrap();

    // A milestone the PPA does not have, or one without its PPA: refused, nothing made.
    let task = |milestone: Value, ppa: Value| {
        json!({"title": "Check the cleared sites", "ppa_id": ppa, "ppa_milestone": milestone, "site": "Datu Piang", "due_date": "2099-01-31", "assignee": "fatima"})
    };
    for (body, field) in [(task(json!(3), json!(doc)), "ppa_milestone"), (task(json!(1), Value::Null), "ppa_milestone"), (task(json!(13), json!(doc)), "")] {
        let (status, _, message) = error_of(app.request(reqwest::Method::POST, "/api/v1/tasks", Some(&sofia), Some(body)).await).await;
        assert!((400..500).contains(&status) && !message.is_empty(), "{status} {message}");
        if !field.is_empty() {
            assert!(message.contains("milestone"), "{message}");
        }
    }
    assert_eq!(json_of(&app, "/api/v1/tasks", &sofia).await["total"], 0);

    let created = app.request(reqwest::Method::POST, "/api/v1/tasks", Some(&sofia), Some(task(json!(1), json!(doc)))).await;
    assert_eq!(created.status(), 201);
    let id: DocId = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse().unwrap();
    let path = format!("/api/v1/proposals/{doc}/implementation");
    let before = json_of(&app, &path, &sofia).await;
    assert_eq!((&before["tasks"][0]["milestone"], &before["risks"]), (&json!(1), &json!(["1 milestone is overdue."])));

    // The officer finishes the visit: milestone 1 is done, by the task, and no longer late.
    let mut fatima = Device::register(&app, "fatima").await;
    fatima.sync(&app).await;
    set(&mut fatima, id, "status", FieldValue::Choice("done".into()));
    fatima.sync(&app).await;
    let after = json_of(&app, &path, &sofia).await;
    let first = &after["milestones"][0];
    assert_eq!((&first["checked_by"], first["overdue"].as_bool(), first["done_on"].is_string()), (&json!(id), Some(false), true), "{after}");
    assert_eq!(after["milestones"][1]["done_on"], Value::Null);
    assert_eq!(after["risks"], json!([]));
    let view = json_of(&app, "/api/v1/implementation", &sofia).await;
    let row = &view["rows"]["items"][0];
    assert_eq!((row["milestones_done"].as_i64(), row["late_since"].as_str(), row["at_risk"].as_bool()), (Some(1), Some("2099-06-30"), Some(false)), "{view}");
    // The plan BPDA has is untouched: no edit of the frozen proposal was needed.
    assert_eq!(heads().await.unwrap(), submitted_heads);
    let choices = json_of(&app, "/api/v1/tasks/ppas", &sofia).await;
    assert_eq!(choices["items"][0]["milestones"].as_array().map(Vec::len), Some(2), "the plan's own record of milestones is unchanged");

    // Reopened, the milestone is open again.
    set(&mut fatima, id, "status", FieldValue::Choice("in_progress".into()));
    fatima.sync(&app).await;
    assert_eq!(json_of(&app, &path, &sofia).await["risks"], json!(["1 milestone is overdue."]));
}

#[tokio::test]
async fn an_unrelated_organization_sees_nothing_and_bad_filters_are_422() {
    let app = spawn_app().await;
    let (_sara, sofia, doc, draft) = submitted_ppa(&app).await;
    app.create_user("MILG", "milo", Role::Supervisor).await;
    app.create_user("BPDA", "pia", Role::BpdaPlanner).await;
    let moh = app.org_id("MOH").await;

    let milo = app.sign_in("milo").await;
    for path in [format!("/api/v1/proposals/{doc}/implementation"), format!("/api/v1/proposals/{doc}/implementation?org={moh}"), format!("/api/v1/implementation?org={moh}")] {
        assert_eq!(app.get(&path, &milo).await.status(), 404, "{path}");
    }
    for who in [&milo, &app.sign_in("pia").await] {
        let view = json_of(&app, "/api/v1/implementation", who).await;
        assert_eq!(view["rows"]["total"], 0, "{view}");
    }
    // MOH's own view holds its submitted PPA, not its draft.
    let own = json_of(&app, "/api/v1/implementation", &sofia).await;
    let ids: Vec<&Value> = own["rows"]["items"].as_array().unwrap().iter().map(|r| &r["proposal_id"]).collect();
    assert_eq!(ids, [&json!(doc)], "not the draft {draft}");
    for (goal, total) in [("S2", 1), ("S3", 0)] {
        let by_goal = json_of(&app, &format!("/api/v1/implementation?goal={goal}"), &sofia).await;
        assert_eq!((by_goal["rows"]["total"].as_i64(), by_goal["by_status"].as_array().map(Vec::len)), (Some(total), Some(total as usize)), "{goal}");
    }

    for (query, field) in [("status=draft", "status"), ("status=lost", "status"), ("limit=0", "")] {
        let (status, _, message) = error_of(app.get(&format!("/api/v1/implementation?{query}"), &sofia).await).await;
        assert_eq!(status, 422, "{query}: {message}");
        assert!(field.is_empty() || message.contains("choose"), "{message}");
    }
    let (status, _, _) = error_of(app.get("/api/v1/implementation/export?format=xls", &sofia).await).await;
    assert_eq!(status, 422);

    // PostgreSQL: MOH reads both its rows; no other organization's transaction any, and
    // OCM's oversight transaction the submitted one alone.
    for (org, seen) in [("MOH", 2), ("MILG", 0), ("BPDA", 0), ("MFBM", 0), ("OCM", 0)] {
        let mut tx = OrgTx::begin(app.db(), app.org_id(org).await).await.unwrap();
        let count: i64 = sqlx::query_scalar("select count(*) from ppa_implementation").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(count, seen, "{org}");
        let forged = sqlx::query("update ppa_implementation set progress_sum = 100").execute(&mut *tx).await.unwrap();
        assert_eq!(forged.rows_affected(), if org == "MOH" { 2 } else { 0 }, "{org} changes only its own rows");
    }
    let mut oversight = ReadTx::oversight(app.db()).await.unwrap();
    let seen: Vec<DocId> = sqlx::query_scalar("select proposal_id from ppa_implementation").fetch_all(&mut *oversight).await.unwrap();
    assert_eq!(seen, [doc], "OCM reads the submitted PPA's row, not the draft's");
    assert!(sqlx::query("update ppa_implementation set progress_sum = 0").execute(&mut *oversight).await.is_err(), "read only");
}

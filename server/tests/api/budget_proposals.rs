//! A ministry's budget proposal for a fiscal year, through real HTTP and a real device's
//! sync: its staff budget its certified PPAs (bound to the certified version, with that
//! version's cost by quarter and class), one of them signs it as preparer and the head,
//! another person, submits it to MFBM; the compliance check blocks what breaks a rule
//! and flags a late submission, which needs a reason; the database shows the proposal to
//! its organization and, once submitted, to MFBM, and to nobody else.

use bmms_server::db::OrgTx;
use bmms_shared::records::ppa::cost_field;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::{DocId, Role};
use chrono::{Datelike, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{error_of, spawn_app, Browser, TestApp};
use crate::proposals::{complete, submit};
use crate::sync::{set, Device};

/// The fiscal year budgeted: next year (the calls' years end at 2034).
pub fn fiscal_year() -> i32 {
    (Utc::now().year() + 1).min(2034)
}

pub struct Ministry {
    pub app: TestApp,
    pub sara: Device,
    pub sofia: Browser,
    pub hana: Browser,
    pub mara: Browser,
    pub pia: Browser,
}

/// MOH with its staff (Sara), supervisor (Sofia) and head (Hana, its administrator);
/// BPDA's planner and MFBM's budget officer.
pub async fn ministry() -> Ministry {
    let app = spawn_app().await;
    app.create_user("MOH", "sara", Role::MinistryStaff).await;
    app.create_user("MOH", "sofia", Role::Supervisor).await;
    app.create_user("MOH", "hana", Role::OrgAdmin).await;
    app.create_user("BPDA", "pia", Role::BpdaPlanner).await;
    app.create_user("MFBM", "mara", Role::MfbmBudgetOfficer).await;
    let sara = Device::register(&app, "sara").await;
    let (sofia, hana, mara, pia) = (app.sign_in("sofia").await, app.sign_in("hana").await, app.sign_in("mara").await, app.sign_in("pia").await);
    Ministry { app, sara, sofia, hana, mara, pia }
}

impl Ministry {
    /// A complete proposal costing ₱300,000 MOOE in Q2 and ₱1,000,000 CO in Q3 of the
    /// fiscal year, submitted, and certified by BPDA when `certify`.
    pub async fn ppa(&mut self, title: &str, certify: bool) -> DocId {
        let doc = DocId(Uuid::new_v4());
        self.sara.client.create(doc, RecordKind::PpaProposal);
        complete(&mut self.sara, doc);
        let year = fiscal_year();
        set(&mut self.sara, doc, "title", FieldValue::Text(title.into()));
        set(&mut self.sara, doc, &cost_field(year, 2, "mooe"), FieldValue::Integer(300_000_00));
        set(&mut self.sara, doc, &cost_field(year, 3, "co"), FieldValue::Integer(1_000_000_00));
        self.sara.sync(&self.app).await;
        let answer: Value = submit(&self.app, &self.sofia, doc).await.json().await.unwrap();
        if certify {
            let path = format!("/api/v1/submissions/{}/certify", answer["submission_id"].as_str().unwrap());
            assert_eq!(self.app.request(Method::POST, &path, Some(&self.pia), None).await.status(), 201);
        }
        doc
    }

    /// MFBM's call for the fiscal year, MOH's ceiling `ceiling`, the budget submission due
    /// `due_in_days` from today.
    pub async fn call(&self, ceiling: i64, due_in_days: i64) {
        let body = call_body(ceiling, due_in_days);
        let (method, path) = match self.app.count("budget_calls").await {
            0 => (Method::POST, "/api/v1/budget-calls".to_owned()),
            _ => (Method::PUT, format!("/api/v1/budget-calls/{}", fiscal_year())),
        };
        let answer = self.app.request(method, &path, Some(&self.mara), Some(body)).await;
        assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
    }

    pub async fn budget(&self, who: &Browser) -> Value {
        let answer = self.app.get(&format!("/api/v1/budget-proposals/{}", fiscal_year()), who).await;
        assert_eq!(answer.status(), 200);
        answer.json().await.unwrap()
    }

    pub async fn act(&self, who: &Browser, action: &str, body: Option<Value>) -> reqwest::Response {
        self.app.request(Method::POST, &format!("/api/v1/budget-proposals/{}/{action}", fiscal_year()), Some(who), body).await
    }
}

/// The body of MFBM's call for the fiscal year: MOH's ceiling `ceiling`, the budget
/// submission due `due_in_days` from today.
pub fn call_body(ceiling: i64, due_in_days: i64) -> Value {
    let today = Utc::now().date_naive();
    let day = |offset: i64| (today + Duration::days(due_in_days + offset)).to_string();
    json!({
        "fiscal_year": fiscal_year(),
        "message": "Budget your certified PPAs.",
        "deadlines": {
            "ppa_preparation": day(-20), "bdp_certification": day(-10), "budget_submission": day(0),
            "technical_review": day(10), "executive_approval": day(20), "parliament_submission": day(30)
        },
        "ceilings": [{"organization_code": "MOH", "total": ceiling}]
    })
}

/// MOH's budget for the fiscal year, its one certified PPA (₱1,300,000) within its
/// ceiling, prepared by Sofia and submitted by Hana.
pub async fn submitted_budget() -> Ministry {
    let mut m = ministry().await;
    let stations = m.ppa("Health stations", true).await;
    m.call(10_000_000_00, 30).await;
    assert_eq!(m.act(&m.sofia, "ppas", Some(json!({"proposal_id": stations}))).await.status(), 200);
    assert_eq!(m.act(&m.sofia, "prepare", None).await.status(), 200);
    assert_eq!(m.act(&m.hana, "submit", Some(json!({}))).await.status(), 200);
    m
}

fn rules(budget: &Value) -> Vec<&str> {
    budget["violations"].as_array().unwrap().iter().map(|v| v["rule"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn staff_budget_certified_ppas_a_preparer_signs_and_the_head_another_person_submits() {
    let mut m = ministry().await;
    let stations = m.ppa("Health stations", true).await;
    let pending = m.ppa("Midwives' training", false).await;
    m.call(10_000_000_00, 30).await;

    let budget = m.budget(&m.sofia).await;
    assert_eq!((budget["status"].as_str(), budget["total"].as_i64()), (Some("preparing"), Some(0)));
    let candidates: Vec<&str> = budget["candidates"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert_eq!(candidates, ["Health stations"], "only certified PPAs are offered");
    assert_eq!(rules(&budget), ["BC-6"], "nothing budgeted yet");

    let refused = m.act(&m.sofia, "ppas", Some(json!({"proposal_id": pending}))).await;
    let (status, code, message) = error_of(refused).await;
    assert_eq!((status, code.as_str()), (422, "invalid_field"), "{message}");
    assert!(message.contains("not certified"), "{message}");
    let added = m.act(&m.sofia, "ppas", Some(json!({"proposal_id": stations}))).await;
    assert_eq!(added.status(), 200);
    let budget: Value = added.json().await.unwrap();
    let ppa = &budget["ppas"][0];
    assert_eq!((ppa["version"].as_i64(), ppa["lines"][1][1].as_i64(), ppa["lines"][2][2].as_i64()), (Some(1), Some(300_000_00), Some(1_000_000_00)));
    assert_eq!((&budget["by_class"], budget["total"].as_i64()), (&json!([0, 300_000_00, 1_000_000_00]), Some(1_300_000_00)));
    assert_eq!(rules(&budget), Vec::<&str>::new(), "{budget}");

    // Hana, the head, may not submit what she prepared; a supervisor may not submit at all.
    assert_eq!(m.act(&m.hana, "prepare", None).await.status(), 200);
    assert_eq!(error_of(m.act(&m.hana, "submit", Some(json!({}))).await).await.1, "own_step");
    assert_eq!(error_of(m.act(&m.sofia, "submit", Some(json!({}))).await).await.1, "not_allowed");
    let removed = m.app.request(Method::DELETE, &format!("/api/v1/budget-proposals/{}/ppas/{stations}", fiscal_year()), Some(&m.sofia), None).await;
    assert_eq!(error_of(removed).await.1, "not_preparing", "a signed proposal is reopened to change");
    assert_eq!(m.act(&m.sofia, "reopen", None).await.status(), 200);
    assert_eq!(m.act(&m.sofia, "prepare", None).await.status(), 200);
    let submitted = m.act(&m.hana, "submit", Some(json!({}))).await;
    assert_eq!(submitted.status(), 200);
    let budget: Value = submitted.json().await.unwrap();
    assert_eq!(budget["status"], "submitted");
    let moves: Vec<(&str, &str)> = budget["history"].as_array().unwrap().iter().map(|t| (t["from_status"].as_str().unwrap(), t["to_status"].as_str().unwrap())).collect();
    assert_eq!(moves, [("preparing", "prepared"), ("prepared", "preparing"), ("preparing", "prepared"), ("prepared", "submitted")]);
    let kept: Value = sqlx::query_scalar("select jsonb_build_array(before, after) from budget_transitions order by id desc limit 1").fetch_one(&m.app.owner).await.unwrap();
    assert_eq!((kept[0]["status"].as_str(), kept[1]["status"].as_str(), kept[1]["total"].as_i64()), (Some("prepared"), Some("submitted"), Some(1_300_000_00)));
    assert_eq!(error_of(m.act(&m.hana, "submit", Some(json!({}))).await).await.1, "not_prepared", "submitted once");

    // PostgreSQL: MFBM reads the submitted proposal and its lines; another ministry nothing.
    let (mfbm, milg) = (m.app.org_id("MFBM").await, m.app.org_id("MILG").await);
    for (org, proposals, lines) in [(mfbm, 1, 12), (milg, 0, 0)] {
        let mut tx = OrgTx::begin(m.app.db(), org).await.unwrap();
        let read: (i64, i64) = sqlx::query_as("select (select count(*) from budget_proposals), (select count(*) from budget_lines)").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(read, (proposals, lines), "{org}");
        let changed = sqlx::query("update budget_proposals set late_reason = 'changed'").execute(&mut *tx).await.unwrap();
        assert_eq!(changed.rows_affected(), 0, "{org} changes nothing of MOH's");
        tx.commit().await.unwrap();
    }
    let bpda = m.app.sign_in("pia").await;
    assert_eq!(error_of(m.app.get(&format!("/api/v1/budget-proposals/{}", fiscal_year()), &bpda).await).await.0, 403);
}

#[tokio::test]
async fn the_compliance_check_blocks_a_budget_that_breaks_a_rule_and_a_late_one_needs_a_reason() {
    let mut m = ministry().await;
    let stations = m.ppa("Health stations", true).await;
    m.call(1_000_000_00, 30).await;
    assert_eq!(m.act(&m.sofia, "ppas", Some(json!({"proposal_id": stations}))).await.status(), 200);

    // Above the ceiling: ₱1,300,000 against ₱1,000,000.
    let refused = m.act(&m.sofia, "prepare", None).await;
    let (status, code, message) = error_of(refused).await;
    assert_eq!((status, code.as_str()), (422, "not_compliant"));
    assert!(message.contains("BC-2") && message.contains("₱300,000.00"), "{message}");

    // An edit of the PPA voids its certification: the budget says which PPA.
    m.call(2_000_000_00, -1).await;
    set(&mut m.sara, stations, "beneficiaries", FieldValue::Integer(2_500));
    m.sara.sync(&m.app).await;
    let budget = m.budget(&m.sofia).await;
    assert_eq!(rules(&budget), ["BC-1", "BC-7"], "{budget}");
    assert_eq!(budget["violations"][0]["ppa_title"], "Health stations");
    assert_eq!(budget["violations"][1]["severity"], "warning");
    assert_eq!(error_of(m.act(&m.sofia, "prepare", None).await).await.1, "not_compliant");

    // Certified again (the edited version); rebudgeted; late, so a reason is asked for.
    let answer: Value = submit(&m.app, &m.sofia, stations).await.json().await.unwrap();
    let path = format!("/api/v1/submissions/{}/certify", answer["submission_id"].as_str().unwrap());
    assert_eq!(m.app.request(Method::POST, &path, Some(&m.pia), None).await.status(), 201);
    let path = format!("/api/v1/budget-proposals/{}/ppas/{stations}", fiscal_year());
    assert_eq!(m.app.request(Method::DELETE, &path, Some(&m.sofia), None).await.status(), 200);
    let added: Value = m.act(&m.sofia, "ppas", Some(json!({"proposal_id": stations}))).await.json().await.unwrap();
    assert_eq!(added["ppas"][0]["version"].as_i64(), Some(2));
    assert_eq!(m.act(&m.sofia, "prepare", None).await.status(), 200);
    let (status, _, _) = error_of(m.act(&m.hana, "submit", Some(json!({"late_reason": "  "}))).await).await;
    assert_eq!(status, 422);
    let submitted: Value = m.act(&m.hana, "submit", Some(json!({"late_reason": "The provincial hearings ran late."}))).await.json().await.unwrap();
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(rules(&submitted), ["BC-7"], "flagged late");
    assert!(submitted["violations"][0]["message"].as_str().unwrap().contains("The provincial hearings ran late."));
}

#[tokio::test]
async fn mfbm_reviews_the_years_submissions_returning_one_with_comments_and_recommending_it_when_it_comes_again() {
    let m = submitted_budget().await;
    let year = fiscal_year();
    let list = |who: &Browser| {
        let (app, who) = (&m.app, who.clone());
        async move {
            let answer: Value = app.get(&format!("/api/v1/budget-submissions?year={year}"), &who).await.json().await.unwrap();
            answer["items"].as_array().unwrap().clone()
        }
    };
    let submissions = list(&m.mara).await;
    assert_eq!(submissions.len(), 1);
    let moh = &submissions[0];
    assert_eq!((moh["organization_code"].as_str(), moh["total"].as_i64(), moh["errors"].as_u64(), moh["review"].as_str()), (Some("MOH"), Some(1_300_000_00), Some(0), None));
    assert_eq!(error_of(m.app.get(&format!("/api/v1/budget-submissions?year={year}"), &m.sofia).await).await.0, 403, "a ministry sees its own budget only");
    let detail: Value = m.app.get(&format!("/api/v1/budget-submissions/{year}/MOH"), &m.mara).await.json().await.unwrap();
    assert_eq!(detail["ppas"][0]["title"], "Health stations");
    assert_eq!(error_of(m.app.get(&format!("/api/v1/budget-submissions/{year}/MILG"), &m.mara).await).await.0, 404);

    let review = |decision: &str, comments: &str| json!({"decision": decision, "comments": comments});
    let path = format!("/api/v1/budget-submissions/{year}/MOH/review");
    for (bad, field) in [(review("maybe", "Fine."), "decision"), (review("returned", "  "), "comments")] {
        let (status, _, _) = error_of(m.app.request(Method::POST, &path, Some(&m.mara), Some(bad)).await).await;
        assert_eq!(status, 422, "{field}");
    }
    let returned = m.app.request(Method::POST, &path, Some(&m.mara), Some(review("returned", "Split the CO by project site."))).await;
    assert_eq!(returned.status(), 201);
    let again = m.app.request(Method::POST, &path, Some(&m.mara), Some(review("recommended", "Fine after all."))).await;
    assert_eq!(error_of(again).await.1, "already_reviewed", "one review per submission");

    // The ministry takes the return: preparing again, with MFBM's comments.
    let budget = m.budget(&m.sofia).await;
    assert_eq!((budget["status"].as_str(), budget["review"]["decision"].as_str()), (Some("preparing"), Some("returned")));
    assert_eq!(budget["review"]["comments"], "Split the CO by project site.");
    let last = budget["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["from_status"].as_str(), last["to_status"].as_str()), (Some("submitted"), Some("preparing")));
    assert!(list(&m.mara).await.is_empty(), "nothing of MOH's is submitted now");

    // Submitted again, it is recommended, once.
    assert_eq!(m.act(&m.sofia, "prepare", None).await.status(), 200);
    assert_eq!(m.act(&m.hana, "submit", Some(json!({}))).await.status(), 200);
    assert_eq!(list(&m.mara).await[0]["review"], Value::Null, "the return was of the earlier submission");
    assert_eq!(m.app.request(Method::POST, &path, Some(&m.mara), Some(review("recommended", "Within the ceiling; certified."))).await.status(), 201);
    let again = m.app.request(Method::POST, &path, Some(&m.mara), Some(review("returned", "On second thought."))).await;
    assert_eq!(error_of(again).await.1, "already_reviewed");
    assert_eq!(list(&m.mara).await[0]["review"], "recommended");
    let budget = m.budget(&m.sofia).await;
    assert_eq!((budget["status"].as_str(), budget["review"]["decision"].as_str()), (Some("submitted"), Some("recommended")));

    // PostgreSQL: the reviews are MFBM's rows, read by MOH and not by MILG, written by MFBM alone.
    let (moh, milg) = (m.app.org_id("MOH").await, m.app.org_id("MILG").await);
    for (org, expected) in [(moh, 2), (milg, 0)] {
        let mut tx = OrgTx::begin(m.app.db(), org).await.unwrap();
        let read: i64 = sqlx::query_scalar("select count(*) from budget_reviews").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(read, expected, "{org}");
        tx.commit().await.unwrap();
    }
    let mut tx = OrgTx::begin(m.app.db(), moh).await.unwrap();
    let forged = sqlx::query(
        "insert into budget_reviews (org_id, budget_proposal_id, proposal_org_id, submitted_at, decision, comments, reviewed_by)
         select $1, id, org_id, now(), 'recommended', 'Self-approved.', submitted_by from budget_proposals",
    )
    .bind(moh)
    .execute(&mut *tx)
    .await;
    assert!(forged.is_err(), "a ministry cannot review its own budget");
}

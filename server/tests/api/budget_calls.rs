//! MFBM's budget call: an MFBM budget officer issues and amends it; every organization
//! reads the call and its calendar, and its own ceiling (MFBM and OCM every ceiling); the
//! database refuses the rows from anyone but MFBM; bad input gets a sentence and changes
//! nothing.

use bmms_server::db::OrgTx;
use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, Browser, TestApp};

/// A call for 2027: MOH's ceiling with a CO ceiling, MILG's in all only.
fn call_for_2027() -> Value {
    json!({
        "fiscal_year": 2027,
        "message": "Prepare your 2027 budget proposals within the ceilings below.",
        "deadlines": {
            "ppa_preparation": "2026-02-15", "bdp_certification": "2026-03-15", "budget_submission": "2026-04-30",
            "technical_review": "2026-06-15", "executive_approval": "2026-07-31", "parliament_submission": "2026-09-30"
        },
        "ceilings": [
            {"organization_code": "MOH", "total": 1_500_000_000_00_i64, "co": 400_000_000_00_i64},
            {"organization_code": "MILG", "total": 800_000_000_00_i64}
        ]
    })
}

async fn calls(app: &TestApp, who: &Browser) -> Vec<Value> {
    let response = app.get("/api/v1/budget-calls", who).await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["items"].as_array().unwrap().clone()
}

fn ceiling_codes(call: &Value) -> Vec<&str> {
    call["ceilings"].as_array().unwrap().iter().map(|c| c["organization_code"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn mfbm_issues_the_call_every_organization_reads_it_and_each_ministry_its_own_ceiling() {
    let app = spawn_app().await;
    app.create_user("MFBM", "mara", Role::MfbmBudgetOfficer).await;
    app.create_user("MOH", "sofia", Role::Supervisor).await;
    app.create_user("MILG", "milo", Role::OrgAdmin).await;
    app.create_user("MAFAR", "amir", Role::MinistryStaff).await;
    app.create_user("OCM", "olive", Role::OcmExecutive).await;
    app.create_user("BPDA", "pia", Role::BpdaPlanner).await;
    let mara = app.sign_in("mara").await;

    for who in ["sofia", "milo", "pia", "olive"] {
        let refused = app.request(Method::POST, "/api/v1/budget-calls", Some(&app.sign_in(who).await), Some(call_for_2027())).await;
        assert_eq!(error_of(refused).await.0, 403, "{who} may not issue the call");
    }
    let issued = app.request(Method::POST, "/api/v1/budget-calls", Some(&mara), Some(call_for_2027())).await;
    assert_eq!(issued.status(), 201);
    let issued: Value = issued.json().await.unwrap();
    let stages: Vec<(&str, &str)> = issued["deadlines"].as_array().unwrap().iter().map(|d| (d["name"].as_str().unwrap(), d["due"].as_str().unwrap())).collect();
    assert_eq!(stages[0], ("PPA preparation", "2026-02-15"));
    assert_eq!(stages[5], ("Parliament submission", "2026-09-30"));

    // Each reads the call; a ministry sees its own ceiling alone.
    let expected: [(&str, Vec<&str>); 6] = [
        ("mara", vec!["MILG", "MOH"]),
        ("olive", vec!["MILG", "MOH"]),
        ("sofia", vec!["MOH"]),
        ("milo", vec!["MILG"]),
        ("amir", vec![]),
        ("pia", vec![]),
    ];
    for (who, ceilings) in expected {
        let read = calls(&app, &app.sign_in(who).await).await;
        assert_eq!(read.len(), 1, "{who}");
        assert_eq!(read[0]["message"], "Prepare your 2027 budget proposals within the ceilings below.", "{who}");
        assert_eq!(read[0]["deadlines"].as_array().unwrap().len(), 6, "{who}");
        assert_eq!(ceiling_codes(&read[0]), ceilings, "{who}");
    }
    let moh = &calls(&app, &app.sign_in("sofia").await).await[0]["ceilings"][0];
    assert_eq!((moh["total"].as_i64(), moh["co"].as_i64(), moh["ps"].as_i64()), (Some(1_500_000_000_00), Some(400_000_000_00), None));

    // Amended: the audit keeps the call before and after.
    let mut amended = call_for_2027();
    amended["deadlines"]["budget_submission"] = json!("2026-05-15");
    amended["ceilings"][1]["total"] = json!(900_000_000_00_i64);
    let changed = app.request(Method::PUT, "/api/v1/budget-calls/2027", Some(&mara), Some(amended)).await;
    assert_eq!(changed.status(), 200);
    let read = calls(&app, &app.sign_in("milo").await).await;
    assert_eq!(read[0]["ceilings"][0]["total"].as_i64(), Some(900_000_000_00));
    assert_eq!(read[0]["deadlines"][2]["due"], "2026-05-15");
    let audit: Value = sqlx::query_scalar("select details from audit_log where action = 'budget_call.amend'").fetch_one(&app.owner).await.unwrap();
    assert_eq!(audit["before"]["deadlines"][2]["due"], "2026-04-30");
    assert_eq!(audit["after"]["deadlines"][2]["due"], "2026-05-15");
}

#[tokio::test]
async fn a_bad_call_gets_a_sentence_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("MFBM", "mara", Role::MfbmBudgetOfficer).await;
    let mara = app.sign_in("mara").await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut call = call_for_2027();
        change(&mut call);
        call
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("year outside the plan's", with(&|c| c["fiscal_year"] = json!(2040)), "fiscal_year"),
        ("no message", with(&|c| c["message"] = json!("  ")), "message"),
        ("a stage without a deadline", with(&|c| { c["deadlines"].as_object_mut().unwrap().remove("technical_review"); }), "deadlines"),
        ("a date that is not one", with(&|c| c["deadlines"]["technical_review"] = json!("15 June")), "deadlines"),
        ("stages out of order", with(&|c| c["deadlines"]["technical_review"] = json!("2026-01-01")), "deadlines"),
        ("an unknown stage", with(&|c| c["deadlines"]["celebration"] = json!("2026-10-01")), "deadlines"),
        ("an unknown organization", with(&|c| c["ceilings"][0]["organization_code"] = json!("MOX")), "ceilings"),
        ("an organization that proposes no budget", with(&|c| c["ceilings"][0]["organization_code"] = json!("OCM")), "ceilings"),
        ("a negative ceiling", with(&|c| c["ceilings"][1]["total"] = json!(-1)), "ceilings"),
        ("a class above the total", with(&|c| c["ceilings"][0]["co"] = json!(2_000_000_000_00_i64)), "ceilings"),
        ("two ceilings of one organization", with(&|c| c["ceilings"][1]["organization_code"] = json!("MOH")), "ceilings"),
    ];
    for (case, body, field) in cases {
        let refused = app.request(Method::POST, "/api/v1/budget-calls", Some(&mara), Some(body)).await;
        assert_eq!(refused.status(), 422, "{case}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["field"], field, "{case}: {body}");
        assert!(body["message"].as_str().unwrap().ends_with('.'), "{case}: {body}");
    }
    // Fractions of a centavo are not centavos.
    let fraction = with(&|c| c["ceilings"][1]["total"] = json!(10.5));
    let (status, _, message) = error_of(app.request(Method::POST, "/api/v1/budget-calls", Some(&mara), Some(fraction)).await).await;
    assert!((400..500).contains(&status) && !message.is_empty(), "{status} {message}");
    assert_eq!(app.count("budget_calls").await, 0);

    assert_eq!(app.request(Method::POST, "/api/v1/budget-calls", Some(&mara), Some(call_for_2027())).await.status(), 201);
    let again = app.request(Method::POST, "/api/v1/budget-calls", Some(&mara), Some(call_for_2027())).await;
    assert_eq!(error_of(again).await.0, 409, "a year has one call: amend it");
    let other_year = app.request(Method::PUT, "/api/v1/budget-calls/2028", Some(&mara), Some(with(&|c| c["fiscal_year"] = json!(2028)))).await;
    assert_eq!(error_of(other_year).await.0, 404);
    let moved = app.request(Method::PUT, "/api/v1/budget-calls/2027", Some(&mara), Some(with(&|c| c["fiscal_year"] = json!(2028)))).await;
    assert_eq!(error_of(moved).await.0, 422);
    let bad_amendment = app.request(Method::PUT, "/api/v1/budget-calls/2027", Some(&mara), Some(with(&|c| c["ceilings"][1]["total"] = json!(-5)))).await;
    assert_eq!(error_of(bad_amendment).await.0, 422);
    let read = calls(&app, &mara).await;
    assert_eq!(read[0]["ceilings"][0]["total"].as_i64(), Some(800_000_000_00), "the refused amendment changed nothing");
    assert_eq!(app.count("budget_calls").await, 1);
}

#[tokio::test]
async fn the_database_refuses_budget_call_rows_from_any_organization_but_mfbm() {
    let app = spawn_app().await;
    app.create_user("MFBM", "mara", Role::MfbmBudgetOfficer).await;
    let mara = app.sign_in("mara").await;
    assert_eq!(app.request(Method::POST, "/api/v1/budget-calls", Some(&mara), Some(call_for_2027())).await.status(), 201);
    let (moh, mfbm) = (app.org_id("MOH").await, app.org_id("MFBM").await);
    let mara_id: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'mara'").fetch_one(&app.owner).await.unwrap();
    for org in [moh, mfbm] {
        let mut tx = OrgTx::begin(app.db(), moh).await.unwrap();
        let inserted = sqlx::query("insert into budget_calls (org_id, fiscal_year, message, issued_by, updated_by) values ($1, 2028, 'A ministry''s own call', $2, $2)")
            .bind(org)
            .bind(mara_id)
            .execute(&mut *tx)
            .await;
        assert!(inserted.is_err(), "MOH wrote a call as {org}");
    }
    let mut tx = OrgTx::begin(app.db(), moh).await.unwrap();
    let raised = sqlx::query("update budget_ceilings set total = total * 2").execute(&mut *tx).await.unwrap();
    assert_eq!(raised.rows_affected(), 0, "a ministry cannot raise its own ceiling");
    let moved = sqlx::query("update budget_call_deadlines set due = due + 30").execute(&mut *tx).await.unwrap();
    assert_eq!(moved.rows_affected(), 0);
    let read: i64 = sqlx::query_scalar("select count(*) from budget_ceilings").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(read, 1, "MOH reads its own ceiling and not MILG's");
    tx.commit().await.unwrap();
}

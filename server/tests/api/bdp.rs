//! The development plan's framework: everyone reads it, a BPDA planner keeps it (and
//! PostgreSQL refuses a framework row from any other organization), bad input changes
//! nothing, and a proposal outline is scored against it.

use bmms_server::db::OrgTx;
use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, Browser, TestApp};

async fn bdp(app: &TestApp, who: &Browser) -> Value {
    let response = app.get("/api/v1/bdp", who).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn send(app: &TestApp, who: &Browser, method: Method, path: &str, body: Value) -> reqwest::Response {
    app.request(method, path, Some(who), Some(body)).await
}

#[tokio::test]
async fn everyone_reads_the_sample_framework_and_only_a_bpda_planner_changes_it() {
    let app = spawn_app().await;
    app.create_user("BPDA", "planner", Role::BpdaPlanner).await;
    app.create_user("MOH", "staff", Role::MinistryStaff).await;
    app.create_user("OCM", "analyst", Role::OcmAnalyst).await;
    app.create_user("MFBM", "budget", Role::MfbmBudgetOfficer).await;
    let (planner, staff) = (app.sign_in("planner").await, app.sign_in("staff").await);

    for who in ["planner", "staff", "analyst", "budget"] {
        let framework = bdp(&app, &app.sign_in(who).await).await;
        assert_eq!(framework["settings"]["sample"], true, "{who} sees the sample labelled as one");
        let codes: Vec<&str> = framework["goals"].as_array().unwrap().iter().map(|g| g["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["S1", "S2", "S3"], "{who}");
        assert_eq!(framework["goals"][0]["indicators"][0]["targets"], json!([{"year": 2025, "value": 85.0}, {"year": 2028, "value": 92.0}]));
        assert_eq!(framework["priorities"][0]["place_name"], "Lanao del Sur", "{who}");
    }

    let goal = json!({"code": "G9", "title": "Peace dividends reach every barangay"});
    for (who, code) in [("staff", "not_allowed"), ("budget", "not_allowed"), ("analyst", "read_only_role")] {
        let refused = send(&app, &app.sign_in(who).await, Method::POST, "/api/v1/bdp/goals", goal.clone()).await;
        assert_eq!(error_of(refused).await.1, code, "{who}");
    }
    let audited = app.count("audit_log").await;

    let created = send(&app, &planner, Method::POST, "/api/v1/bdp/goals", goal).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let goal_id = created["id"].as_str().unwrap().to_owned();
    let renamed = json!({"code": "G9", "title": "Peace dividends reach every community", "description": "Written by BPDA."});
    let renamed: Value = send(&app, &planner, Method::PUT, &format!("/api/v1/bdp/goals/{goal_id}"), renamed).await.json().await.unwrap();
    assert_eq!(renamed["title"], "Peace dividends reach every community");

    let indicator = json!({"goal_id": goal_id, "code": "G9.1", "name": "Barangays with a completed PPA", "unit": "barangays",
                           "baseline": 0, "baseline_year": 2023, "targets": [{"year": 2026, "value": 100}]});
    let indicator = send(&app, &planner, Method::POST, "/api/v1/bdp/indicators", indicator).await;
    assert_eq!(indicator.status(), 201);
    let priority = send(&app, &planner, Method::PUT, "/api/v1/bdp/priorities/1908801001", json!({"level": "high"})).await;
    assert_eq!(priority.json::<Value>().await.unwrap()["place_name"], "Dicalongan");
    let settings = json!({"title": "Bangsamoro Development Plan 2023-2028", "first_year": 2023, "last_year": 2028, "full_reach": 5000, "sample": false});
    assert_eq!(send(&app, &planner, Method::PUT, "/api/v1/bdp", settings).await.status(), 200);

    let framework = bdp(&app, &staff).await;
    assert_eq!(framework["settings"]["sample"], false);
    let g9 = framework["goals"].as_array().unwrap().iter().find(|g| g["code"] == "G9").expect("the new goal is read by a ministry");
    assert_eq!(g9["indicators"][0]["targets"], json!([{"year": 2026, "value": 100.0}]));
    assert!(framework["priorities"].as_array().unwrap().iter().any(|p| p["place_code"] == "1908801001" && p["level"] == "high"));
    let removed = app.request(Method::DELETE, "/api/v1/bdp/priorities/1908801001", Some(&planner), None).await;
    assert_eq!(removed.status(), 204);

    // The sample goes: a goal with its indicators and targets, and a lone indicator.
    let goal = |code: &str| framework["goals"].as_array().unwrap().iter().find(|g| g["code"] == code).unwrap().clone();
    let s3 = goal("S3")["id"].as_str().unwrap().to_owned();
    let s1_2 = goal("S1")["indicators"][1]["id"].as_str().unwrap().to_owned();
    let refused = app.request(Method::DELETE, &format!("/api/v1/bdp/goals/{s3}"), Some(&staff), None).await;
    assert_eq!(error_of(refused).await.1, "not_allowed");
    assert_eq!(app.request(Method::DELETE, &format!("/api/v1/bdp/goals/{s3}"), Some(&planner), None).await.status(), 204);
    assert_eq!(app.request(Method::DELETE, &format!("/api/v1/bdp/indicators/{s1_2}"), Some(&planner), None).await.status(), 204);
    assert_eq!(error_of(app.request(Method::DELETE, &format!("/api/v1/bdp/goals/{s3}"), Some(&planner), None).await).await.0, 404);
    let now = bdp(&app, &staff).await;
    let codes: Vec<&str> = now["goals"].as_array().unwrap().iter().map(|g| g["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["G9", "S1", "S2"]);
    assert_eq!(now["goals"][1]["indicators"].as_array().unwrap().len(), 1, "S1 keeps S1.1 only");
    assert_eq!(app.count("audit_log").await, audited + 8, "each change of the plan is audited");
}

#[tokio::test]
async fn the_database_refuses_framework_rows_from_any_organization_but_bpda() {
    let app = spawn_app().await;
    let (moh, bpda) = (app.org_id("MOH").await, app.org_id("BPDA").await);
    for org in [moh, bpda] {
        let mut tx = OrgTx::begin(app.db(), moh).await.unwrap();
        let inserted = sqlx::query("insert into bdp_goals (org_id, code, title) values ($1, 'X1', 'A goal of the ministry')")
            .bind(org)
            .execute(&mut *tx)
            .await;
        assert!(inserted.is_err(), "MOH wrote a goal as {org}");
    }
    let mut tx = OrgTx::begin(app.db(), moh).await.unwrap();
    let updated = sqlx::query("update bdp_goals set title = 'Changed by a ministry'").execute(&mut *tx).await.unwrap();
    assert_eq!(updated.rows_affected(), 0);
    let deleted = sqlx::query("delete from bdp_priorities").execute(&mut *tx).await.unwrap();
    assert_eq!(deleted.rows_affected(), 0);
    tx.commit().await.unwrap();

    let mut tx = OrgTx::begin(app.db(), bpda).await.unwrap();
    sqlx::query("insert into bdp_goals (org_id, code, title) values ($1, 'X1', 'A goal of the plan')").bind(bpda).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.count("bdp_goals").await, 4);
}

#[tokio::test]
async fn bad_framework_input_gets_a_sentence_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("BPDA", "planner", Role::BpdaPlanner).await;
    let planner = app.sign_in("planner").await;
    let s1 = bdp(&app, &planner).await["goals"][0]["id"].clone();
    let (goals, indicators, priorities, audited) =
        (app.count("bdp_goals").await, app.count("bdp_indicators").await, app.count("bdp_priorities").await, app.count("audit_log").await);

    let cases = [
        (Method::POST, "/api/v1/bdp/goals", json!({"code": "S1", "title": "Another goal with a taken code"}), 409, "code_taken"),
        (Method::POST, "/api/v1/bdp/goals", json!({"code": "g 1", "title": "A goal"}), 422, "invalid_field"),
        (Method::POST, "/api/v1/bdp/goals", json!({"code": "G1", "title": "  "}), 422, "invalid_field"),
        (Method::PUT, "/api/v1/bdp/goals/00000000-0000-0000-0000-000000000000", json!({"code": "G1", "title": "A goal"}), 404, "not_found"),
        (Method::POST, "/api/v1/bdp/indicators", json!({"goal_id": "00000000-0000-0000-0000-000000000000", "code": "G1.1", "name": "An indicator"}), 422, "invalid_field"),
        (Method::POST, "/api/v1/bdp/indicators", json!({"goal_id": s1, "code": "S1.9", "name": "An indicator",
                                                         "targets": [{"year": 2026, "value": 1}, {"year": 2026, "value": 2}]}), 422, "invalid_field"),
        (Method::POST, "/api/v1/bdp/indicators", json!({"goal_id": s1, "code": "S1.1", "name": "A taken code"}), 409, "code_taken"),
        (Method::PUT, "/api/v1/bdp/priorities/0906600000", json!({"level": "high"}), 422, "invalid_field"),
        (Method::PUT, "/api/v1/bdp/priorities/1908801001", json!({"level": "urgent"}), 422, "invalid_body"),
        (Method::PUT, "/api/v1/bdp", json!({"title": "The plan", "first_year": 2028, "last_year": 2023, "full_reach": 10}), 422, "invalid_field"),
        (Method::PUT, "/api/v1/bdp", json!({"title": "The plan", "first_year": 2023, "last_year": 2028, "full_reach": 0}), 422, "invalid_field"),
    ];
    for (method, path, body, status, code) in cases {
        let answer = send(&app, &planner, method.clone(), path, body.clone()).await;
        let (got_status, got_code, message) = error_of(answer).await;
        assert_eq!((got_status, got_code.as_str()), (status, code), "{method} {path} {body}: {message}");
        assert!(message.ends_with('.') && !message.contains("sqlx") && !message.contains("violat"), "{message}");
    }
    let after = (app.count("bdp_goals").await, app.count("bdp_indicators").await, app.count("bdp_priorities").await, app.count("audit_log").await);
    assert_eq!(after, (goals, indicators, priorities, audited));
}

#[tokio::test]
async fn a_proposal_outline_is_scored_against_the_framework() {
    let app = spawn_app().await;
    app.create_user("MOH", "staff", Role::MinistryStaff).await;
    let staff = app.sign_in("staff").await;
    // S1 served through both its indicators, in a barangay of the sample's high-priority
    // province, with the sample's full reach.
    let full = json!({"goals": ["S1"], "indicators": {"S1.1": 2.5, "S1.2": 40}, "places": ["1908801001"], "beneficiaries": 2000});
    let score: Value = send(&app, &staff, Method::POST, "/api/v1/bdp/score", full).await.json().await.unwrap();
    assert_eq!((score["total"].as_u64(), score["certifiable"].as_bool()), (Some(10_000), Some(true)), "{score}");

    // Half the beneficiaries, and a place of the medium-priority province: 40 + 30 + 9 + 7.5.
    let partial = json!({"goals": ["S1"], "indicators": {"S1.1": 2.5, "S1.2": 40}, "places": ["1903601005"], "beneficiaries": 1000});
    let score: Value = send(&app, &staff, Method::POST, "/api/v1/bdp/score", partial).await.json().await.unwrap();
    assert_eq!((score["total"].as_u64(), score["certifiable"].as_bool()), (Some(8_650), Some(true)), "{score}");
    let reach = score["components"].as_array().unwrap().iter().find(|c| c["name"] == "beneficiary_reach").unwrap();
    assert_eq!(reach["to_raise"], "1000 more beneficiaries would earn full marks.");
}

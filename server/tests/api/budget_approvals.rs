//! The last stages of a year's budget: OCM's executive approval of a budget MFBM
//! recommended (an executive's, not an analyst's; once), MFBM's submission of the approved
//! budgets to Parliament (once), and the expenditure program they make, as JSON and CSV;
//! each decision is its maker's own row, which no other organization can write.

use bmms_server::db::OrgTx;
use bmms_shared::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::budget_proposals::{fiscal_year, submitted_budget};
use crate::helpers::error_of;

#[tokio::test]
async fn ocm_approves_a_recommended_budget_mfbm_sends_the_approved_to_parliament_and_the_program_adds_up() {
    let m = submitted_budget().await;
    let year = fiscal_year();
    m.app.create_user("OCM", "olive", Role::OcmExecutive).await;
    m.app.create_user("OCM", "oscar", Role::OcmAnalyst).await;
    let (olive, oscar) = (m.app.sign_in("olive").await, m.app.sign_in("oscar").await);
    let approve = |code: &str| format!("/api/v1/budget-approvals/{year}/{code}");

    // Not recommended yet: nothing to approve, nothing for Parliament.
    assert_eq!(error_of(m.app.request(Method::POST, &approve("MOH"), Some(&olive), None).await).await.1, "not_recommended");
    let parliament = format!("/api/v1/expenditure-program/{year}/parliament");
    assert_eq!(error_of(m.app.request(Method::POST, &parliament, Some(&m.mara), None).await).await.1, "nothing_approved");
    let review = json!({"decision": "recommended", "comments": "Within the ceiling."});
    let reviewed = m.app.request(Method::POST, &format!("/api/v1/budget-submissions/{year}/MOH/review"), Some(&m.mara), Some(review)).await;
    assert_eq!(reviewed.status(), 201);

    let listed: Value = m.app.get(&format!("/api/v1/budget-approvals?year={year}"), &oscar).await.json().await.unwrap();
    let moh = &listed["items"][0];
    assert_eq!((moh["organization_code"].as_str(), moh["total"].as_i64(), moh["comments"].as_str()), (Some("MOH"), Some(1_300_000_00), Some("Within the ceiling.")));
    assert_eq!(error_of(m.app.request(Method::POST, &approve("MOH"), Some(&oscar), None).await).await.1, "not_allowed", "an analyst reads; an executive decides");
    assert_eq!(error_of(m.app.request(Method::POST, &approve("MOH"), Some(&m.mara), None).await).await.1, "not_allowed");
    assert_eq!(m.app.request(Method::POST, &approve("MOH"), Some(&olive), None).await.status(), 201);
    assert_eq!(error_of(m.app.request(Method::POST, &approve("MOH"), Some(&olive), None).await).await.1, "already_approved");
    assert_eq!(error_of(m.app.request(Method::POST, &approve("MILG"), Some(&olive), None).await).await.1, "not_recommended");
    let budget = m.budget(&m.sofia).await;
    assert!(budget["approved_by"].is_string() && budget["in_parliament_at"].is_null(), "{budget}");

    // To Parliament, once; the program: MOH's PPA in CO and MOOE, by quarter.
    assert_eq!(error_of(m.app.request(Method::POST, &parliament, Some(&olive), None).await).await.0, 403);
    assert_eq!(m.app.request(Method::POST, &parliament, Some(&m.mara), None).await.status(), 201);
    assert_eq!(error_of(m.app.request(Method::POST, &parliament, Some(&m.mara), None).await).await.1, "already_in_parliament");
    let program: Value = m.app.get(&format!("/api/v1/expenditure-program/{year}"), &olive).await.json().await.unwrap();
    let lines: Vec<(&str, Value)> = program["lines"].as_array().unwrap().iter().map(|l| (l["class"].as_str().unwrap(), l["quarters"].clone())).collect();
    assert_eq!(lines, [("CO", json!([0, 0, 1_000_000_00_i64, 0])), ("MOOE", json!([0, 300_000_00, 0, 0]))]);
    assert_eq!((program["total"].as_i64(), &program["by_class"]), (Some(1_300_000_00), &json!([0, 300_000_00, 1_000_000_00_i64])));
    assert_eq!(program["by_organization"][0]["organization_code"], "MOH");
    assert!(program["submitted_to_parliament_at"].is_string());
    let csv = m.app.get(&format!("/api/v1/expenditure-program/{year}/export?format=csv"), &m.mara).await.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(rows[1].contains(",MOH,") && rows[1].contains(",Health stations,CO,0.00,0.00,1000000.00,0.00,1000000.00"), "{csv}");
    assert!(rows[3].ends_with(",ALL,,Total,,0.00,300000.00,1000000.00,0.00,1300000.00"), "{csv}");
    let json_export: Value = m.app.get(&format!("/api/v1/expenditure-program/{year}/export?format=json"), &oscar).await.json().await.unwrap();
    assert_eq!(json_export, program);
    assert_eq!(error_of(m.app.get(&format!("/api/v1/expenditure-program/{year}"), &m.sofia).await).await.0, 403, "a ministry reads its own budget");
    assert!(m.budget(&m.sofia).await["in_parliament_at"].is_string());

    // Each decision is its maker's row: MOH cannot approve itself, OCM cannot review.
    let (moh_id, ocm_id) = (m.app.org_id("MOH").await, m.app.org_id("OCM").await);
    let forgeries = [
        (moh_id, "insert into budget_approvals (org_id, budget_proposal_id, proposal_org_id, submitted_at, approved_by)
                  select $1, id, org_id, now(), submitted_by from budget_proposals"),
        (ocm_id, "insert into budget_reviews (org_id, budget_proposal_id, proposal_org_id, submitted_at, decision, comments, reviewed_by)
                  select $1, id, org_id, now(), 'recommended', 'By OCM.', submitted_by from budget_proposals"),
    ];
    for (org, forgery) in forgeries {
        let mut tx = OrgTx::begin(m.app.db(), org).await.unwrap();
        assert!(sqlx::query(forgery).bind(org).execute(&mut *tx).await.is_err(), "{forgery}");
    }
}

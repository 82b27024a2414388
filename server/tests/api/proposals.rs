//! PPA proposals through sync: two staff co-editing offline merge, the same cost cell
//! edited twice is one conflict, a submitted proposal refuses a device's edit for that
//! record only, and an app of protocol 1 keeps syncing without being sent proposals.

use bmms_server::db::OrgTx;
use bmms_server::sync::desk_edit;
use bmms_shared::records::ppa::cost_field;
use bmms_shared::records::{self, FieldValue, RecordKind};
use bmms_shared::sync::protocol::{self, RejectionCode, SyncRequest, SyncResponse};
use bmms_shared::{BatchId, DocId, Role, UserId};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};
use crate::sync::{post_sync, set, Device};

async fn two_staff(app: &TestApp) -> (Device, Device) {
    app.create_user("MOH", "sara", Role::MinistryStaff).await;
    app.create_user("MOH", "omar", Role::MinistryStaff).await;
    (Device::register(app, "sara").await, Device::register(app, "omar").await)
}

/// A proposal drafted on `device` and synced.
async fn drafted(app: &TestApp, device: &mut Device) -> DocId {
    let doc = DocId(Uuid::new_v4());
    device.client.create(doc, RecordKind::PpaProposal);
    set(device, doc, "title", FieldValue::Text("Barangay health stations for Datu Piang".into()));
    set(device, doc, "goals", FieldValue::TextList(vec!["S2".into()]));
    set(device, doc, &cost_field(2026, 1, "co"), FieldValue::Integer(5_000_000_00));
    device.sync(app).await;
    doc
}

#[derive(sqlx::FromRow, Debug, PartialEq)]
struct ProposalRow {
    title: Option<String>,
    beneficiaries: Option<i32>,
    goals: Vec<String>,
    total_cost: i64,
}

async fn row(app: &TestApp, doc: DocId) -> ProposalRow {
    sqlx::query_as("select title, beneficiaries, goals, total_cost from ppa_proposals where id = $1")
        .bind(doc)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn two_staff_editing_offline_merge_and_the_same_cost_cell_is_one_conflict() {
    let app = spawn_app().await;
    let (mut sara, mut omar) = two_staff(&app).await;
    let doc = drafted(&app, &mut sara).await;
    omar.sync(&app).await;
    assert!(omar.client.documents().contains_key(&doc), "the colleague's device receives the draft");

    // Offline, both change the same cost cell, and one other field each.
    set(&mut sara, doc, &cost_field(2026, 2, "mooe"), FieldValue::Integer(100_000_00));
    set(&mut sara, doc, "beneficiaries", FieldValue::Integer(4_000));
    set(&mut omar, doc, &cost_field(2026, 2, "mooe"), FieldValue::Integer(120_000_00));
    set(&mut omar, doc, "partners", FieldValue::TextList(vec!["MILG".into()]));
    sara.sync(&app).await;
    omar.sync(&app).await;
    sara.sync(&app).await;

    let stored = row(&app, doc).await;
    assert_eq!(stored.beneficiaries, Some(4_000), "Sara's field kept");
    assert_eq!(stored.goals, ["S2"]);
    assert!([5_100_000_00, 5_120_000_00].contains(&stored.total_cost), "one of the two costs stands until settled: {}", stored.total_cost);
    let conflicts: Vec<String> = sqlx::query_scalar("select field from conflicts where doc_id = $1 and resolved_at is null")
        .bind(doc)
        .fetch_all(&app.owner)
        .await
        .unwrap();
    assert_eq!(conflicts, [cost_field(2026, 2, "mooe")], "one conflict, on the cost cell both changed");
    app.create_user("MOH", "sofia", Role::Supervisor).await;
    let refused = submit(&app, &app.sign_in("sofia").await, doc).await;
    assert_eq!(crate::helpers::error_of(refused).await.1, "open_conflicts", "BPDA receives one version, not a conflict");
    let partners: Vec<String> = sqlx::query_scalar("select partners from ppa_proposals where id = $1").bind(doc).fetch_one(&app.owner).await.unwrap();
    assert_eq!(partners, ["MILG"], "Omar's field kept");
    for device in [&sara, &omar] {
        let local = &device.client.documents()[&doc];
        assert_eq!(records::get(local.doc(), "beneficiaries"), Some(FieldValue::Integer(4_000)));
        assert_eq!(records::get(local.doc(), "partners"), Some(FieldValue::TextList(vec!["MILG".into()])));
        assert_eq!(local.conflicts.len(), 1, "each device shows the one conflict");
    }
}

#[tokio::test]
async fn a_submitted_proposal_refuses_a_devices_edit_for_that_record_only() {
    let app = spawn_app().await;
    let (mut sara, _omar) = two_staff(&app).await;
    let doc = drafted(&app, &mut sara).await;
    // Submitted at the desk, as the submit route does it (its checks are tested below).
    let supervisor = app.create_user("MOH", "sofia", Role::Supervisor).await;
    let mut tx = OrgTx::begin(app.db(), app.org_id("MOH").await).await.unwrap();
    let submit = Box::new(|d: &mut automerge::AutoCommit| desk_edit::set_fields(d, vec![("status", FieldValue::Choice("submitted".into()))]));
    desk_edit::edit(&mut tx, doc, UserId(supervisor), submit).await.unwrap().expect("the proposal exists");
    tx.commit().await.unwrap();

    let other = DocId(Uuid::new_v4());
    sara.client.create(other, RecordKind::PpaProposal);
    set(&mut sara, doc, "title", FieldValue::Text("Changed after submission".into()));
    sara.sync(&app).await;

    let (refused, waiting) = sara.client.outbox().get(&doc).map(|c| (c.iter().filter(|c| c.rejected.is_some()).count(), c.len())).unwrap_or_default();
    assert_eq!((refused, waiting), (1, 1), "the edit is kept on the device, marked refused");
    let reason = sara.client.outbox()[&doc][0].rejected.clone().unwrap();
    assert_eq!(reason.code, RejectionCode::NotAllowed);
    assert!(reason.message.contains("submitted"), "{}", reason.message);
    assert!(!sara.client.outbox().contains_key(&other), "the other proposal synced");
    assert_eq!(row(&app, doc).await.title.as_deref(), Some("Barangay health stations for Datu Piang"), "the submitted version stands");
}

#[tokio::test]
async fn an_app_of_protocol_1_keeps_syncing_and_is_not_sent_proposals() {
    let app = spawn_app().await;
    let (mut sara, _omar) = two_staff(&app).await;
    drafted(&app, &mut sara).await;
    app.create_user("MOH", "fatima", Role::Supervisor).await;
    let old = Device::register(&app, "fatima").await;
    let assessment = DocId(Uuid::new_v4());
    let mut newer = Device::register(&app, "fatima").await;
    newer.client.create(assessment, RecordKind::ManaAssessment);
    newer.sync(&app).await;

    let request = SyncRequest { device_id: old.client.device_id(), batch_id: BatchId(Uuid::new_v4()), cursor: 0, documents: vec![], scope_version: 0 };
    let response = post_sync(&app, &old.browser, protocol::encode_as(1, &request)).await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes[0], 1, "answered in the version it speaks");
    let answer: SyncResponse = protocol::decode(&bytes).unwrap();
    let kinds: Vec<RecordKind> = answer.updates.iter().map(|u| u.kind).collect();
    assert_eq!(kinds, [RecordKind::ManaAssessment], "the assessment, and no proposal");
}

/// Every part BPDA needs, against the sample framework: goal S2 through its indicator
/// S2.1, a barangay of the sample's high-priority province, full reach.
pub fn complete(device: &mut Device, doc: DocId) {
    let text = |s: &str| FieldValue::Text(s.into());
    set(device, doc, "title", text("Barangay health stations for Datu Piang"));
    set(device, doc, "ppa_type", FieldValue::Choice("project".into()));
    set(device, doc, "sector", FieldValue::Choice("social_services".into()));
    set(device, doc, "description", text("Four stations staffed by the municipal health office."));
    set(device, doc, "goals", FieldValue::TextList(vec!["S2".into()]));
    set(device, doc, "indicator.1.code", text("S2.1"));
    set(device, doc, "indicator.1.contribution", FieldValue::Decimal(3.0));
    set(device, doc, "places", FieldValue::TextList(vec!["1908801001".into()]));
    set(device, doc, "beneficiaries", FieldValue::Integer(2_000));
    set(device, doc, "start_date", FieldValue::Date("2026-01-15".into()));
    set(device, doc, "end_date", FieldValue::Date("2027-06-30".into()));
    set(device, doc, &cost_field(2026, 1, "co"), FieldValue::Integer(5_000_000_00));
}

pub async fn submit(app: &TestApp, who: &crate::helpers::Browser, doc: DocId) -> reqwest::Response {
    app.request(reqwest::Method::POST, &format!("/api/v1/proposals/{doc}/submit"), Some(who), None).await
}

#[tokio::test]
async fn a_supervisor_submits_a_complete_proposal_which_freezes_it_and_bpda_and_mfbm_see_it() {
    let app = spawn_app().await;
    let (mut sara, _omar) = two_staff(&app).await;
    app.create_user("MOH", "sofia", Role::Supervisor).await;
    app.create_user("BPDA", "pia", Role::BpdaPlanner).await;
    app.create_user("MFBM", "mara", Role::MfbmBudgetOfficer).await;
    app.create_user("OCM", "omar.analyst", Role::OcmAnalyst).await;
    let doc = DocId(Uuid::new_v4());
    sara.client.create(doc, RecordKind::PpaProposal);
    complete(&mut sara, doc);
    sara.sync(&app).await;

    let refused = submit(&app, &sara.browser, doc).await;
    assert_eq!(crate::helpers::error_of(refused).await.1, "not_allowed", "ministry staff draft; a supervisor submits");
    let sofia = app.sign_in("sofia").await;
    let submitted = submit(&app, &sofia, doc).await;
    assert_eq!(submitted.status(), 201);
    let submitted: serde_json::Value = submitted.json().await.unwrap();
    // 40 (S2 served) + 15 (one of S2's two indicators) + 15 (high priority) + 15 (full reach).
    assert_eq!((submitted["version"].as_i64(), submitted["score"]["total"].as_u64()), (Some(1), Some(8_500)), "{submitted}");
    let again = submit(&app, &sofia, doc).await;
    assert_eq!(crate::helpers::error_of(again).await.1, "already_submitted");

    // Frozen: an edit from a device is refused for this proposal, and kept there.
    set(&mut sara, doc, "beneficiaries", FieldValue::Integer(9_000));
    sara.sync(&app).await;
    assert!(sara.client.outbox()[&doc][0].rejected.is_some());

    for who in ["pia", "mara"] {
        let queue: serde_json::Value = app.get("/api/v1/proposals/queue", &app.sign_in(who).await).await.json().await.unwrap();
        let items = queue["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{who}: {queue}");
        assert_eq!((items[0]["organization_code"].as_str(), items[0]["score"].as_u64()), (Some("MOH"), Some(8_500)), "{who}");
        assert_eq!(items[0]["title"], "Barangay health stations for Datu Piang");
        assert_eq!(items[0]["total_cost"], 5_000_000_00i64);
    }
    for (who, code) in [(&sofia, "not_allowed"), (&app.sign_in("omar.analyst").await, "read_only_role")] {
        assert_eq!(crate::helpers::error_of(app.get("/api/v1/proposals/queue", who).await).await.1, code);
    }
    // PostgreSQL holds the submissions to their organization, BPDA and MFBM.
    for (org, seen) in [("MILG", 0), ("OCM", 0), ("BPDA", 1), ("MFBM", 1), ("MOH", 1)] {
        let mut tx = OrgTx::begin(app.db(), app.org_id(org).await).await.unwrap();
        let count: i64 = sqlx::query_scalar("select count(*) from ppa_submissions").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(count, seen, "{org}");
        let proposals: i64 = sqlx::query_scalar("select count(*) from ppa_proposals").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(proposals, i64::from(org == "MOH"), "{org} reads no other organization's proposals");
    }
}

#[tokio::test]
async fn an_incomplete_or_wrong_proposal_is_refused_with_the_part_to_fix_and_stays_a_draft() {
    let app = spawn_app().await;
    let (mut sara, _omar) = two_staff(&app).await;
    app.create_user("MOH", "sofia", Role::Supervisor).await;
    let sofia = app.sign_in("sofia").await;
    let text = |s: &str| FieldValue::Text(s.into());
    let cases: Vec<(String, FieldValue, &str)> = vec![
        ("title".to_owned(), text(" "), "title"),
        ("goals".to_owned(), FieldValue::TextList(vec!["S9".into()]), "goals"),
        ("indicator.1.code".to_owned(), text("S1.1"), "indicators"),
        ("indicator.1.contribution".to_owned(), FieldValue::Decimal(0.0), "indicators"),
        ("places".to_owned(), FieldValue::TextList(vec!["0906600000".into()]), "places"),
        ("beneficiaries".to_owned(), FieldValue::Integer(0), "beneficiaries"),
        ("end_date".to_owned(), FieldValue::Date("2025-12-31".into()), "end_date"),
        (cost_field(2026, 1, "co"), FieldValue::Integer(0), "cost"),
    ];
    for (field, value, about) in cases {
        let doc = DocId(Uuid::new_v4());
        sara.client.create(doc, RecordKind::PpaProposal);
        complete(&mut sara, doc);
        set(&mut sara, doc, &field, value);
        sara.sync(&app).await;
        let answer = submit(&app, &sofia, doc).await;
        assert_eq!(answer.status(), 422, "{field}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["field"], about, "{field}: {body}");
        assert!(body["message"].as_str().unwrap().ends_with('.'), "{body}");
    }
    assert_eq!(app.count("ppa_submissions").await, 0);
    let drafts: i64 = sqlx::query_scalar("select count(*) from ppa_proposals where status = 'draft'").fetch_one(&app.owner).await.unwrap();
    assert_eq!(drafts, 8, "every refused proposal stays a draft");
}

async fn partnered(app: &TestApp, who: &crate::helpers::Browser) -> Vec<serde_json::Value> {
    let list: serde_json::Value = app.get("/api/v1/proposals/partnered", who).await.json().await.unwrap();
    list["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_partner_named_in_a_proposal_reads_it_and_no_other_organization_does() {
    let app = spawn_app().await;
    let (mut sara, _omar) = two_staff(&app).await;
    app.create_user("MILG", "mila", Role::MinistryStaff).await;
    app.create_user("MSSD", "sam", Role::MinistryStaff).await;
    let doc = DocId(Uuid::new_v4());
    sara.client.create(doc, RecordKind::PpaProposal);
    complete(&mut sara, doc);
    // Typed in small letters with a space: still MILG.
    set(&mut sara, doc, "partners", FieldValue::TextList(vec![" milg".into()]));
    sara.sync(&app).await;
    let (mila, sam) = (app.sign_in("mila").await, app.sign_in("sam").await);

    let read = partnered(&app, &mila).await;
    assert_eq!(read.len(), 1);
    assert_eq!((read[0]["organization_code"].as_str(), read[0]["status"].as_str()), (Some("MOH"), Some("draft")));
    assert_eq!(read[0]["content"]["description"], "Four stations staffed by the municipal health office.");
    assert_eq!(read[0]["content"][cost_field(2026, 1, "co")], 5_000_000_00i64);
    assert!(partnered(&app, &sam).await.is_empty(), "an organization the proposal does not name reads nothing");
    assert!(partnered(&app, &sara.browser).await.is_empty(), "the organization's own proposals are not partnered");

    // Read, not edit: PostgreSQL gives the partner no write, and the document stays home.
    let mut tx = OrgTx::begin(app.db(), app.org_id("MILG").await).await.unwrap();
    let updated = sqlx::query("update ppa_proposals set title = 'Changed by a partner'").execute(&mut *tx).await.unwrap();
    let documents: i64 = sqlx::query_scalar("select count(*) from documents").fetch_one(&mut *tx).await.unwrap();
    assert_eq!((updated.rows_affected(), documents), (0, 0));
    tx.commit().await.unwrap();

    // Named no longer, read no longer.
    set(&mut sara, doc, "partners", FieldValue::TextList(vec!["MSSD".into()]));
    sara.sync(&app).await;
    assert!(partnered(&app, &mila).await.is_empty());
    assert_eq!(partnered(&app, &sam).await.len(), 1);
}

#[tokio::test]
async fn the_multi_year_plan_lays_out_the_organizations_proposals_by_year_under_their_goals() {
    let app = spawn_app().await;
    let (mut sara, _omar) = two_staff(&app).await;
    app.create_user("MILG", "mila", Role::MinistryStaff).await;
    let stations = DocId(Uuid::new_v4());
    sara.client.create(stations, RecordKind::PpaProposal);
    complete(&mut sara, stations);
    set(&mut sara, stations, &cost_field(2028, 3, "mooe"), FieldValue::Integer(250_000_00));
    let idea = DocId(Uuid::new_v4());
    sara.client.create(idea, RecordKind::PpaProposal);
    set(&mut sara, idea, "title", FieldValue::Text("An idea without a goal yet".into()));
    set(&mut sara, idea, &cost_field(2027, 1, "ps"), FieldValue::Integer(10_000_00));
    sara.sync(&app).await;

    let plan: serde_json::Value = app.get("/api/v1/proposals/plan", &sara.browser).await.json().await.unwrap();
    assert_eq!(plan["years"], serde_json::json!([2026, 2027, 2028]), "{plan}");
    let goals = plan["goals"].as_array().unwrap();
    assert_eq!((goals[0]["code"].as_str(), goals[1]["code"].as_str()), (Some("S2"), Some("")), "{plan}");
    assert_eq!(goals[0]["proposals"][0]["by_year"], serde_json::json!([5_000_000_00i64, 0, 250_000_00]));
    assert_eq!(goals[0]["by_year"], serde_json::json!([5_000_000_00i64, 0, 250_000_00]));
    assert_eq!(goals[1]["proposals"][0]["title"], "An idea without a goal yet");
    assert_eq!(goals[1]["by_year"], serde_json::json!([0, 10_000_00, 0]));

    let elsewhere: serde_json::Value = app.get("/api/v1/proposals/plan", &app.sign_in("mila").await).await.json().await.unwrap();
    assert_eq!(elsewhere, serde_json::json!({"years": [], "goals": []}), "another organization's plan holds none of these");
}

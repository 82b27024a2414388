//! BPDA's review of a submitted proposal, through real HTTP and real devices' syncs: a
//! planner adjusts a component with a reason and certifies at 80.00 (not at 79.99); the
//! certificate checks out until the proposal changes, and a tampered one says so; a
//! version is decided once; a proposal sent back can be edited again once its devices
//! sync; PostgreSQL shows the review to the proposing organization, BPDA and MFBM alone;
//! and the year's Annual Investment Program holds the certified and pending PPAs.

use bmms_server::db::OrgTx;
use bmms_shared::records::{self, FieldValue, RecordKind};
use bmms_shared::{DocId, Role};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{error_of, spawn_app, Browser, TestApp};
use crate::proposals::{complete, submit};
use crate::sync::{set, Device};

struct World {
    app: TestApp,
    sara: Device,
    sofia: Browser,
    pia: Browser,
    mara: Browser,
    doc: DocId,
    submission: String,
}

/// MOH's complete proposal with `beneficiaries`, drafted on Sara's device and submitted
/// by her supervisor; BPDA's planner and MFBM's budget officer signed in.
async fn submitted_with(beneficiaries: i64) -> World {
    let app = spawn_app().await;
    app.create_user("MOH", "sara", Role::MinistryStaff).await;
    app.create_user("MOH", "sofia", Role::Supervisor).await;
    app.create_user("BPDA", "pia", Role::BpdaPlanner).await;
    app.create_user("MFBM", "mara", Role::MfbmBudgetOfficer).await;
    let mut sara = Device::register(&app, "sara").await;
    let doc = DocId(Uuid::new_v4());
    sara.client.create(doc, RecordKind::PpaProposal);
    complete(&mut sara, doc);
    set(&mut sara, doc, "beneficiaries", FieldValue::Integer(beneficiaries));
    sara.sync(&app).await;
    let sofia = app.sign_in("sofia").await;
    let answer = submit(&app, &sofia, doc).await;
    assert_eq!(answer.status(), 201);
    let submission = answer.json::<Value>().await.unwrap()["submission_id"].as_str().unwrap().to_owned();
    let (pia, mara) = (app.sign_in("pia").await, app.sign_in("mara").await);
    World { app, sara, sofia, pia, mara, doc, submission }
}

impl World {
    async fn post(&self, who: &Browser, action: &str, body: Option<Value>) -> reqwest::Response {
        let path = format!("/api/v1/submissions/{}/{action}", self.submission);
        self.app.request(reqwest::Method::POST, &path, Some(who), body).await
    }

    async fn adjust(&self, component: &str, value: u32, reason: &str) -> reqwest::Response {
        self.post(&self.pia, "adjustments", Some(json!({"component": component, "value": value, "reason": reason}))).await
    }

    async fn standing(&self) -> Value {
        let answer = self.app.get(&format!("/api/v1/proposals/{}/standing", self.doc), &self.sofia).await;
        assert_eq!(answer.status(), 200);
        answer.json().await.unwrap()
    }

    async fn verify(&self, certificate: &Value) -> Value {
        let answer = self.app.request(reqwest::Method::POST, "/api/v1/certifications/verify", None, Some(certificate.clone())).await;
        assert_eq!(answer.status(), 200);
        answer.json().await.unwrap()
    }

    fn status_on_the_device(&self) -> Option<FieldValue> {
        records::get(self.sara.client.documents()[&self.doc].doc(), "status")
    }
}

#[tokio::test]
async fn a_planner_certifies_at_80_the_moa_and_mfbm_see_it_and_an_edit_voids_it() {
    let mut w = submitted_with(1).await;
    // 40 (goal) + 15 (one of two indicators) + 15 (high priority) + 0 (1 of 2,000 reached).
    let review: Value = w.app.get(&format!("/api/v1/submissions/{}", w.submission), &w.pia).await.json().await.unwrap();
    assert_eq!((review["score"]["total"].as_u64(), review["decision"].is_null()), (Some(7_000), true), "{review}");
    assert_eq!(review["content"]["title"], "Barangay health stations for Datu Piang");

    // Bad adjustments change nothing.
    let (status, code, message) = error_of(w.adjust("beneficiary_reach", 6_666, "  ").await).await;
    assert_eq!((status, code.as_str()), (422, "reason_required"), "{message}");
    let (status, _, message) = error_of(w.adjust("beneficiary_reach", 10_001, "More than full").await).await;
    assert!(status == 422 && message.contains("at most 100.00"), "{message}");
    let (status, code, _) = error_of(w.post(&w.mara, "adjustments", Some(json!({"component": "goal_match", "value": 0, "reason": "r"}))).await).await;
    assert_eq!((status, code.as_str()), (403, "not_allowed"), "MFBM reads; BPDA reviews");

    // 79.99 is refused, 80.00 certified.
    let reason = "The stations serve the two neighbouring barangays too (municipal health office letter).";
    assert_eq!(w.adjust("beneficiary_reach", 6_666, reason).await.status(), 200);
    let (status, code, message) = error_of(w.post(&w.pia, "certify", None).await).await;
    assert_eq!((status, code.as_str()), (422, "below_threshold"));
    assert!(message.contains("79.99") && message.contains("80.00"), "{message}");
    let adjusted: Value = w.adjust("beneficiary_reach", 6_667, reason).await.json().await.unwrap();
    assert_eq!(adjusted["score"]["total"], 8_000);
    assert_eq!(adjusted["adjustments"][1]["from"], 6_666);
    assert_eq!(adjusted["computed_total"], 7_000, "the computed score is kept beside the adjusted one");

    let certified = w.post(&w.pia, "certify", None).await;
    assert_eq!(certified.status(), 201);
    let certified: Value = certified.json().await.unwrap();
    let certificate = certified["decision"]["certificate"].clone();
    assert_eq!((certificate["score"].as_u64(), certificate["organization_code"].as_str()), (Some(8_000), Some("MOH")));
    assert_eq!(certified["decision"]["current"], true);
    for again in ["certify", "return"] {
        let body = (again == "return").then(|| json!({"reasons": "Too late"}));
        let (status, code, message) = error_of(w.post(&w.pia, again, body).await).await;
        assert_eq!((status, code.as_str()), (409, "already_decided"), "{again}");
        assert!(message.contains("already certified version 1"), "{message}");
    }
    assert_eq!(error_of(w.adjust("goal_match", 0, "After the fact").await).await.1, "already_decided");

    // The certificate checks out, publicly; a tampered one says what failed.
    let verdict = w.verify(&certificate).await;
    assert_eq!((verdict["valid"].as_bool(), verdict["proposal_unchanged"].as_bool()), (Some(true), Some(true)), "{verdict}");
    let mut tampered = certificate.clone();
    tampered["total_cost"] = json!(9_000_000_000_00i64);
    let verdict = w.verify(&tampered).await;
    assert_eq!((verdict["valid"].as_bool(), verdict["signature_matches"].as_bool()), (Some(false), Some(false)));
    assert!(verdict["finding"].as_str().unwrap().contains("changed after BPDA signed it"), "{verdict}");

    // MFBM is told: the certification is in its list. The queue is empty again.
    let list: Value = w.app.get("/api/v1/certifications", &w.mara).await.json().await.unwrap();
    assert_eq!((list["items"].as_array().unwrap().len(), list["items"][0]["current"].as_bool()), (1, Some(true)), "{list}");
    let queue: Value = w.app.get("/api/v1/proposals/queue", &w.pia).await.json().await.unwrap();
    assert!(queue["items"].as_array().unwrap().is_empty());

    // The MOA's devices take the decision at their next sync; the certificate is theirs to see.
    w.sara.sync(&w.app).await;
    assert_eq!(w.status_on_the_device(), Some(FieldValue::Choice("certified".into())));
    let view: Value = w.app.get("/api/v1/implementation", &w.sofia).await.json().await.unwrap();
    let row = &view["rows"]["items"][0];
    assert_eq!((row["status"].as_str(), row["certification_void"].as_bool()), (Some("certified"), Some(false)), "{view}");
    let standing = w.standing().await;
    assert_eq!(standing["submission"]["decision"]["certificate"], certificate);
    assert_eq!(w.verify(&certificate).await["valid"], true, "writing the decision in does not void it");

    // An edit voids it, visibly, and the proposal can go to BPDA again.
    let (status, code, _) = error_of(submit(&w.app, &w.sofia, w.doc).await).await;
    assert_eq!((status, code.as_str()), (409, "already_certified"));
    set(&mut w.sara, w.doc, "beneficiaries", FieldValue::Integer(2_000));
    w.sara.sync(&w.app).await;
    assert!(w.sara.client.outbox().is_empty(), "a certified proposal takes edits");
    let verdict = w.verify(&certificate).await;
    assert_eq!((verdict["signature_matches"].as_bool(), verdict["valid"].as_bool()), (Some(true), Some(false)));
    assert!(verdict["finding"].as_str().unwrap().contains("void"), "{verdict}");
    assert_eq!(w.standing().await["submission"]["decision"]["current"], false);
    // The implementation view says so beside the status the document still has.
    let view: Value = w.app.get("/api/v1/implementation", &w.sofia).await.json().await.unwrap();
    let row = &view["rows"]["items"][0];
    assert_eq!((row["status"].as_str(), row["certification_void"].as_bool()), (Some("certified"), Some(true)), "{view}");
    let list: Value = w.app.get("/api/v1/certifications", &w.mara).await.json().await.unwrap();
    assert_eq!(list["items"][0]["current"], false);
    let again = submit(&w.app, &w.sofia, w.doc).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.json::<Value>().await.unwrap()["version"], 2);
}

#[tokio::test]
async fn bpda_sends_a_proposal_back_with_reasons_and_its_devices_may_edit_it_again() {
    let mut w = submitted_with(2_000).await;
    let (status, code, _) = error_of(w.post(&w.pia, "return", Some(json!({"reasons": " "}))).await).await;
    assert_eq!((status, code.as_str()), (422, "reasons_required"));
    // An edit made while BPDA has it is refused and kept on the device.
    set(&mut w.sara, w.doc, "title", FieldValue::Text("Health stations, revised".into()));
    w.sara.sync(&w.app).await;
    assert!(w.sara.client.outbox()[&w.doc][0].rejected.is_some());

    let reasons = "Name the barangays of the four stations; the costs for 2027 are missing.";
    let returned: Value = w.post(&w.pia, "return", Some(json!({"reasons": reasons}))).await.json().await.unwrap();
    assert_eq!((returned["decision"]["decision"].as_str(), returned["decision"]["reasons"].as_str()), (Some("returned"), Some(reasons)));
    let queue: Value = w.app.get("/api/v1/proposals/queue", &w.pia).await.json().await.unwrap();
    assert!(queue["items"].as_array().unwrap().is_empty(), "{queue}");

    // The organization reads why; its devices take the decision and edit again.
    assert_eq!(w.standing().await["submission"]["decision"]["reasons"], reasons);
    w.sara.sync(&w.app).await;
    assert_eq!(w.status_on_the_device(), Some(FieldValue::Choice("returned".into())));
    set(&mut w.sara, w.doc, "description", FieldValue::Text("Four stations in Poblacion, Kitango, Dalgan and Ganta.".into()));
    w.sara.sync(&w.app).await;
    assert!(w.sara.client.outbox().get(&w.doc).is_none(), "the edit refused while frozen went out with the new one, and both were taken");
    let stored: (Option<String>, Option<String>) = sqlx::query_as("select title, content ->> 'description' from ppa_proposals where id = $1")
        .bind(w.doc)
        .fetch_one(&w.app.owner)
        .await
        .unwrap();
    assert_eq!(stored, (Some("Health stations, revised".into()), Some("Four stations in Poblacion, Kitango, Dalgan and Ganta.".into())));
    let again = submit(&w.app, &w.sofia, w.doc).await;
    assert_eq!(again.status(), 201, "a returned proposal is submitted again");
}

#[tokio::test]
async fn the_review_is_read_by_the_proposing_organization_bpda_and_mfbm_alone() {
    let w = submitted_with(2_000).await;
    assert_eq!(w.adjust("goal_match", 10_000, "Serves S1 as well, by the sample's own description.").await.status(), 200);
    assert_eq!(w.post(&w.pia, "certify", None).await.status(), 201);
    let app = &w.app;
    app.create_user("MILG", "mila", Role::MinistryStaff).await;
    app.create_user("OCM", "olga", Role::OcmAnalyst).await;

    // Routes: BPDA and MFBM read the submission; the proposer reads its standing.
    let path = format!("/api/v1/submissions/{}", w.submission);
    for (who, status) in [(&w.pia, 200), (&w.mara, 200), (&w.sofia, 403), (&app.sign_in("mila").await, 403), (&app.sign_in("olga").await, 403)] {
        assert_eq!(app.get(&path, who).await.status(), status);
    }
    let elsewhere = app.get(&format!("/api/v1/proposals/{}/standing", w.doc), &app.sign_in("mila").await).await;
    assert_eq!(error_of(elsewhere).await.0, 404, "another organization's proposal is not found");

    // PostgreSQL: who reads the review's rows, and the proposal's.
    for (org, seen) in [("MOH", 1), ("MILG", 0), ("MSSD", 0), ("BPDA", 1), ("MFBM", 1), ("OCM", 0)] {
        let mut tx = OrgTx::begin(app.db(), app.org_id(org).await).await.unwrap();
        for table in ["ppa_decisions", "ppa_adjustments", "ppa_submissions", "ppa_submission_contents"] {
            let count: i64 = sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(&mut *tx).await.unwrap();
            assert_eq!(count, seen, "{org} reads {table}");
        }
        let proposals: i64 = sqlx::query_scalar("select count(*) from ppa_proposals").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(proposals, i64::from(org == "MOH"), "{org}: the proposal's own row stays home");
    }
    // The AIP's lines and totals: BPDA and MFBM alone, as they read every submission.
    for (org, sees) in [("MOH", false), ("MILG", false), ("BPDA", true), ("MFBM", true), ("OCM", false)] {
        let mut tx = OrgTx::begin(app.db(), app.org_id(org).await).await.unwrap();
        for table in ["aip_lines", "aip_totals"] {
            let count: i64 = sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(&mut *tx).await.unwrap();
            assert_eq!(count > 0, sees, "{org} reads {table}");
        }
    }
    // Writes: only BPDA adds a decision; nobody changes one, nor where a submission
    // stands, nor the AIP that follows from it.
    for org in ["MOH", "MFBM", "BPDA"] {
        for change in [
            "update ppa_decisions set reasons = 'changed'",
            "update ppa_submissions set decision = null, proposal_changed = false",
            "update aip_totals set pending = 0",
            "delete from aip_lines",
            "select aip_rebuild()",
        ] {
            let mut tx = OrgTx::begin(app.db(), app.org_id(org).await).await.unwrap();
            assert!(sqlx::query(change).execute(&mut *tx).await.is_err(), "{org}: {change}");
        }
    }
    let moh = app.org_id("MOH").await;
    let mut tx = OrgTx::begin(app.db(), moh).await.unwrap();
    let forged = sqlx::query(
        "insert into ppa_decisions (org_id, submission_id, proposal_org_id, proposal_id, decision, reasons, score, components, decided_by)
         select $1, id, org_id, proposal_id, 'returned', 'forged', 0, '[]', submitted_by from ppa_submissions",
    )
    .bind(moh)
    .execute(&mut *tx)
    .await;
    assert!(forged.is_err(), "a proposing organization cannot decide on its own proposal");
}

#[tokio::test]
async fn the_command_line_checks_a_certificate_file() {
    let w = submitted_with(2_000).await;
    let certified: Value = w.post(&w.pia, "certify", None).await.json().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certificate.json");
    std::fs::write(&file, certified["decision"]["certificate"].to_string()).unwrap();
    bmms_server::cli::run_verify_certification(w.app.db(), &file).await.expect("the certificate holds");

    let mut tampered = certified["decision"]["certificate"].clone();
    tampered["heads"] = json!(["00"]);
    std::fs::write(&file, tampered.to_string()).unwrap();
    let err = bmms_server::cli::run_verify_certification(w.app.db(), &file).await.unwrap_err();
    assert!(err.to_string().contains("does not hold"), "{err}");
    std::fs::write(&file, "{\"not\": \"a certificate\"}").unwrap();
    let err = bmms_server::cli::run_verify_certification(w.app.db(), &file).await.unwrap_err();
    assert!(err.to_string().contains("not a BMMS certificate"), "{err}");
}

#[tokio::test]
async fn checking_certificates_is_limited_per_address_with_a_time_to_wait() {
    let w = submitted_with(2_000).await;
    let certified: Value = w.post(&w.pia, "certify", None).await.json().await.unwrap();
    let certificate = certified["decision"]["certificate"].clone();
    let check = || w.app.request(reqwest::Method::POST, "/api/v1/certifications/verify", None, Some(certificate.clone()));
    for _ in 0..30 {
        assert_eq!(check().await.status(), 200);
    }
    let refused = check().await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_of(refused).await.1, "too_many_checks");
}

#[tokio::test]
async fn the_aip_of_a_year_holds_its_certified_and_pending_ppas_with_totals_and_exports() {
    let mut w = submitted_with(2_000).await;
    // MOH's proposal: certified. A second MOH proposal: submitted, then sent back (out).
    assert_eq!(w.post(&w.pia, "certify", None).await.status(), 201);
    let returned = DocId(Uuid::new_v4());
    w.sara.client.create(returned, RecordKind::PpaProposal);
    complete(&mut w.sara, returned);
    set(&mut w.sara, returned, "title", FieldValue::Text("Returned proposal".into()));
    w.sara.sync(&w.app).await;
    let answer: Value = submit(&w.app, &w.sofia, returned).await.json().await.unwrap();
    let path = format!("/api/v1/submissions/{}/return", answer["submission_id"].as_str().unwrap());
    let sent_back = w.app.request(reqwest::Method::POST, &path, Some(&w.pia), Some(json!({"reasons": "Not this year."}))).await;
    assert_eq!(sent_back.status(), 200);
    // MILG's proposal, pending, in a Lanao del Sur barangay, costing PS in 2026 and CO in 2027.
    w.app.create_user("MILG", "mila", Role::MinistryStaff).await;
    w.app.create_user("MILG", "milo", Role::Supervisor).await;
    let mut mila = Device::register(&w.app, "mila").await;
    let milg = DocId(Uuid::new_v4());
    mila.client.create(milg, RecordKind::PpaProposal);
    complete(&mut mila, milg);
    set(&mut mila, milg, "title", FieldValue::Text("=Barangay peacekeeping training".into()));
    set(&mut mila, milg, "places", FieldValue::TextList(vec!["1903601001".into()]));
    set(&mut mila, milg, "sector", FieldValue::Choice("general_public_services".into()));
    set(&mut mila, milg, &bmms_shared::records::ppa::cost_field(2026, 1, "co"), FieldValue::Integer(0));
    set(&mut mila, milg, &bmms_shared::records::ppa::cost_field(2026, 2, "ps"), FieldValue::Integer(300_000_00));
    set(&mut mila, milg, &bmms_shared::records::ppa::cost_field(2027, 1, "co"), FieldValue::Integer(1_000_000_00));
    mila.sync(&w.app).await;
    assert_eq!(submit(&w.app, &w.app.sign_in("milo").await, milg).await.status(), 201);

    let aip: Value = w.app.get("/api/v1/aip?year=2026", &w.mara).await.json().await.unwrap();
    let rows = aip["rows"].as_array().unwrap();
    let titles: Vec<(&str, &str)> = rows.iter().map(|r| (r["title"].as_str().unwrap(), r["status"].as_str().unwrap())).collect();
    assert_eq!(titles, [("=Barangay peacekeeping training", "pending"), ("Barangay health stations for Datu Piang", "certified")], "{aip}");
    assert_eq!((aip["certified"].as_i64(), aip["pending"].as_i64(), aip["rows_total"].as_u64()), (Some(5_000_000_00), Some(300_000_00), Some(2)));
    assert_eq!((rows[0]["ps"].as_i64(), rows[0]["co"].as_i64()), (Some(300_000_00), Some(0)));
    let goal = &aip["by_goal"][0];
    assert_eq!((goal["code"].as_str(), goal["ppas"].as_u64(), goal["certified"].as_i64(), goal["pending"].as_i64()), (Some("S2"), Some(2), Some(5_000_000_00), Some(300_000_00)));
    let provinces: Vec<&str> = aip["by_province"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(provinces, ["Lanao del Sur", "Maguindanao del Sur"]);
    let sectors: Vec<(&str, &str, i64, i64)> = aip["by_sector"].as_array().unwrap().iter()
        .map(|s| (s["code"].as_str().unwrap(), s["name"].as_str().unwrap(), s["certified"].as_i64().unwrap(), s["pending"].as_i64().unwrap()))
        .collect();
    assert_eq!(sectors, [("general_public_services", "General public services", 0, 300_000_00), ("social_services", "Social services", 5_000_000_00, 0)]);
    let organizations: Vec<&str> = aip["by_organization"].as_array().unwrap().iter().map(|o| o["code"].as_str().unwrap()).collect();
    assert_eq!(organizations, ["MILG", "MOH"]);
    let next: Value = w.app.get("/api/v1/aip?year=2027", &w.pia).await.json().await.unwrap();
    assert_eq!((next["rows"].as_array().unwrap().len(), next["pending"].as_i64()), (1, Some(1_000_000_00)));

    // The export: CSV a spreadsheet opens safely, and JSON.
    let csv = w.app.get("/api/v1/aip/export?year=2026&format=csv", &w.pia).await;
    assert_eq!(csv.headers()["content-disposition"], "attachment; filename=\"aip-2026.csv\"");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].contains("'=Barangay peacekeeping training") && lines[1].contains("Lanao del Sur") && lines[1].contains(",General public services,") && lines[1].ends_with(",300000.00,0.00,0.00,300000.00"), "{csv}");
    let json_export: Value = w.app.get("/api/v1/aip/export?year=2026&format=json", &w.pia).await.json().await.unwrap();
    assert_eq!(json_export, aip);

    // An edit voids MOH's certification: its PPA leaves the AIP. What the triggers kept
    // all along equals a recomputation from the submissions.
    set(&mut w.sara, w.doc, "beneficiaries", FieldValue::Integer(2_001));
    w.sara.sync(&w.app).await;
    let voided: Value = w.app.get("/api/v1/aip?year=2026", &w.mara).await.json().await.unwrap();
    assert_eq!((voided["certified"].as_i64(), voided["rows_total"].as_u64(), voided["rows"].as_array().unwrap().len()), (Some(0), Some(1), 1));
    assert_eq!(voided["by_organization"].as_array().unwrap().len(), 1, "MOH has nothing left in the year");
    let kept = |app: &TestApp| {
        let owner = app.owner.clone();
        async move {
            let rows = "select array_agg(t::text order by t::text) from (select * from aip_totals where ppas <> 0) t";
            let lines = "select array_agg(l::text order by l::text) from aip_lines l";
            let totals: Option<Vec<String>> = sqlx::query_scalar(rows).fetch_one(&owner).await.unwrap();
            let lines: Option<Vec<String>> = sqlx::query_scalar(lines).fetch_one(&owner).await.unwrap();
            (totals, lines)
        }
    };
    let maintained = kept(&w.app).await;
    sqlx::query("select aip_rebuild()").execute(&w.app.owner).await.unwrap();
    assert_eq!(maintained, kept(&w.app).await);

    // Bad asks, and who may not ask.
    for bad in ["/api/v1/aip?year=1999", "/api/v1/aip/export?year=2026&format=xlsx", "/api/v1/aip?year=soon"] {
        let (status, _, message) = error_of(w.app.get(bad, &w.pia).await).await;
        assert!((400..500).contains(&status) && !message.is_empty(), "{bad}: {status} {message}");
    }
    assert_eq!(error_of(w.app.get("/api/v1/aip?year=2026", &w.sofia).await).await.0, 403);
}

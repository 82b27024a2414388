//! Assessments by PSGC place: a device saves a barangay's code, an unknown code is refused
//! for that record alone, the dashboards group by code (assessments without one by the
//! names typed), and the drill-down, the records table and the export find them by code.

use crate::helpers::spawn_app;
use crate::sync::{set, Device};
use automerge::transaction::Transactable;
use automerge::ROOT;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::sync::client::RecordSyncState;
use bmms_shared::{DocId, Role};
use serde_json::{json, Value};
use uuid::Uuid;

/// Barangays of the City of Lamitan, Basilan, and the city itself.
const LAMITAN_BARANGAYS: [&str; 2] = ["1900702001", "1900702002"];
const LAMITAN: &str = "1900702000";
const BASILAN: &str = "1900700000";

fn text(value: &str) -> FieldValue {
    FieldValue::Text(value.into())
}

#[tokio::test]
async fn assessments_are_grouped_and_found_by_their_psgc_place() {
    let app = spawn_app().await;
    app.create_user("MILG", "ana", Role::Supervisor).await;
    let mut ana = Device::register(&app, "ana").await;
    // Two coded in Lamitan, one typed "Lamitan" as the municipality (as was written before
    // the codes); one with the same names and no code.
    let coded: Vec<DocId> = LAMITAN_BARANGAYS.iter().map(|_| DocId(Uuid::new_v4())).collect();
    let typed = DocId(Uuid::new_v4());
    for (doc, code) in coded.iter().zip(LAMITAN_BARANGAYS) {
        ana.client.create(*doc, RecordKind::ManaAssessment);
        set(&mut ana, *doc, "place_code", text(code));
        set(&mut ana, *doc, "households", FieldValue::Integer(10));
    }
    set(&mut ana, coded[0], "municipality", text("Lamitan"));
    set(&mut ana, coded[0], "province", text("Basilan"));
    ana.client.create(typed, RecordKind::ManaAssessment);
    set(&mut ana, typed, "municipality", text("Lamitan"));
    set(&mut ana, typed, "province", text("Basilan"));
    set(&mut ana, typed, "households", FieldValue::Integer(5));
    // A device that skips the app's checks: a well-formed code of no place, and a province's.
    let (unknown, province) = (DocId(Uuid::new_v4()), DocId(Uuid::new_v4()));
    for (doc, code) in [(unknown, "1900799999"), (province, BASILAN)] {
        ana.client.create(doc, RecordKind::ManaAssessment);
        ana.client.edit_unchecked(doc, |d| d.put(ROOT, "place_code", code).unwrap()).unwrap();
    }
    ana.sync(&app).await;
    for doc in [unknown, province] {
        match ana.client.record_state(doc) {
            RecordSyncState::Refused(refusal) => {
                assert!(refusal.message.contains("PSGC code of a barangay, city or municipality of BARMM"), "{}", refusal.message)
            }
            other => panic!("a place that is not one was stored: {other:?}"),
        }
    }
    for doc in coded.iter().chain([&typed]) {
        assert_eq!(ana.client.record_state(*doc), RecordSyncState::Synced, "the other records of the batch are stored");
    }

    let staff = app.sign_in("ana").await;
    let dashboard: Value = app.get("/api/v1/dashboard", &staff).await.json().await.unwrap();
    let municipalities = &dashboard["figures"]["municipalities"];
    let place = |name: &str, code: Value| {
        municipalities.as_array().unwrap().iter().find(|p| p["municipality"] == name && p["municipality_code"] == code).cloned()
    };
    let by_code = place("City of Lamitan", json!(LAMITAN)).expect("the coded ones, named as PSA names them");
    assert_eq!((&by_code["assessments"], &by_code["households"], &by_code["province"], &by_code["province_code"]), (&json!(2), &json!(20), &json!("Basilan"), &json!(BASILAN)));
    let by_name = place("Lamitan", Value::Null).expect("the one without a code, by its typed name");
    assert_eq!((&by_name["assessments"], &by_name["province_code"]), (&json!(1), &Value::Null));
    let provinces: Vec<(Value, Value)> =
        dashboard["figures"]["provinces"].as_array().unwrap().iter().map(|p| (p["province_code"].clone(), p["assessments"].clone())).collect();
    assert_eq!(provinces, [(Value::Null, json!(1)), (json!(BASILAN), json!(2))], "by name, then the typed before the coded");

    // The drill-down opens what each group counted: the typed names do not reach the
    // coded record that happens to carry the same names.
    let org = app.org_id("MILG").await;
    let drill = |query: &str| format!("/api/v1/dashboard/records?org={org}&{query}");
    let coded_page: Value = app.get(&drill(&format!("province={BASILAN}&municipality={LAMITAN}")), &staff).await.json().await.unwrap();
    assert_eq!(coded_page["total"], 2);
    let typed_page: Value = app.get(&drill("province=Basilan&municipality=Lamitan"), &staff).await.json().await.unwrap();
    assert_eq!((&typed_page["total"], &typed_page["items"][0]["id"]), (&json!(1), &json!(typed)));

    // The records table finds a place by code or by a name typed, and shows the code.
    let listed = |query: &str| {
        let path = format!("/api/v1/assessments?{query}");
        let staff = &staff;
        let app = &app;
        async move { app.get(&path, staff).await.json::<Value>().await.unwrap() }
    };
    assert_eq!(listed(&format!("municipality={}", LAMITAN_BARANGAYS[1])).await["items"][0]["place_code"], LAMITAN_BARANGAYS[1]);
    assert_eq!(listed(&format!("municipality={LAMITAN}")).await["total"], 2);
    assert_eq!(listed("municipality=Lamitan").await["total"], 2, "the typed one and the coded one typed alike");
    let sorted = listed("sort=place_code").await;
    assert_eq!(sorted["items"][0]["place_code"], LAMITAN_BARANGAYS[0]);
    assert_eq!(sorted["items"][2]["place_code"], Value::Null);

    let csv = app.get(&format!("/api/v1/assessments/export?format=csv&province={BASILAN}"), &staff).await.text().await.unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|c| *c == "place_code").expect("the export has the code");
    let codes: Vec<&str> = csv.lines().skip(1).map(|line| line.split(',').nth(column).unwrap()).collect();
    assert_eq!(codes.len(), 2);
    assert!(codes.iter().all(|code| LAMITAN_BARANGAYS.contains(code)), "{codes:?}");
}

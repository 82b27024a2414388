//! The one authority, over both doors: for every role, record kind and field, creating,
//! writing and moving the status through sync has the outcome `bmms_shared::policy`
//! gives, and where a JSON route does the same (creating a task, reassigning one) it has
//! the same outcome there.

use bmms_shared::DocId;
use crate::helpers::spawn_app;
use crate::sync::Device;
use crate::sync_refusals::{changes_of, send};
use bmms_shared::policy;
use bmms_shared::records::fields::ChecklistItem;
use bmms_shared::records::{mana, task, FieldSpec, FieldType, FieldValue, RecordKind};
use bmms_shared::sync::protocol::RejectionCode;
use bmms_shared::Role;
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

const KINDS: [RecordKind; 3] = RecordKind::ALL;

/// The organization a member of `role` belongs to.
fn org_of(role: Role) -> &'static str {
    match role {
        Role::OcmExecutive | Role::OcmAnalyst => "OCM",
        Role::BpdaPlanner => "BPDA",
        Role::MfbmBudgetOfficer => "MFBM",
        _ => "MILG",
    }
}

/// A value the schema accepts for `spec`.
fn valid_value(spec: &FieldSpec) -> FieldValue {
    match &spec.ty {
        FieldType::Text { .. } => FieldValue::Text("Checked".into()),
        FieldType::Integer { min, max } => FieldValue::Integer(1.clamp(*min, *max)),
        FieldType::Decimal { min, max } => FieldValue::Decimal(1.0_f64.clamp(*min, *max)),
        FieldType::Date => FieldValue::Date("2027-01-31".into()),
        FieldType::Choice(options) => FieldValue::Choice(options[options.len() - 1].into()),
        FieldType::TextList { .. } => FieldValue::TextList(vec!["Checked".into()]),
        FieldType::Checklist { .. } => FieldValue::Checklist(vec![ChecklistItem { text: "Walk the site".into(), done: true }]),
        // A barangay of the City of Lamitan, Basilan.
        FieldType::Place => FieldValue::Text("1900702001".into()),
        FieldType::Photos { .. } => FieldValue::TextList(vec![bmms_shared::photos::name_of(b"a photo")]),
    }
}

fn statuses(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::ManaAssessment => mana::STATUSES,
        RecordKind::MonitoringTask => task::STATUSES,
        // A proposal's other statuses are set by the desk's routes, never through sync:
        // `policy::may_move` refuses a device's move to any of them.
        RecordKind::PpaProposal => &["draft"],
    }
}

/// One cell of the matrix: what was tried, and whether the policy allows it.
struct Case {
    what: String,
    allowed: bool,
}

#[tokio::test]
async fn every_role_kind_field_and_transition_has_the_policys_outcome_by_sync_and_by_route() {
    let app = spawn_app().await;
    for role in Role::ALL {
        let org = org_of(role);
        let (member, supervisor) = (format!("{}_member", role.as_str()), format!("{}_supervisor", role.as_str()));
        app.create_user(org, &member, role).await;
        app.create_user(org, &supervisor, Role::Supervisor).await;
        let mut boss = Device::register(&app, &supervisor).await;

        // The records the member will work on, made by their supervisor: one per field
        // and one per status transition.
        let mut edits: Vec<(DocId, RecordKind, &'static FieldSpec, FieldValue)> = Vec::new();
        for kind in KINDS {
            for spec in kind.fields().iter().filter(|s| s.name != "status") {
                edits.push((DocId(Uuid::new_v4()), kind, spec, valid_value(spec)));
            }
            let status = kind.field("status").unwrap();
            for from in statuses(kind) {
                for to in statuses(kind).iter().filter(|to| *to != from) {
                    let doc = DocId(Uuid::new_v4());
                    boss.client.create(doc, kind);
                    boss.client.edit(doc, |e| e.set("status", FieldValue::Choice((*from).into()))).unwrap();
                    edits.push((doc, kind, status, FieldValue::Choice((*to).into())));
                }
            }
        }
        for (doc, kind, ..) in &edits {
            if !boss.client.documents().contains_key(doc) {
                boss.client.create(*doc, *kind);
            }
        }
        boss.sync(&app).await;
        assert_eq!(boss.client.pending_count(), 0, "{role}: the supervisor's records are stored");

        let mut cases: BTreeMap<DocId, Case> = BTreeMap::new();
        let browser = app.sign_in(&member).await;
        let new_task = json!({"title": "Visit", "ppa": "Water", "site": "Tamontaka", "due_date": "2027-01-31", "assignee": supervisor});
        if role.oversees_all() {
            // The Office of the Chief Minister writes nothing: it cannot even register a
            // device to sync with, nor use a route that writes.
            let registered = app.request(Method::POST, "/api/v1/devices", Some(&browser), None).await.status();
            let created = app.request(Method::POST, "/api/v1/tasks", Some(&browser), Some(new_task)).await.status();
            assert_eq!((registered.as_u16(), created.as_u16()), (403, 403), "{role}");
            for kind in KINDS {
                assert!(policy::may_create(role, kind).is_err() && policy::may_write(role, kind, "status").is_err(), "{role}");
            }
            continue;
        }
        if bmms_server::sync::scope::is_scoped(role) {
            // A field officer's phone holds its scope (sync_scope.rs): the supervisor's
            // records are pinned for them, so that the phone holds every one of them.
            sqlx::query(
                "insert into record_pins (org_id, user_id, doc_id)
                 select d.org_id, u.id, d.id from documents d, users u where u.username = $1 and d.org_id = (select org_id from memberships where user_id = u.id)",
            )
            .bind(&member)
            .execute(&app.owner)
            .await
            .unwrap();
        }
        let mut device = Device::register(&app, &member).await;
        device.sync(&app).await;
        for kind in KINDS {
            let doc = DocId(Uuid::new_v4());
            device.client.create(doc, kind);
            cases.insert(doc, Case { what: format!("{role} creates a {}", kind.as_str()), allowed: policy::may_create(role, kind).is_ok() });
        }
        for (doc, kind, spec, value) in &edits {
            let before = match bmms_shared::records::get(&boss.client.documents()[doc].doc(), "status") {
                Some(FieldValue::Choice(status)) => Some(status),
                _ => None,
            };
            let allowed = if spec.name == "status" {
                let FieldValue::Choice(to) = value else { unreachable!() };
                policy::may_move(role, *kind, before.as_deref(), to).is_ok()
            } else {
                policy::may_write(role, *kind, &spec.name).is_ok()
            };
            device.client.edit(*doc, |e| e.set(&spec.name, value.clone())).unwrap();
            cases.insert(*doc, Case { what: format!("{role} sets {} {} to {value:?} (from {before:?})", kind.as_str(), spec.name), allowed });
        }
        let batch = cases.keys().map(|doc| changes_of(&device, *doc)).collect();
        let answer = send(&app, &device, batch).await;
        for (doc, case) in &cases {
            let refusal = answer.rejections.iter().find(|r| r.doc_id == *doc);
            match (case.allowed, refusal) {
                (true, None) => assert!(answer.acknowledged.contains(doc), "{}", case.what),
                (false, Some(refusal)) => assert_eq!(refusal.code, RejectionCode::NotAllowed, "{}: {}", case.what, refusal.message),
                (true, Some(refusal)) => panic!("{}: refused although allowed: {}", case.what, refusal.message),
                (false, None) => panic!("{}: accepted although the policy forbids it", case.what),
            }
        }

        // The JSON routes that do the same: the same outcome.
        let created = app.request(Method::POST, "/api/v1/tasks", Some(&browser), Some(new_task)).await.status();
        let by_sync = cases.values().find(|c| c.what.ends_with("creates a monitoring_task")).unwrap().allowed;
        assert_eq!(created.is_success(), by_sync, "{role}: creating a task by route ({created}) and by sync");
        let task = edits.iter().find(|(_, kind, spec, _)| *kind == RecordKind::MonitoringTask && spec.name == "assignee").unwrap().0;
        let assigned = app
            .request(Method::POST, &format!("/api/v1/tasks/{task}/assign"), Some(&browser), Some(json!({"assignee": supervisor})))
            .await
            .status();
        assert_eq!(assigned.is_success(), cases[&task].allowed, "{role}: reassigning by route ({assigned}) and by sync");
    }
    // The matrix is not empty either way: officers capture, supervisors hand out tasks.
    assert!(policy::may_create(Role::FieldOfficer, RecordKind::ManaAssessment).is_ok());
    assert!(policy::may_create(Role::FieldOfficer, RecordKind::MonitoringTask).is_err());
}

//! The wire format, pinned: each body serializes to the very bytes the server's `json!`
//! (or its struct) wrote before these types existed, and reads back as itself. The
//! `json!` literals below are copied from the server's handlers, with the values the
//! database gave (chrono's times and dates as the strings its serde writes).

use super::*;
use crate::records::RecordKind;
use crate::{DeviceId, DocId, OrgId, OrgKind, Role, UserId};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::fmt::Debug;
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// `typed` writes the same bytes as `server` and reads back as itself.
fn pinned<T: Serialize + DeserializeOwned + PartialEq + Debug>(typed: &T, server: &str) {
    assert_eq!(serde_json::to_string(typed).unwrap(), server);
    assert_eq!(&serde_json::from_str::<T>(server).unwrap(), typed);
}

/// The same, against a body the server wrote with `json!`.
fn pinned_json<T: Serialize + DeserializeOwned + PartialEq + Debug>(typed: &T, server: Value) {
    pinned(typed, &serde_json::to_string(&server).unwrap());
}

const AT: &str = "2026-12-04T09:00:00.123456Z";

#[test]
fn errors_name_their_field_only_when_there_is_one() {
    let plain = ErrorBody { error: "not_found".into(), message: "There is no such record.".into(), field: None };
    pinned(&plain, r#"{"error":"not_found","message":"There is no such record."}"#);
    let about = ErrorBody { field: Some("reason".into()), ..plain };
    pinned(&about, r#"{"error":"not_found","message":"There is no such record.","field":"reason"}"#);
}

#[test]
fn sign_in_and_out() {
    let me = Me {
        user: UserSummary { id: UserId(id(1)), username: "amina".into(), display_name: "Amina".into() },
        organization: OrganizationSummary { id: OrgId(id(2)), code: "MOH".into(), name: "Ministry of Health".into(), kind: OrgKind::Moa, deactivated: false },
        role: Role::Supervisor,
        csrf_token: "t".into(),
    };
    pinned(&me, &format!(
        r#"{{"user":{{"id":"{}","username":"amina","display_name":"Amina"}},"organization":{{"id":"{}","code":"MOH","name":"Ministry of Health","kind":"moa","deactivated":false}},"role":"supervisor","csrf_token":"t"}}"#,
        id(1), id(2)
    ));
    pinned_json(&SignedOut { signed_out: true }, json!({ "signed_out": true }));
    let login: LoginRequest = serde_json::from_value(json!({"username": "amina", "password": "pw"})).unwrap();
    assert_eq!(login.username, "amina");
}

#[test]
fn devices() {
    pinned(&DeviceRegistration { device_id: DeviceId(id(3)), actor: "ab01".into() }, &format!(r#"{{"device_id":"{}","actor":"ab01"}}"#, id(3)));
    let never = DeviceHealth {
        device_id: DeviceId(id(3)),
        display_name: "Amina".into(),
        last_contact_at: None,
        last_refusal: None,
        last_refusal_at: None,
        last_sync_at: None,
        pending_reported: None,
        quiet: true,
        registered_at: AT.into(),
        username: "amina".into(),
    };
    let (d, none) = (&never, None::<String>);
    let item = json!({"device_id": d.device_id, "username": d.username, "display_name": d.display_name, "registered_at": AT,
           "last_contact_at": none, "last_sync_at": none, "pending_reported": None::<i32>,
           "last_refusal": none, "last_refusal_at": none, "quiet": d.quiet});
    pinned_json(&DeviceHealthList { items: vec![never.clone()], not_seen_days: 3 }, json!({"items": [item], "not_seen_days": 3}));
    assert_eq!(serde_json::to_value(HealthQuery::default()).unwrap(), json!({"not_seen_days": 3, "quiet_only": false}));
}

#[test]
fn records_table_record_and_history() {
    let row = AssessmentRow {
        assessment_date: Some("2026-11-30".into()),
        community: Some("Barangay Poblacion".into()),
        households: Some(120),
        id: DocId(id(4)),
        municipality: None,
        needs: json!({"health": 4, "water": 2}),
        place_code: Some("1908801001".into()),
        population: None,
        province: Some("Maguindanao del Sur".into()),
        status: "submitted".into(),
    };
    let r = &row;
    let item = json!({"id": r.id, "status": r.status, "community": r.community, "municipality": r.municipality,
           "province": r.province, "assessment_date": r.assessment_date, "households": r.households,
           "population": r.population, "needs": r.needs, "place_code": r.place_code});
    pinned_json(&Page { items: vec![row.clone()], total: 61, limit: 50, offset: 50 }, json!({"items": [item], "total": 61, "limit": 50, "offset": 50}));

    let note = crate::records::resolution::ResolutionNote { by: "Sup".into(), at: AT.into(), reason: "Checked".into() };
    let record = Record {
        conflicts: vec![RecordConflict { candidates: json!(["3", "4"]), detected_at: AT.into(), field: "households".into(), id: id(5) }],
        fields: json!({"community": "Poblacion", "households": 3}).as_object().unwrap().clone(),
        id: DocId(id(4)),
        kind: RecordKind::ManaAssessment,
        resolutions: json!({"community": json!(note)}).as_object().unwrap().clone(),
    };
    let conflicts = vec![json!({"id": id(5), "field": "households", "candidates": ["3", "4"], "detected_at": AT})];
    let fields = json!({"community": "Poblacion", "households": 3});
    let notes = json!({"community": json!(note)});
    pinned_json(&record, json!({"id": id(4), "kind": RecordKind::ManaAssessment, "fields": fields, "resolutions": notes, "conflicts": conflicts}));

    let changed = vec![
        json!({"field": "community", "label": "Community", "kind": "value", "value": "Poblacion"}),
        json!({"field": "households", "label": "Households", "kind": "resolution", "value": None::<String>}),
    ];
    let history = RecordHistory {
        id: DocId(id(4)),
        items: vec![HistoryEntry {
            at: AT.into(),
            by: "Amina".into(),
            device_id: None,
            fields: vec![
                ChangedField { field: "community".into(), kind: ChangeKind::Value, label: "Community".into(), value: Some("Poblacion".into()) },
                ChangedField { field: "households".into(), kind: ChangeKind::Resolution, label: "Households".into(), value: None },
            ],
            seq: 9,
        }],
        kind: RecordKind::ManaAssessment,
    };
    let entry = json!({"seq": 9, "at": AT, "by": "Amina", "device_id": None::<DeviceId>, "fields": changed});
    pinned_json(&history, json!({"id": id(4), "kind": RecordKind::ManaAssessment, "items": [entry]}));
}

#[test]
fn tasks_and_officers() {
    let task = TaskRow {
        assignee: Some("amina".into()),
        due_date: None,
        id: DocId(id(6)),
        overdue: false,
        ppa_id: None,
        progress_percent: Some(40),
        site: None,
        status: "in_progress".into(),
        title: Some("Visit".into()),
    };
    let t = &task;
    let item = json!({"id": t.id, "status": t.status, "title": t.title, "site": t.site, "assignee": t.assignee,
           "due_date": t.due_date, "progress_percent": t.progress_percent, "overdue": t.overdue, "ppa_id": null});
    pinned_json(&Page { items: vec![task.clone()], total: 1, limit: 200, offset: 0 }, json!({"items": [item], "total": 1, "limit": 200, "offset": 0}));
    pinned_json(&TaskCreated { id: DocId(id(6)) }, json!({"id": id(6)}));
    pinned_json(&Assigned { assignee: "amina".into(), id: DocId(id(6)) }, json!({"id": id(6), "assignee": "amina"}));
    let officer = OfficerProgress {
        average_progress: None,
        blocked: 0,
        display_name: "Amina".into(),
        done: 1,
        in_progress: 2,
        overdue: 1,
        role: Role::FieldOfficer,
        tasks: 4,
        todo: 1,
        username: "amina".into(),
    };
    let o = &officer;
    let item = json!({"username": o.username, "display_name": o.display_name, "role": "field_officer", "tasks": o.tasks, "todo": o.todo,
           "in_progress": o.in_progress, "blocked": o.blocked, "done": o.done, "overdue": o.overdue,
           "average_progress": None::<i64>});
    pinned_json(&Items { items: vec![officer.clone()] }, json!({"items": [item]}));

    // What the app sent before, field for field.
    let new = NewTask {
        id: Some(DocId(id(7))),
        title: "Visit".into(),
        ppa: "PPA".into(),
        ppa_id: None,
        ppa_milestone: None,
        site: "Site".into(),
        description: String::new(),
        due_date: "2026-12-31".into(),
        assignee: "amina".into(),
        checklist: vec!["Photos".into()],
    };
    let sent = json!({"id": id(7), "title": "Visit", "ppa": "PPA", "site": "Site", "description": "", "due_date": "2026-12-31",
        "assignee": "amina", "checklist": ["Photos"]});
    assert_eq!(serde_json::to_value(&new).unwrap(), sent);
    assert_eq!(serde_json::from_value::<NewTask>(sent).unwrap(), new);
    assert!(serde_json::from_value::<Assign>(json!({"assignee": "a", "extra": 1})).is_err(), "unknown fields are refused");
}

#[test]
fn conflicts() {
    let queued = QueuedConflict {
        candidates: json!(["3", "4"]),
        detected_at: AT.into(),
        field: "households".into(),
        field_label: "Households".into(),
        id: id(5),
        record_id: DocId(id(4)),
        record_kind: RecordKind::ManaAssessment,
        record_label: None,
        value_count: 2,
    };
    let item = json!({"id": id(5), "record_id": id(4), "record_kind": "mana_assessment", "record_label": None::<String>,
           "field": "households", "field_label": "Households", "candidates": ["3", "4"],
           "value_count": 2, "detected_at": AT});
    pinned_json(&Items { items: vec![queued] }, json!({"items": [item]}));

    let desk_edit = WrittenValue { before: None, device_id: None, received_at: None, shown: "—".into(), value: None, written_by: None };
    let from_device = WrittenValue {
        before: Some("2".into()),
        device_id: Some(DeviceId(id(3))),
        received_at: Some(AT.into()),
        shown: "4".into(),
        value: Some(json!(4)),
        written_by: Some("Amina".into()),
    };
    let open = ConflictDetail {
        candidates: json!(["3", "4"]),
        detected_at: AT.into(),
        field: "households".into(),
        field_label: "Households".into(),
        id: id(5),
        record_id: DocId(id(4)),
        record_kind: RecordKind::ManaAssessment,
        record_label: Some("Poblacion".into()),
        resolved: None,
        values: vec![from_device, desk_edit],
    };
    let values = vec![
        json!({"value": 4, "shown": "4", "before": "2", "written_by": "Amina", "device_id": id(3), "received_at": AT}),
        json!({"value": None::<Value>, "shown": "—", "before": None::<String>, "written_by": None::<String>,
               "device_id": None::<DeviceId>, "received_at": None::<String>}),
    ];
    let body = |values: Vec<Value>, resolved: Value| json!({
        "id": id(5), "record_id": id(4), "record_kind": "mana_assessment", "record_label": "Poblacion", "field": "households",
        "field_label": "Households", "candidates": ["3", "4"], "detected_at": AT,
        "values": values, "resolved": resolved,
    });
    pinned_json(&open, body(values.clone(), Value::Null));
    let settled = ConflictDetail {
        resolved: Some(Settlement { at: AT.into(), by: None, reason: None, value: Some("settled by a later edit".into()) }),
        values: open.values[..1].to_vec(),
        ..open.clone()
    };
    let resolved = json!({"at": AT, "by": None::<String>, "value": "settled by a later edit", "reason": None::<String>});
    pinned_json(&settled, body(values[..1].to_vec(), resolved));

    let resolution = Resolution { field: "households".into(), id: id(5), reason: "Counted".into(), record_id: DocId(id(4)), resolved_by: UserId(id(1)), value: json!(4) };
    let one = json!({"id": id(5), "record_id": id(4), "field": "households", "value": 4, "reason": "Counted", "resolved_by": id(1)});
    pinned_json(&resolution, one.clone());
    pinned_json(&Items { items: vec![resolution] }, json!({"items": [one]}));
    let many: ResolveMany = serde_json::from_value(json!({"ids": [id(5)], "value": 4, "reason": "Counted"})).unwrap();
    assert_eq!(many.ids, vec![id(5)]);
    assert_eq!(serde_json::to_value(Resolve { value: json!("x"), reason: "r".into() }).unwrap(), json!({"value": "x", "reason": "r"}));
}

#[test]
fn dashboard() {
    let figures = Figures {
        assessments: Totals { assessments: 2, households: 30, population: 150 },
        budget: Some(BudgetFigures { fiscal_year: 2027, enacted: 900, released: 300, obligated: 200, disbursed: 100 }),
        assessments_by_month: vec![ByMonth { count: 1, done: 0, month: Some("2026-11-01".into()) }, ByMonth { count: 1, done: 0, month: None }],
        assessments_by_status: vec![ByStatus { count: 2, status: "submitted".into() }],
        municipalities: vec![Place {
            assessments: 2, households: 30, latitude: Some(7.25), longitude: None, municipality: "Datu Odin Sinsuat".into(),
            municipality_code: Some("1908705000".into()), population: 150, province: "Maguindanao del Norte".into(), province_code: Some("1908700000".into()),
        }],
        needs: vec![Need { assessments: 1, sector: "health".into(), severity: 4 }],
        organizations: vec![OrgFigures {
            assessments: 2, average_progress: None, code: "MOH".into(), households: 30, id: OrgId(id(2)), name: "Health".into(), overdue: 0, population: 150, tasks: 1, tasks_done: 0,
        }],
        provinces: vec![],
        tasks: TaskTotals { average_progress: Some(40), overdue: 0, tasks: 1 },
        tasks_by_month: vec![],
        tasks_by_status: vec![ByStatus { count: 1, status: "todo".into() }],
    };
    // The server's `Dashboard` struct, as `json!` turned it into a value.
    let server_figures = json!({
        "assessments": {"assessments": 2, "households": 30, "population": 150},
        "budget": {"fiscal_year": 2027, "enacted": 900, "released": 300, "obligated": 200, "disbursed": 100},
        "assessments_by_status": [{"status": "submitted", "count": 2}],
        "provinces": [],
        "municipalities": [{"province": "Maguindanao del Norte", "municipality": "Datu Odin Sinsuat", "assessments": 2, "households": 30,
                            "population": 150, "latitude": 7.25, "longitude": None::<f64>,
                            "province_code": "1908700000", "municipality_code": "1908705000"}],
        "assessments_by_month": [{"month": "2026-11-01", "count": 1, "done": 0}, {"month": None::<String>, "count": 1, "done": 0}],
        "needs": [{"sector": "health", "severity": 4, "assessments": 1}],
        "tasks": {"tasks": 1, "overdue": 0, "average_progress": 40},
        "tasks_by_status": [{"status": "todo", "count": 1}],
        "tasks_by_month": [],
        "organizations": [{"id": id(2), "code": "MOH", "name": "Health", "assessments": 2, "households": 30, "population": 150,
                           "tasks": 1, "tasks_done": 0, "overdue": 0, "average_progress": None::<i64>}],
    });
    let whole = Dashboard { figures: figures.clone(), organization: None };
    pinned_json(&whole, json!({"organization": Value::Null, "figures": server_figures}));
    let one = Dashboard { figures, organization: Some(DashboardOrganization { code: "MOH".into(), id: OrgId(id(2)), name: "Health".into() }) };
    pinned_json(&one, json!({"organization": json!({"id": id(2), "code": "MOH", "name": "Health"}), "figures": server_figures}));
}

#[test]
fn queries_say_only_what_they_change() {
    assert_eq!(serde_json::to_value(AssessmentQuery { limit: DEFAULT_LIMIT, ..Default::default() }).unwrap(), json!({}));
    let asked = AssessmentQuery { search: Some("Pob".into()), limit: 200, offset: 50, ..Default::default() };
    assert_eq!(serde_json::to_value(asked).unwrap(), json!({"search": "Pob", "limit": 200, "offset": 50}));
    let drill = DrillQuery { org: Some(OrgId(id(2))), limit: 200, ..Default::default() };
    assert_eq!(serde_json::to_value(drill).unwrap(), json!({"org": id(2), "limit": 200}));
    // Read with the server's defaults.
    let read: TaskQuery = serde_json::from_value(json!({"status": "todo"})).unwrap();
    assert_eq!((read.limit, read.offset), (DEFAULT_LIMIT, 0));
    assert!(serde_json::from_value::<TaskQuery>(json!({"page": 2})).is_err(), "unknown filters are refused");
}

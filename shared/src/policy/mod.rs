//! Who may do what to a record: the one authority. The JSON routes ask it before they
//! write, the sync path asks it of every document a device sends (by what the device's
//! changes touched), and the app asks it to hide what a person cannot do. The plans and
//! budgets modules add their record kinds here.
//!
//! Three questions, each answered for a role and a record kind:
//! - may it **create** such a record;
//! - may it **write** a given field of one;
//! - may it **move** the record's status from one value to another.

use automerge::{AutoCommit, ObjId, ObjType, Prop, ReadDoc, Value, ROOT};

use crate::records::{self, FieldValue, RecordKind};
use crate::Role;

mod budget;
mod people;
pub use budget::*;
pub use people::*;

/// A refusal, in a sentence the person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

/// Fields of a monitoring task that the supervisor sets when handing it out; the
/// officer doing the visit writes the others (status, progress, checklist, findings).
const TASK_ASSIGNMENT_FIELDS: &[&str] = &["title", "ppa", "ppa_id", "ppa_milestone", "site", "description", "due_date", "assignee"];

/// Roles that do field work in an organization.
/// Allowed, or denied with `why`: the shape of every rule that names its roles.
fn only(allowed: bool, why: &str) -> Result<(), Denied> {
    allowed.then_some(()).ok_or_else(|| Denied(why.to_owned()))
}

fn captures_in_the_field(role: Role) -> bool {
    matches!(role, Role::FieldOfficer | Role::Supervisor | Role::OrgAdmin)
}

/// May `role` create a record of `kind`?
pub fn may_create(role: Role, kind: RecordKind) -> Result<(), Denied> {
    let allowed = match kind {
        RecordKind::ManaAssessment => captures_in_the_field(role),
        RecordKind::MonitoringTask => role.supervises(),
        RecordKind::PpaProposal => role.works_at_desk(),
    };
    allowed.then_some(()).ok_or_else(|| {
        Denied(match kind {
            RecordKind::ManaAssessment => format!("A {} cannot start a MANA assessment; field officers and supervisors do.", role.label().to_lowercase()),
            RecordKind::MonitoringTask => "Only a supervisor can create a monitoring task.".to_owned(),
            RecordKind::PpaProposal => {
                "Ministry staff, supervisors and organization administrators draft PPA proposals.".to_owned()
            }
        })
    })
}

/// May `role` write `field` of a record of `kind`?
pub fn may_write(role: Role, kind: RecordKind, field: &str) -> Result<(), Denied> {
    let allowed = match kind {
        RecordKind::ManaAssessment => captures_in_the_field(role) || role == Role::MinistryStaff,
        RecordKind::MonitoringTask if TASK_ASSIGNMENT_FIELDS.contains(&field) => role.supervises(),
        RecordKind::MonitoringTask => captures_in_the_field(role),
        RecordKind::PpaProposal => role.works_at_desk(),
    };
    allowed.then_some(()).ok_or_else(|| {
        let label = kind.field(field).map_or(field, |f| f.label.as_str());
        Denied(match kind {
            RecordKind::MonitoringTask if TASK_ASSIGNMENT_FIELDS.contains(&field) => {
                format!("Only a supervisor can change a task's \"{label}\".")
            }
            _ => format!("A {} cannot change \"{label}\" of this record.", role.label().to_lowercase()),
        })
    })
}

/// May `role` move the status of a record of `kind` from `from` (none for a new record)
/// to `to`? Writing the status at all is [`may_write`]'s question, asked first.
pub fn may_move(role: Role, kind: RecordKind, from: Option<&str>, to: &str) -> Result<(), Denied> {
    may_write(role, kind, "status")?;
    match (kind, to) {
        // A field officer submits; a supervisor validates. A record validated before may
        // stay so (an edit of another field keeps it).
        (RecordKind::ManaAssessment, "validated") if from != Some("validated") && !role.may_validate_assessments() => Err(Denied(
            "Only a supervisor can mark an assessment validated. Set its status back to submitted; it is then sent again.".into(),
        )),
        // Submission, return and certification are the server's transitions (the desk's
        // routes): they record who and which version.
        (RecordKind::PpaProposal, to) if to != "draft" && from != Some(to) => {
            Err(Denied("A proposal is submitted to BPDA from the desk, with a connection; its status cannot change on a device.".into()))
        }
        _ => Ok(()),
    }
}

/// May `role` keep the Bangsamoro Development Plan's framework (its goals, indicators,
/// priority areas and scoring settings)? BPDA's planners alone; the database holds the
/// rows to BPDA as well.
pub fn may_keep_the_bdp(role: Role) -> Result<(), Denied> {
    only(role == Role::BpdaPlanner, "Only a BPDA planner can change the development plan's framework.")
}

/// May `role` submit the organization's PPA proposal to BPDA? Its supervisors and
/// administrators: they answer for the organization's work, as they validate its
/// assessments; ministry staff draft.
pub fn may_submit_proposal(role: Role) -> Result<(), Denied> {
    only(role.supervises(), "A supervisor or the organization's administrator submits a proposal to BPDA; ministry staff draft it.")
}

/// May `role` read BPDA's queue of submitted proposals? BPDA's planners, who review
/// them, and MFBM's budget officers, who budget what BPDA certifies.
pub fn may_read_submissions(role: Role) -> Result<(), Denied> {
    only(matches!(role, Role::BpdaPlanner | Role::MfbmBudgetOfficer), "Only BPDA's planners and MFBM's budget officers see the proposals of every organization.")
}

/// May `role` review submitted proposals: adjust a score component, certify, send back?
/// BPDA's planners alone; the database holds the rows to BPDA as well.
pub fn may_review_proposals(role: Role) -> Result<(), Denied> {
    only(role == Role::BpdaPlanner, "Only a BPDA planner reviews, certifies or sends back a submitted proposal.")
}

/// Checks everything a change did to a record: created it, wrote fields, moved its
/// status. `before` is the record as it was (none for a new one), `after` with the change.
pub fn check_change(role: Role, kind: RecordKind, before: Option<&AutoCommit>, after: &AutoCommit) -> Result<(), Denied> {
    if before.is_none() {
        may_create(role, kind)?;
    }
    if let Some(before) = before {
        may_change_at_all(kind, before)?;
    }
    for field in written_fields(before, after) {
        if field == "status" {
            let status = |doc: &AutoCommit| match records::get_field(doc, kind, "status") {
                Some(FieldValue::Choice(s)) => Some(s),
                _ => None,
            };
            let to = status(after).unwrap_or_default();
            may_move(role, kind, before.and_then(status).as_deref(), &to)?;
        } else if kind.field(&field).is_some() {
            may_write(role, kind, &field)?;
        }
    }
    Ok(())
}

/// A submitted proposal is frozen: BPDA scores and certifies the version it received, so
/// nothing changes it until BPDA decides. (A certified one may change again: the change
/// voids the certification, and the proposal is submitted anew.) Asked of devices'
/// changes (by [`check_change`]) and of the server's own edits alike.
pub fn may_change_at_all(kind: RecordKind, before: &AutoCommit) -> Result<(), Denied> {
    if kind != RecordKind::PpaProposal {
        return Ok(());
    }
    match records::get_field(before, kind, "status") {
        Some(FieldValue::Choice(status)) if !records::ppa::EDITABLE.contains(&status.as_str()) => Err(Denied(format!(
            "This proposal is {status}: it cannot change until BPDA certifies it or sends it back for revision. Your edit is kept on this device."
        ))),
        _ => Ok(()),
    }
}

/// The root fields whose values differ between `before` and `after` (every field of a
/// new record), compared in full: every value of a field, conflicting ones included, and
/// for a list or map everything inside it, keys and types too (a lost concurrent tick of
/// a checklist item is a write like any other). A record's identity keys and resolution
/// notes are not fields; the schema checks guard those.
fn written_fields(before: Option<&AutoCommit>, after: &AutoCommit) -> Vec<String> {
    let kind = records::kind_of(after).ok();
    let mut keys: Vec<String> = after.keys(ROOT).collect();
    if let Some(before) = before {
        keys.extend(before.keys(ROOT).filter(|k| !keys.contains(k)).collect::<Vec<_>>());
    }
    keys.into_iter()
        .filter(|key| kind.is_some_and(|k| k.field(key).is_some()))
        .filter(|key| {
            before.is_none_or(|before| {
                let (was, is) = (fingerprint(before, &ROOT, key.as_str().into(), 0), fingerprint(after, &ROOT, key.as_str().into(), 0));
                // Too deep to compare (no field of the schema nests so far): a write.
                was.is_none() || is.is_none() || was != is
            })
        })
        .collect()
}

/// How deep a field's objects are followed. The deepest field of the schema is a
/// checklist (list, item, value: 3); a device could nest a losing concurrent value far
/// deeper, and following it without end would overflow the stack.
const MAX_DEPTH: usize = 8;

/// Everything `prop` of `obj` holds, written out: each of its values (all of them, where
/// devices wrote it concurrently) with its type, and the contents of objects, recursively.
/// None when it nests deeper than [`MAX_DEPTH`].
fn fingerprint(doc: &AutoCommit, obj: &ObjId, prop: Prop, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut out = String::new();
    for (value, id) in doc.get_all(obj, prop).unwrap_or_default() {
        write_value(doc, &value, &id, &mut out, depth)?;
        out.push(';');
    }
    Some(out)
}

fn write_value(doc: &AutoCommit, value: &Value<'_>, id: &ObjId, out: &mut String, depth: usize) -> Option<()> {
    use std::fmt::Write;
    match value {
        Value::Scalar(scalar) => {
            let _ = write!(out, "{scalar:?}");
        }
        Value::Object(ObjType::Text) => {
            let _ = write!(out, "text{:?}", doc.text(id).unwrap_or_default());
        }
        Value::Object(ObjType::List) => {
            out.push_str("list[");
            for index in 0..doc.length(id) {
                out.push_str(&fingerprint(doc, id, index.into(), depth + 1)?);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(_) => {
            out.push_str("map{");
            for key in doc.keys(id) {
                let _ = write!(out, "{key:?}=");
                out.push_str(&fingerprint(doc, id, key.as_str().into(), depth + 1)?);
                out.push(',');
            }
            out.push('}');
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    fn task_with(edit: impl FnOnce(&mut AutoCommit)) -> AutoCommit {
        let mut doc = records::new_document(crate::DocId(uuid::Uuid::from_u128(1)), RecordKind::MonitoringTask, automerge::ActorId::from(vec![1u8; 16]));
        edit(&mut doc);
        doc.commit();
        doc
    }

    /// `before` changed on another device by `edit`, merged back.
    fn merged_with(before: &mut AutoCommit, edit: impl FnOnce(&mut AutoCommit)) -> AutoCommit {
        let mut other = before.fork().with_actor(automerge::ActorId::from(vec![2u8; 16]));
        edit(&mut other);
        other.commit();
        let mut after = before.clone();
        after.merge(&mut other).unwrap();
        after
    }

    #[test]
    fn a_write_inside_a_list_and_a_losing_concurrent_value_count_as_writes() {
        let mut before = task_with(|d| {
            let list = d.put_object(ROOT, "checklist", ObjType::List).unwrap();
            let item = d.insert_object(&list, 0, ObjType::Map).unwrap();
            d.put(&item, "text", "Walk the site").unwrap();
            d.put(&item, "done", false).unwrap();
            let issues = d.put_object(ROOT, "issues_found", ObjType::List).unwrap();
            d.insert(&issues, 0, "a, b").unwrap();
            d.put(ROOT, "title", "Visit").unwrap();
        });
        let ticked = merged_with(&mut before, |d| {
            let list = d.get(ROOT, "checklist").unwrap().unwrap().1;
            let item = d.get(&list, 0).unwrap().unwrap().1;
            d.put(&item, "done", true).unwrap();
        });
        assert_eq!(written_fields(Some(&before), &ticked), vec!["checklist"]);
        let split = merged_with(&mut before, |d| {
            let issues = d.put_object(ROOT, "issues_found", ObjType::List).unwrap();
            d.insert(&issues, 0, "a").unwrap();
            d.insert(&issues, 1, "b").unwrap();
        });
        assert_eq!(written_fields(Some(&before), &split), vec!["issues_found"]);
        // A concurrent title: whichever value wins, the device wrote the title.
        let mut server = before.clone();
        let concurrent = merged_with(&mut before, |d| {
            d.put(ROOT, "title", "Another visit").unwrap();
        });
        server.put(ROOT, "title", "The supervisor's visit").unwrap();
        server.commit();
        let mut after = server.clone();
        after.merge(&mut concurrent.clone()).unwrap();
        assert_eq!(written_fields(Some(&server), &after), vec!["title"]);
        assert!(check_change(Role::FieldOfficer, RecordKind::MonitoringTask, Some(&server), &after).is_err());
        // Nothing written, nothing checked.
        assert!(written_fields(Some(&before), &before.clone()).is_empty());
    }

    #[test]
    fn a_losing_value_nested_far_deeper_than_any_field_is_a_write_not_a_stack_overflow() {
        let mut before = task_with(|d| {
            let issues = d.put_object(ROOT, "issues_found", ObjType::List).unwrap();
            d.insert(&issues, 0, "a").unwrap();
        });
        let deep = merged_with(&mut before, |d| {
            let issues = d.get(ROOT, "issues_found").unwrap().unwrap().1;
            let mut list = d.put_object(&issues, 0, ObjType::List).unwrap();
            for _ in 0..100_000 {
                list = d.insert_object(&list, 0, ObjType::List).unwrap();
            }
        });
        let mut server = before.clone();
        server.put(&server.get(ROOT, "issues_found").unwrap().unwrap().1, 0, "b").unwrap();
        server.commit();
        let mut after = server.clone();
        after.merge(&mut deep.clone()).unwrap();
        assert_eq!(written_fields(Some(&server), &after), vec!["issues_found"]);
    }

    #[test]
    fn officers_capture_and_work_tasks_supervisors_hand_them_out() {
        use RecordKind::*;
        assert!(may_create(Role::FieldOfficer, ManaAssessment).is_ok());
        assert!(may_create(Role::FieldOfficer, MonitoringTask).is_err());
        assert!(may_create(Role::Supervisor, MonitoringTask).is_ok());
        assert!(may_create(Role::MinistryStaff, ManaAssessment).is_err());
        assert!(may_write(Role::MinistryStaff, ManaAssessment, "households").is_ok());
        assert!(may_write(Role::FieldOfficer, MonitoringTask, "progress_percent").is_ok());
        assert!(may_write(Role::FieldOfficer, MonitoringTask, "assignee").is_err());
        assert!(may_move(Role::FieldOfficer, ManaAssessment, Some("draft"), "submitted").is_ok());
        assert!(may_move(Role::FieldOfficer, ManaAssessment, Some("submitted"), "validated").is_err());
        assert!(may_move(Role::FieldOfficer, ManaAssessment, Some("validated"), "validated").is_ok());
        for role in [Role::OcmExecutive, Role::OcmAnalyst, Role::BpdaPlanner, Role::MfbmBudgetOfficer, Role::SystemAdmin] {
            assert!(may_create(role, ManaAssessment).is_err(), "{role}");
            assert!(may_write(role, MonitoringTask, "status").is_err(), "{role}");
        }
    }

    #[test]
    fn a_proposal_is_drafted_at_the_desk_and_frozen_once_submitted() {
        let kind = RecordKind::PpaProposal;
        assert!(may_create(Role::MinistryStaff, kind).is_ok());
        assert!(may_create(Role::FieldOfficer, kind).is_err());
        assert!(may_create(Role::BpdaPlanner, kind).is_err());
        assert!(may_move(Role::Supervisor, kind, Some("draft"), "submitted").is_err(), "submission is the desk's, online");
        let proposal = |status: &str| {
            let mut doc = records::new_document(crate::DocId(uuid::Uuid::from_u128(2)), kind, automerge::ActorId::from(vec![1u8; 16]));
            doc.put(ROOT, "status", status).unwrap();
            doc.commit();
            doc
        };
        for (status, editable) in [("draft", true), ("returned", true), ("submitted", false), ("certified", true)] {
            let mut before = proposal(status);
            let after = merged_with(&mut before, |d| {
                d.put(ROOT, "title", "Classrooms for Datu Piang").unwrap();
            });
            let outcome = check_change(Role::MinistryStaff, kind, Some(&before), &after);
            assert_eq!(outcome.is_ok(), editable, "{status}: {outcome:?}");
            if let Err(Denied(message)) = outcome {
                assert!(message.contains(status) && message.contains("sends it back"), "{message}");
            }
        }
    }
}

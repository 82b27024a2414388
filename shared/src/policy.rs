//! Who may do what to a record: the one authority. The JSON routes ask it before they
//! write, the sync path asks it of every document a device sends (by what the device's
//! changes touched), and the app asks it to hide what a person cannot do. The plans and
//! budgets modules add their record kinds here.
//!
//! Three questions, each answered for a role and a record kind:
//! - may it **create** such a record;
//! - may it **write** a given field of one;
//! - may it **move** the record's status from one value to another.

use automerge::{AutoCommit, ReadDoc};

use crate::records::{self, FieldValue, RecordKind};
use crate::Role;

/// A refusal, in a sentence the person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

/// Fields of a monitoring task that the supervisor sets when handing it out; the
/// officer doing the visit writes the others (status, progress, checklist, findings).
const TASK_ASSIGNMENT_FIELDS: &[&str] = &["title", "ppa", "site", "description", "due_date", "assignee"];

/// Roles that do field work in an organization.
fn captures_in_the_field(role: Role) -> bool {
    matches!(role, Role::FieldOfficer | Role::Supervisor | Role::OrgAdmin)
}

/// May `role` create a record of `kind`?
pub fn may_create(role: Role, kind: RecordKind) -> Result<(), Denied> {
    let allowed = match kind {
        RecordKind::ManaAssessment => captures_in_the_field(role),
        RecordKind::MonitoringTask => role.supervises(),
    };
    allowed.then_some(()).ok_or_else(|| {
        Denied(match kind {
            RecordKind::ManaAssessment => format!("A {} cannot start a MANA assessment; field officers and supervisors do.", role.label().to_lowercase()),
            RecordKind::MonitoringTask => "Only a supervisor can create a monitoring task.".to_owned(),
        })
    })
}

/// May `role` write `field` of a record of `kind`?
pub fn may_write(role: Role, kind: RecordKind, field: &str) -> Result<(), Denied> {
    let allowed = match kind {
        RecordKind::ManaAssessment => captures_in_the_field(role) || role == Role::MinistryStaff,
        RecordKind::MonitoringTask if TASK_ASSIGNMENT_FIELDS.contains(&field) => role.supervises(),
        RecordKind::MonitoringTask => captures_in_the_field(role),
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
        _ => Ok(()),
    }
}

/// Checks everything a change did to a record: created it, wrote fields, moved its
/// status. `before` is the record as it was (none for a new one), `after` with the change.
pub fn check_change(role: Role, kind: RecordKind, before: Option<&AutoCommit>, after: &AutoCommit) -> Result<(), Denied> {
    if before.is_none() {
        may_create(role, kind)?;
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

/// The root fields whose values differ between `before` and `after` (every field of a
/// new record), compared value by value, conflicting values included. A record's
/// identity keys and resolution notes are not fields; the schema checks guard those.
fn written_fields(before: Option<&AutoCommit>, after: &AutoCommit) -> Vec<String> {
    let kind = records::kind_of(after).ok();
    let values = |doc: &AutoCommit, key: &str| -> Vec<String> {
        doc.get_all(automerge::ROOT, key)
            .unwrap_or_default()
            .into_iter()
            .map(|(value, id)| records::shown_value(doc, &value, &id))
            .collect()
    };
    let mut keys: Vec<String> = after.keys(automerge::ROOT).collect();
    if let Some(before) = before {
        keys.extend(before.keys(automerge::ROOT).filter(|k| !keys.contains(k)).collect::<Vec<_>>());
    }
    keys.into_iter()
        .filter(|key| kind.is_some_and(|k| k.field(key).is_some()))
        .filter(|key| before.is_none_or(|before| values(before, key) != values(after, key)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! Monitoring task: a visit to check on a PPA (program, project or activity).

use super::fields::{FieldSpec, FieldType};
use std::sync::OnceLock;

pub const STATUSES: &[&str] = &["todo", "in_progress", "blocked", "done"];

/// Every field of a monitoring task.
pub fn fields() -> &'static [FieldSpec] {
    static FIELDS: OnceLock<Vec<FieldSpec>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        vec![
            FieldSpec::new("ppa", "Program, project or activity", FieldType::Text { max_chars: 200 }),
            // The id of the PPA proposal the task monitors, chosen by a supervisor from the
            // organization's submitted or certified ones; `ppa` then holds its title, which
            // is what an app older than the link shows. Tasks made before keep their text.
            FieldSpec::new("ppa_id", "PPA monitored", FieldType::Text { max_chars: 36 }),
            // A milestone of that PPA (its number) which the task checks: when the task is
            // done, so is the milestone. The certified plan stays as it was certified.
            FieldSpec::new("ppa_milestone", "Milestone checked", FieldType::Integer { min: 1, max: super::ppa::MILESTONE_SLOTS as i64 }),
            FieldSpec::new("site", "Site", FieldType::Text { max_chars: 200 }),
            FieldSpec::new("location.latitude", "Latitude", FieldType::Decimal { min: -90.0, max: 90.0 }),
            FieldSpec::new("location.longitude", "Longitude", FieldType::Decimal { min: -180.0, max: 180.0 }),
            FieldSpec::new("title", "Title", FieldType::Text { max_chars: 200 }),
            FieldSpec::new("description", "Description", FieldType::Text { max_chars: 5_000 }),
            FieldSpec::new("assignee", "Assigned to", FieldType::Text { max_chars: 64 }),
            FieldSpec::new("due_date", "Due date", FieldType::Date),
            FieldSpec::new("status", "Status", FieldType::Choice(STATUSES)),
            FieldSpec::new("progress_percent", "Progress (%)", FieldType::Integer { min: 0, max: 100 }),
            FieldSpec::new("checklist", "Checklist", FieldType::Checklist { max_items: 100 }),
            FieldSpec::new("observations", "Observations", FieldType::Text { max_chars: 10_000 }),
            FieldSpec::new("issues_found", "Issues found", FieldType::TextList { max_items: 100, max_chars: 500 }),
            FieldSpec::new(super::mana::PHOTOS_FIELD, "Photos", FieldType::Photos { max_items: super::mana::MAX_PHOTOS }),
        ]
    })
}

/// Checklists a supervisor starts a task from: (name, label, items).
pub const CHECKLIST_TEMPLATES: &[(&str, &str, &[&str])] = &[
    (
        "site_visit",
        "Site visit",
        &["Meet the barangay officials", "Walk the site and take photos", "Record the GPS point", "Note the issues found"],
    ),
    (
        "infrastructure",
        "Infrastructure inspection",
        &[
            "Check the works against the plan",
            "Estimate the physical progress",
            "Check safety and signage",
            "Interview the contractor's engineer",
            "Photograph each part of the works",
        ],
    ),
    (
        "beneficiaries",
        "Beneficiary validation",
        &["Get the list of beneficiaries", "Visit a sample of households", "Confirm what each received", "Note complaints and grievances"],
    ),
];

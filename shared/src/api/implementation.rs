//! How PPAs are being carried out: one PPA's milestones and the monitoring tasks that
//! point at it, and the implementation view across PPAs for the Office of the Chief
//! Minister (server: `routes/implementation.rs`).
//!
//! A PPA is **at risk** when one of its milestones is overdue, one of its tasks is
//! overdue, or one of its tasks not done has not changed for [`STALLED_AFTER_DAYS`].

use super::{default_limit, is_default_limit, is_zero, Date, Page, DEFAULT_LIMIT};
use crate::{DocId, OrgId};
use serde::{Deserialize, Serialize};

/// A task not done that nobody changed for this many days has stalled.
pub const STALLED_AFTER_DAYS: i32 = 14;

/// `GET /api/v1/proposals/{id}/implementation?org=`: `org` only for OCM's analysts, who
/// open any organization's PPA; everyone else reads their own organization's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplementationOf {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgId>,
}

/// One PPA's implementation. Every `Option` is sent as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpaImplementation {
    pub proposal_id: DocId,
    pub title: Option<String>,
    pub status: String,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    /// The tasks' average progress, a done task counting as 100; `null` with no task.
    pub progress_percent: Option<i64>,
    /// How much of the time from start to end has passed: the progress that would be on
    /// schedule today. `null` without both dates.
    pub expected_percent: Option<i64>,
    pub milestones: Vec<Milestone>,
    pub tasks: Vec<PpaTask>,
    /// Why the PPA is at risk, one sentence each; empty when it is not.
    pub risks: Vec<String>,
}

/// A milestone of the proposal (`milestone.{n}.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub n: u32,
    pub title: Option<String>,
    pub due: Option<Date>,
    /// As the proposal says, or the day the first done task that checks it was last
    /// changed (the day the server learned it was done).
    pub done_on: Option<Date>,
    /// The done monitoring task that checked it, if a task did.
    #[serde(default)]
    pub checked_by: Option<DocId>,
    /// Not done, and due before today.
    pub overdue: bool,
}

/// A monitoring task that points at the PPA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpaTask {
    pub id: DocId,
    pub title: Option<String>,
    pub status: String,
    pub assignee: Option<String>,
    pub due_date: Option<Date>,
    pub progress_percent: Option<i32>,
    /// The milestone it checks, by number.
    #[serde(default)]
    pub milestone: Option<u32>,
    pub overdue: bool,
    /// Not done, and unchanged for [`STALLED_AFTER_DAYS`].
    pub stalled: bool,
}

/// `GET /api/v1/implementation?org=&status=&goal=&limit=&offset=` (and
/// `/implementation/export?format=csv|json` with the same filters): the PPAs submitted to
/// BPDA, the late ones first. OCM sees every organization's (`org` narrows to one);
/// everyone else their own organization's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplementationQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A BDP goal's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    /// Only the PPAs at risk.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub at_risk: bool,
    #[serde(default = "default_limit", skip_serializing_if = "is_default_limit")]
    pub limit: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub offset: i64,
    /// For the export: `csv` (the default) or `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl Default for ImplementationQuery {
    fn default() -> Self {
        ImplementationQuery { org: None, status: None, goal: None, at_risk: false, limit: DEFAULT_LIMIT, offset: 0, format: None }
    }
}

/// The implementation view: counts by status and by organization (with the goal and
/// organization filters, not the status one), and a page of PPAs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Implementation {
    pub by_status: Vec<StatusCount>,
    pub by_organization: Vec<OrganizationImplementation>,
    pub rows: Page<ImplementationRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: String,
    pub ppas: i64,
    pub at_risk: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationImplementation {
    pub org_id: OrgId,
    pub code: String,
    pub name: String,
    pub ppas: i64,
    pub at_risk: i64,
    /// The average of its PPAs' progress, over those with tasks.
    pub average_progress: Option<i64>,
}

/// One PPA in the implementation view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImplementationRow {
    pub org_id: OrgId,
    pub org_code: String,
    pub proposal_id: DocId,
    pub title: Option<String>,
    pub status: String,
    /// Certified, but changed since: the certification no longer holds.
    #[serde(default)]
    pub certification_void: bool,
    pub goals: Vec<String>,
    pub end_date: Option<Date>,
    pub progress_percent: Option<i64>,
    pub expected_percent: Option<i64>,
    pub tasks: i32,
    pub milestones: i32,
    pub milestones_done: i32,
    pub overdue_milestones: i32,
    /// The earliest due date of a milestone or task not done.
    pub late_since: Option<Date>,
    pub at_risk: bool,
}

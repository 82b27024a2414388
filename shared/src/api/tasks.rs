//! Monitoring tasks for supervisors: the task list, a new task, reassignment and each
//! officer's progress (server: `routes/tasks.rs`).

use super::{default_limit, is_default_limit, is_zero, Date, DEFAULT_LIMIT};
use crate::{DocId, Role};
use serde::{Deserialize, Serialize};

/// `GET /api/v1/tasks?status=&assignee=&limit=&offset=`: a [`super::Page`] of [`TaskRow`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The officer's username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default = "default_limit", skip_serializing_if = "is_default_limit")]
    pub limit: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub offset: i64,
}

/// No filter, the first page of [`DEFAULT_LIMIT`] rows (as the server reads an empty query).
impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery { status: None, assignee: None, limit: DEFAULT_LIMIT, offset: 0 }
    }
}

/// A task as the task list shows it, by due date. Every `Option` is sent as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRow {
    /// The officer's username.
    pub assignee: Option<String>,
    pub due_date: Option<Date>,
    pub id: DocId,
    /// Not done, and due before today.
    pub overdue: bool,
    /// The PPA proposal the task monitors, when a supervisor chose one.
    pub ppa_id: Option<DocId>,
    pub progress_percent: Option<i32>,
    pub site: Option<String>,
    pub status: String,
    pub title: Option<String>,
}

/// `POST /api/v1/tasks`: a new task, assigned. Answered with [`TaskCreated`] (201, or
/// 200 when the same request came before).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// Chosen by the client, so that the same request sent twice creates one task; a new
    /// one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<DocId>,
    pub title: String,
    /// The PPA as text: what tasks had before they could point at one. Left empty when
    /// `ppa_id` is given; the PPA's title is written instead.
    #[serde(default)]
    pub ppa: String,
    /// One of the organization's submitted or certified PPA proposals
    /// (`GET /api/v1/tasks/ppas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppa_id: Option<DocId>,
    /// A milestone of that PPA (its number, from the choice's `milestones`) that the task
    /// checks: done with the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppa_milestone: Option<u32>,
    pub site: String,
    #[serde(default)]
    pub description: String,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    /// The officer's username.
    pub assignee: String,
    /// The checklist's items, e.g. from one of `crate::records::task::CHECKLIST_TEMPLATES`.
    #[serde(default)]
    pub checklist: Vec<String>,
}

/// The answer to `POST /api/v1/tasks`: `{"id": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCreated {
    pub id: DocId,
}

/// `POST /api/v1/tasks/{id}/assign`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// The officer's username.
    pub assignee: String,
}

/// The answer to `POST /api/v1/tasks/{id}/assign`: the assignee as kept (trimmed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assigned {
    pub assignee: String,
    pub id: DocId,
}

/// `GET /api/v1/officers` (an [`super::Items`]): one field officer's or supervisor's
/// tasks, counted by status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfficerProgress {
    /// Whole percent over their tasks (`null`: no task reports progress).
    pub average_progress: Option<i64>,
    pub blocked: i64,
    pub display_name: String,
    pub done: i64,
    pub in_progress: i64,
    pub overdue: i64,
    pub role: Role,
    /// All their tasks.
    pub tasks: i64,
    pub todo: i64,
    pub username: String,
}

/// `GET /api/v1/tasks/ppas`: the PPAs a task may point at, the organization's submitted
/// and certified proposals, by title. Answered as `{"items": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpaChoice {
    pub id: DocId,
    pub status: String,
    pub title: String,
    /// Its milestones not done yet, which a task may check.
    #[serde(default)]
    pub milestones: Vec<MilestoneChoice>,
}

/// A milestone of a PPA, as a task's form offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneChoice {
    pub n: u32,
    pub title: String,
    pub due: Option<Date>,
}

//! JSON bodies of the HTTP API (`/api/v1`), declared once here and used by the app and
//! the server alike, so that the two cannot disagree about a field name, a null or a
//! missing field. One file per resource; every type is re-exported here
//! (`bmms_shared::api::X`).
//!
//! What the wire format is, and why the declarations look the way they do:
//! - **Field order.** The server wrote most bodies with `serde_json::json!`, whose map
//!   sorts keys alphabetically (this workspace does not turn on `preserve_order`). Those
//!   bodies declare their fields in alphabetical order, so that they still serialize to
//!   the same bytes (the dashboard's `ETag` is a digest of them). The bodies the server
//!   always wrote from a struct ([`Me`], [`OrganizationSummary`], [`DeviceRegistration`],
//!   [`ErrorBody`]) keep their declaration order. Readers never depend on the order.
//! - **Nulls.** An `Option` the server sends as `null` has no `skip_serializing_if`; one
//!   it leaves out has it. Each type says which.
//! - **Times and dates** are strings ([`Timestamp`], [`Date`]): this crate does not
//!   depend on chrono, so that the browser app does not carry it (the app only shows
//!   them). The server formats them exactly as chrono's serde did; see the aliases.
//! - **Queries** (`?status=&limit=`) are declared here too: the server reads them and the
//!   app writes them (through serde, into `key=value` pairs).

mod aip;
mod audit;
mod auth;
mod budget;
mod conflicts;
mod dashboard;
mod devices;
mod implementation;
mod people;
mod plans;
mod records;
mod review;
mod tasks;
#[cfg(test)]
mod tests;

pub use aip::{Aip, AipQuery, AipRow, AipTotal};
pub use audit::{AuditEntry, AuditPage, AuditQuery, AuditVerification};
pub use budget::{
    AddToBudget, BudgetCall, BudgetCallInput, BudgetCandidate, BudgetPpa, BudgetProposal, BudgetReview, BudgetSubmission, BudgetTransition, Ceiling, CeilingInput,
    Allotment, BudgetForApproval, Deadline, ExpenditureProgram, LedgerEntry, LedgerLine, LedgerQuery, ProgramLine, ProgramTotal, RecordEntry, ReleaseAllotment, ReverseEntry,
    ReviewBudget, SubmitBudget, AlertThreshold, BudgetMonitoring, MonitoringQuery, OrganizationUtilization, Utilization, UtilizationAlert,
};
pub use auth::{
    LoginRequest, Me, NewPasskey, OrganizationSummary, PasskeyAdded, PasskeyAnswer, PasskeyChallenge, PasskeyName, PasskeySummary, RecoveryCodes, SecondFactorCode, SecondFactors, SignInStep, SignedOut, SsoLinkStart, SsoProvider, TotpSetUp, UserSummary,
};
pub use conflicts::{ConflictDetail, QueuedConflict, Resolution, Resolve, ResolveMany, Settlement, WrittenValue};
pub use dashboard::{
    BudgetFigures, ByMonth, ByStatus, Dashboard, DashboardOrganization, DashboardQuery, DrillQuery, Figures, Need, OrgFigures, Place,
    TaskTotals, Totals,
};
pub use devices::{DeviceHealth, DeviceHealthList, DeviceRegistration, HealthQuery, OfficerAreas, Pin, Pinned};
pub use implementation::{
    Implementation, ImplementationOf, ImplementationQuery, ImplementationRow, Milestone, OrganizationImplementation, PpaImplementation,
    PpaTask, StatusCount, STALLED_AFTER_DAYS,
};
pub use people::{ForOrganization, NewOrganization, NewPerson, OrganizationName, PasswordChosen, People, Person, RoleChange, SetUpLink, SetUpPassword};
pub use plans::{
    Bdp, BdpGoal, BdpIndicator, BdpPriority, BdpSettings, GoalInput, IndicatorInput, MultiYearPlan, PartnerProposal, PlanGoal, PlanLine, PriorityInput, QueuedProposal,
    Submitted, Target,
};
pub use review::{Adjustment, AdjustmentInput, Certified, Decision, ReturnInput, Standing, SubmissionReview};
pub use records::{AssessmentQuery, AssessmentRow, ChangeKind, ChangedField, HistoryEntry, Record, RecordConflict, RecordHistory};
pub use tasks::{Assign, Assigned, MilestoneChoice, NewTask, OfficerProgress, PpaChoice, TaskCreated, TaskQuery, TaskRow};

use serde::{Deserialize, Serialize};

/// Name of the header that carries the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A moment in server time, RFC 3339 in UTC as chrono's serde writes a `DateTime<Utc>`:
/// `2026-12-04T09:00:00.123456Z` (`to_rfc3339_opts(SecondsFormat::AutoSi, true)`: no
/// fraction, or 3, 6 or 9 digits, and `Z`).
pub type Timestamp = String;

/// A calendar day, `YYYY-MM-DD`, as chrono's serde writes a `NaiveDate` (its `to_string()`).
pub type Date = String;

/// Every error answer of the API: a stable code for programs and a sentence for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    /// The input field the message is about, where there is one (to show it beside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A list answered whole: `{"items": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// One page of a longer list: `limit` rows from `offset`, of `total` in all (the whole
/// filtered list, not this page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub limit: i64,
    pub offset: i64,
    pub total: i64,
}

/// Rows a list answers when the address names no `limit` (at most 200).
pub const DEFAULT_LIMIT: i64 = 50;

/// For `#[serde(default = ...)]` of the queries' `limit`.
pub fn default_limit() -> i64 {
    DEFAULT_LIMIT
}

/// A query leaves out the default `limit`: the address says only what it changes.
fn is_default_limit(limit: &i64) -> bool {
    *limit == DEFAULT_LIMIT
}

fn is_zero(offset: &i64) -> bool {
    *offset == 0
}

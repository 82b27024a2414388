//! MFBM's budget call (server: `routes/budget_calls.rs`): a fiscal year's message, the
//! calendar of its stages and each organization's indicative ceiling. Amounts are whole
//! centavos.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The body of `POST /api/v1/budget-calls` (issuing a year's call) and of
/// `PUT /api/v1/budget-calls/{year}` (amending it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetCallInput {
    pub fiscal_year: i32,
    pub message: String,
    /// A deadline (`YYYY-MM-DD`) for each stage after the call (`budget::scheduled_stages`),
    /// in the stages' order.
    pub deadlines: BTreeMap<String, String>,
    /// At most one per organization, named by its code.
    pub ceilings: Vec<CeilingInput>,
}

/// One organization's indicative ceiling: in all and, where MFBM sets one, by expense class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeilingInput {
    pub organization_code: String,
    pub total: i64,
    #[serde(default)]
    pub ps: Option<i64>,
    #[serde(default)]
    pub mooe: Option<i64>,
    #[serde(default)]
    pub co: Option<i64>,
}

/// A stage's deadline in the call's calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deadline {
    pub stage: String,
    /// The stage's name for people: "Technical review".
    pub name: String,
    pub due: String,
}

/// An organization's ceiling, as the caller may read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceiling {
    pub organization_code: String,
    pub organization_name: String,
    pub total: i64,
    pub ps: Option<i64>,
    pub mooe: Option<i64>,
    pub co: Option<i64>,
}

/// A fiscal year's budget call. `ceilings` holds what the caller may read: every one for
/// MFBM and OCM, the organization's own for everyone else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetCall {
    pub fiscal_year: i32,
    pub message: String,
    pub issued_by: String,
    pub issued_at: String,
    pub updated_by: String,
    pub updated_at: String,
    pub deadlines: Vec<Deadline>,
    pub ceilings: Vec<Ceiling>,
}

/// One PPA of a budget proposal: the version being budgeted and the fiscal year's cost
/// by quarter (1 to 4) and class (PS, MOOE, CO), in centavos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetPpa {
    pub proposal_id: crate::DocId,
    pub title: String,
    pub version: i32,
    /// BPDA certified that version, it is the PPA's latest, and the PPA has not changed since.
    pub certification_holds: bool,
    pub lines: [[i64; 3]; 4],
    pub total: i64,
}

/// A certified PPA of the organization with a cost in the fiscal year, not yet in its budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetCandidate {
    pub proposal_id: crate::DocId,
    pub title: String,
    pub version: i32,
    pub year_cost: i64,
}

/// One move of a budget proposal: from a status to another, by whom and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetTransition {
    pub from_status: String,
    pub to_status: String,
    pub moved_by: String,
    pub moved_at: String,
}

/// `GET /api/v1/budget-proposals/{year}`: the organization's budget proposal for the year,
/// with what the compliance check finds in it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetProposal {
    pub fiscal_year: i32,
    pub organization_code: String,
    /// `preparing`, `prepared` (signed by its preparer) or `submitted` (sent to MFBM by the head).
    pub status: String,
    pub prepared_by: Option<String>,
    pub prepared_at: Option<String>,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<String>,
    pub late_reason: Option<String>,
    pub ppas: Vec<BudgetPpa>,
    /// By class (PS, MOOE, CO) and by quarter, and in all, in centavos.
    pub by_class: [i64; 3],
    pub by_quarter: [i64; 4],
    pub total: i64,
    pub ceiling: Option<Ceiling>,
    /// The budget submission deadline of the year's call.
    pub deadline: Option<String>,
    pub violations: Vec<crate::budget::compliance::Violation>,
    /// The organization's certified PPAs that could be added (while it is being prepared).
    pub candidates: Vec<BudgetCandidate>,
    pub history: Vec<BudgetTransition>,
    /// MFBM's latest technical review of it, if any.
    pub review: Option<BudgetReview>,
    /// OCM's executive approval of this submission, if given: by whom and when.
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    /// When MFBM submitted the year's budget to Parliament with this one in it.
    pub in_parliament_at: Option<String>,
}

/// MFBM's technical review of a submitted budget: `returned` (to prepare again, with
/// comments) or `recommended`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetReview {
    pub decision: String,
    pub comments: String,
    pub reviewed_by: String,
    pub reviewed_at: String,
}

/// The body of `POST /api/v1/budget-submissions/{year}/{organization_code}/review`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBudget {
    /// `returned` or `recommended`.
    pub decision: String,
    pub comments: String,
}

/// One organization's submitted budget in MFBM's list of a year's submissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetSubmission {
    pub organization_code: String,
    pub organization_name: String,
    pub total: i64,
    pub ceiling: Option<i64>,
    pub submitted_at: String,
    /// Submitted after the deadline (its reason is in the proposal).
    pub late: bool,
    pub errors: usize,
    pub warnings: usize,
    /// What the compliance check finds now, each with its rule, PPA and line: MFBM reads
    /// every submission's in one list.
    #[serde(default)]
    pub violations: Vec<crate::budget::compliance::Violation>,
    /// MFBM's review of this submission, if any: `recommended`.
    pub review: Option<String>,
}

/// The body of `POST /api/v1/budget-proposals/{year}/ppas`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddToBudget {
    pub proposal_id: crate::DocId,
}

/// The body of `POST /api/v1/budget-proposals/{year}/submit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitBudget {
    /// Why it is late, when it is submitted after the deadline.
    #[serde(default)]
    pub late_reason: Option<String>,
}

/// A budget MFBM recommended, in OCM's list for executive approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetForApproval {
    pub organization_code: String,
    pub organization_name: String,
    pub total: i64,
    pub ceiling: Option<i64>,
    pub recommended_by: String,
    pub recommended_at: String,
    pub comments: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
}

/// One line of the expenditure program: a PPA's cost in one expense class, by quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramLine {
    pub organization_code: String,
    pub proposal_id: crate::DocId,
    pub title: String,
    /// `PS`, `MOOE` or `CO`.
    pub class: String,
    pub quarters: [i64; 4],
    pub total: i64,
}

/// An organization's total in the expenditure program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramTotal {
    pub organization_code: String,
    pub organization_name: String,
    /// PS, MOOE, CO.
    pub by_class: [i64; 3],
    pub total: i64,
}

/// `GET /api/v1/expenditure-program/{year}`: the year's budgets approved by OCM,
/// organization × PPA × expense class × quarter, with totals (centavos). Once MFBM
/// submitted the year's budget to Parliament, the budgets it gathered then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpenditureProgram {
    pub fiscal_year: i32,
    pub submitted_to_parliament_by: Option<String>,
    pub submitted_to_parliament_at: Option<String>,
    pub lines: Vec<ProgramLine>,
    pub by_organization: Vec<ProgramTotal>,
    pub by_class: [i64; 3],
    pub by_quarter: [i64; 4],
    pub total: i64,
}

/// The body of `POST /api/v1/allotments`: MFBM releases an allotment (SARO) for a quarter,
/// to an organization, for one PPA and expense class of its enacted budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseAllotment {
    pub fiscal_year: i32,
    pub quarter: i16,
    pub organization_code: String,
    pub proposal_id: crate::DocId,
    /// `ps`, `mooe` or `co`.
    pub class: String,
    /// Whole centavos, more than 0.
    pub amount: i64,
    /// The release's number (the SARO's).
    pub reference: String,
}

/// An allotment with where it stands: obligated and disbursed against it (centavos).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allotment {
    pub id: uuid::Uuid,
    pub fiscal_year: i32,
    pub quarter: i16,
    pub organization_code: String,
    pub proposal_id: crate::DocId,
    pub class: String,
    pub reference: String,
    pub released_at: String,
    pub allotted: i64,
    pub obligated: i64,
    pub disbursed: i64,
}

/// The body of `POST /api/v1/ledger`: an obligation (ORS) or a disbursement (DV) against
/// an allotment of the organization's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordEntry {
    pub allotment_id: uuid::Uuid,
    /// `obligation` or `disbursement`.
    pub kind: String,
    /// Whole centavos, more than 0.
    pub amount: i64,
    /// The document's number (the ORS's or the DV's).
    pub reference: String,
}

/// The body of `POST /api/v1/ledger/{id}/reverse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReverseEntry {
    pub reason: String,
}

/// One entry of the ledger; a reversal has a negative amount and names the entry it reverses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub allotment_id: uuid::Uuid,
    pub kind: String,
    pub amount: i64,
    pub reference: String,
    pub reverses: Option<i64>,
    pub reason: Option<String>,
    pub recorded_at: String,
    /// The allotment's balance after the entry.
    pub balance: Allotment,
}

/// `GET /api/v1/ledger?allotment_id=`: one entry of an allotment's ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerLine {
    pub id: i64,
    pub kind: String,
    pub amount: i64,
    pub reference: String,
    pub reverses: Option<i64>,
    pub reason: Option<String>,
    /// A later entry reverses this one.
    pub reversed: bool,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// The query of `GET /api/v1/ledger`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    pub allotment_id: uuid::Uuid,
}

/// `GET /api/v1/budget-monitoring?year=&threshold=`: where the enacted budget stands, as
/// the caller may see it (every organization for OCM and MFBM; a ministry its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetMonitoring {
    pub fiscal_year: i32,
    /// The utilization, in percent, below which a quarter's end raises an alert: the one
    /// asked for, else the one OCM set.
    pub threshold: u32,
    pub totals: Utilization,
    pub by_organization: Vec<OrganizationUtilization>,
    /// Quarter 1 to 4: planned (the enacted budget's quarters), and the execution of the
    /// allotments of that quarter.
    pub by_quarter: Vec<Utilization>,
    pub alerts: Vec<UtilizationAlert>,
}

/// Planned, released, obligated and disbursed, in centavos.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Utilization {
    pub planned: i64,
    pub released: i64,
    pub obligated: i64,
    pub disbursed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationUtilization {
    pub organization_code: String,
    pub organization_name: String,
    pub utilization: Utilization,
    /// Quarter 1 to 4.
    pub by_quarter: Vec<Utilization>,
}

/// An organization whose obligations, at the end of a quarter, were below the threshold
/// share of what had been released to it by then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UtilizationAlert {
    pub organization_code: String,
    pub quarter: u32,
    /// Obligated through the quarter, in percent of released through it (one decimal).
    pub utilization_percent: f64,
    pub message: String,
}

/// `PUT /api/v1/budget-monitoring/threshold`, and its answer: the share of releases, in
/// percent (0 to 100), below which an organization's obligations at a quarter's end
/// raise an alert; OCM sets it for everyone who reads budget monitoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertThreshold {
    pub threshold: u32,
}

/// The query of `GET /api/v1/budget-monitoring` and its export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringQuery {
    pub year: i32,
    /// Percent, 0 to 100, to see the alerts another threshold would raise; when not
    /// given, the one OCM set (50 until it sets one).
    pub threshold: Option<u32>,
    /// For the export: `csv` (the default) or `json`.
    pub format: Option<String>,
}

//! Who may do what with the budget (MFBM's budget call, a ministry's budget proposal,
//! MFBM's review, OCM's executive approval, the expenditure program, the ledger): the
//! server asks these before it writes, the app before it offers.

use super::{only, Denied};
use crate::Role;

/// May `role` issue or amend a fiscal year's budget call (its message, calendar and
/// ceilings)? MFBM's budget officers alone; the database holds the rows to MFBM as well.
pub fn may_issue_budget_call(role: Role) -> Result<(), Denied> {
    only(role == Role::MfbmBudgetOfficer, "Only an MFBM budget officer can issue or amend the budget call.")
}

/// May `role` prepare the organization's budget proposal: add and remove its PPAs, sign
/// it as its preparer, reopen it? The organization's desk staff (ministry staff,
/// supervisors, its administrator); whether the organization proposes a budget at all is
/// the server's to check.
pub fn may_prepare_budget(role: Role) -> Result<(), Denied> {
    let desk_staff = matches!(role, Role::MinistryStaff | Role::Supervisor | Role::OrgAdmin);
    only(desk_staff, "Only the organization's desk staff prepare its budget proposal.")
}

/// May `role` submit the organization's budget proposal to MFBM? Its administrator, who
/// answers for the organization as its head; never the person who prepared it (the
/// server checks that).
pub fn may_submit_budget(role: Role) -> Result<(), Denied> {
    only(role == Role::OrgAdmin, "Only the organization's administrator, as its head, submits its budget proposal to MFBM.")
}

/// May `role` review the budgets submitted to MFBM: read every one with its compliance
/// check, send one back or recommend it? MFBM's budget officers alone.
pub fn may_review_budgets(role: Role) -> Result<(), Denied> {
    only(role == Role::MfbmBudgetOfficer, "Only MFBM's budget officers review the submitted budgets.")
}

/// May `role` give OCM's executive approval to a budget MFBM recommended? OCM's
/// executives alone: the one decision OCM records, as its own row.
pub fn may_approve_budgets(role: Role) -> Result<(), Denied> {
    only(role == Role::OcmExecutive, "Only an OCM executive gives the executive approval of a budget.")
}

/// May `role` read the year's expenditure program (every approved budget, PPA by PPA)?
/// MFBM's budget officers, who consolidate it, and OCM, which approved it.
pub fn may_read_expenditure_program(role: Role) -> Result<(), Denied> {
    let reads = matches!(role, Role::MfbmBudgetOfficer | Role::OcmExecutive | Role::OcmAnalyst);
    only(reads, "Only MFBM's budget officers and OCM read the whole expenditure program.")
}

/// May `role` release allotments of an enacted budget? MFBM's budget officers alone.
pub fn may_release_allotments(role: Role) -> Result<(), Denied> {
    only(role == Role::MfbmBudgetOfficer, "Only MFBM's budget officers release allotments.")
}

/// May `role` record the organization's obligations and disbursements, and reverse them?
/// Its desk staff, who keep its books at the desk.
pub fn may_record_ledger(role: Role) -> Result<(), Denied> {
    only(may_prepare_budget(role).is_ok(), "Only the organization's desk staff record its obligations and disbursements.")
}

/// May `role` set the threshold of budget monitoring's alerts, for the whole government?
/// OCM's executives and analysts: OCM watches the budget's execution.
pub fn may_set_alert_threshold(role: Role) -> Result<(), Denied> {
    let ocm = matches!(role, Role::OcmExecutive | Role::OcmAnalyst);
    only(ocm, "Only OCM sets the threshold of budget monitoring's alerts.")
}

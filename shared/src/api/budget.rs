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

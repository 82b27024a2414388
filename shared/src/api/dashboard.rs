//! The dashboards' figures (server: `routes/dashboard.rs` and `dashboard.rs`, which reads
//! them from the summary tables). With the server's `sqlx` feature the rows are
//! `sqlx::FromRow`, so its queries read straight into them.

use super::{default_limit, is_default_limit, is_zero, Date, DEFAULT_LIMIT};
use crate::OrgId;
use serde::{Deserialize, Serialize};

/// `GET /api/v1/dashboard?org=`: OCM may name any organization (none: the whole
/// government); everyone else gets their own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgId>,
}

/// `GET /api/v1/dashboard/records?org=&province=&municipality=&status=&limit=&offset=`:
/// the assessments behind a municipality's figures, by community (a [`super::Page`] of
/// [`super::AssessmentRow`]). The place is named as the figures name it: by PSGC codes
/// (the assessments with that place) or by the names typed (those without a code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default = "default_limit", skip_serializing_if = "is_default_limit")]
    pub limit: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub offset: i64,
}

/// No filter, the first page of [`DEFAULT_LIMIT`] rows (as the server reads an empty query).
impl Default for DrillQuery {
    fn default() -> Self {
        DrillQuery { org: None, province: None, municipality: None, status: None, limit: DEFAULT_LIMIT, offset: 0 }
    }
}

/// `GET /api/v1/dashboard`: the figures, and whose they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub figures: Figures,
    /// `null` for the whole government.
    pub organization: Option<DashboardOrganization>,
}

/// The organization a dashboard is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardOrganization {
    pub code: String,
    pub id: OrgId,
    pub name: String,
}

/// One organization's figures, or the whole government's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub assessments: Totals,
    /// A month of `null`: assessments without a date.
    pub assessments_by_month: Vec<ByMonth>,
    pub assessments_by_status: Vec<ByStatus>,
    /// The budget of the current fiscal year (else the latest enacted), as executed so
    /// far; `null` before any budget was submitted to Parliament.
    #[serde(default)]
    pub budget: Option<BudgetFigures>,
    pub municipalities: Vec<Place>,
    /// How many assessments rate each sector's need at each severity.
    pub needs: Vec<Need>,
    /// One row per ministry, office or agency: only across organizations (else empty).
    pub organizations: Vec<OrgFigures>,
    /// `municipality` is empty in these.
    pub provinces: Vec<Place>,
    pub tasks: TaskTotals,
    pub tasks_by_month: Vec<ByMonth>,
    pub tasks_by_status: Vec<ByStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Totals {
    pub assessments: i64,
    pub households: i64,
    pub population: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ByStatus {
    pub count: i64,
    pub status: String,
}

/// A province (municipality empty) or a municipality, with the mean GPS point of its
/// located assessments for the map (`null`: none located).
///
/// Assessments with a PSGC place count under its codes, named as PSA names them;
/// those without (recorded before places had codes) under the names typed in them, with
/// codes of `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Place {
    pub assessments: i64,
    pub households: i64,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub municipality: String,
    pub municipality_code: Option<String>,
    pub population: i64,
    pub province: String,
    pub province_code: Option<String>,
}

/// A month (its first day; `null`: records without a date) and how many records fall
/// in it. A query reading it selects the month as text (`to_char(month, 'YYYY-MM-DD')`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ByMonth {
    pub count: i64,
    /// Tasks only: how many of them are done (0 for assessments).
    pub done: i64,
    pub month: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Need {
    pub assessments: i64,
    pub sector: String,
    pub severity: i32,
}

/// A fiscal year's budget, in centavos: as enacted, and released, obligated and
/// disbursed so far (budget monitoring has the detail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct BudgetFigures {
    pub disbursed: i64,
    pub enacted: i64,
    pub fiscal_year: i32,
    pub obligated: i64,
    pub released: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct TaskTotals {
    /// Whole percent, over the tasks that report progress.
    pub average_progress: Option<i64>,
    pub overdue: i64,
    pub tasks: i64,
}

/// One organization's totals, to compare them side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct OrgFigures {
    pub assessments: i64,
    pub average_progress: Option<i64>,
    pub code: String,
    pub households: i64,
    pub id: OrgId,
    pub name: String,
    pub overdue: i64,
    pub population: i64,
    pub tasks: i64,
    pub tasks_done: i64,
}

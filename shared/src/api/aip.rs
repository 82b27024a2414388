//! The Annual Investment Program (server: `routes/aip.rs`): the year's PPAs across the
//! government, as BPDA (and MFBM) read them: every proposal whose latest version BPDA has
//! certified (and which has not changed since) or still has to review, with its cost in
//! that year by expense class, and totals by goal, sector, province and organization.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/aip?year=2026` and `GET /api/v1/aip/export?year=2026&format=csv|json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AipQuery {
    /// The fiscal year; the current one when not given.
    pub year: Option<i32>,
    /// For the export: `csv` (the default) or `json`.
    pub format: Option<String>,
}

/// One PPA of the year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AipRow {
    pub proposal_id: crate::DocId,
    pub version: i32,
    pub organization_code: String,
    pub organization_name: String,
    pub title: String,
    pub ppa_type: Option<String>,
    /// One of `records::ppa::SECTORS`; none for a proposal submitted before it had one.
    pub sector: Option<String>,
    /// `certified` (the certification holds) or `pending` (BPDA has not decided).
    pub status: String,
    /// Hundredths of a point: the certified score, or the score at submission.
    pub score: u32,
    pub goals: Vec<String>,
    /// The provinces (or independent cities) of its places, by PSGC code.
    pub provinces: Vec<String>,
    /// The year's cost by expense class, and in all, in whole centavos.
    pub ps: i64,
    pub mooe: i64,
    pub co: i64,
    pub total: i64,
}

/// The year's cost of a group of PPAs: a goal, a sector, a province, an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AipTotal {
    pub code: String,
    pub name: String,
    pub ppas: u32,
    /// Whole centavos, of the certified PPAs and of those still with BPDA.
    pub certified: i64,
    pub pending: i64,
}

/// `GET /api/v1/aip`: the year's AIP. A PPA that serves two goals or lies in two
/// provinces counts in full under each; the grand totals count it once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aip {
    pub year: i32,
    /// The 500 largest PPAs of the year, by organization and title (the export holds every one).
    pub rows: Vec<AipRow>,
    /// How many PPAs the year's AIP holds.
    pub rows_total: u32,
    pub by_goal: Vec<AipTotal>,
    /// By sector; `unclassified` holds the PPAs submitted before proposals had a sector.
    pub by_sector: Vec<AipTotal>,
    pub by_province: Vec<AipTotal>,
    pub by_organization: Vec<AipTotal>,
    pub certified: i64,
    pub pending: i64,
}

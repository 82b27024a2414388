//! The Bangsamoro Development Plan's framework, which BPDA keeps and every organization
//! reads, and the alignment score of a proposal (server: `routes/bdp.rs`; the score
//! itself is `crate::plans::score`).

use super::Timestamp;
use crate::plans::{Framework, FrameworkGoal, FrameworkIndicator, PriorityLevel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `GET /api/v1/bdp`: the whole framework, goals by code with their indicators by code,
/// and the priority areas by PSGC code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bdp {
    pub settings: BdpSettings,
    pub goals: Vec<BdpGoal>,
    pub priorities: Vec<BdpPriority>,
}

impl Bdp {
    /// The framework as the score reads it.
    pub fn for_scoring(&self) -> Framework {
        Framework {
            goals: self
                .goals
                .iter()
                .map(|g| FrameworkGoal {
                    code: g.code.clone(),
                    indicators: g.indicators.iter().map(|i| FrameworkIndicator { code: i.code.clone(), name: i.name.clone() }).collect(),
                })
                .collect(),
            priorities: self.priorities.iter().map(|p| (p.place_code.clone(), p.level)).collect(),
            full_reach: self.settings.full_reach,
        }
    }
}

/// The framework's name, period and scoring settings; also the body of `PUT /api/v1/bdp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BdpSettings {
    pub title: String,
    pub first_year: i32,
    pub last_year: i32,
    /// Beneficiaries that earn a proposal the whole of the reach component.
    pub full_reach: i64,
    /// A sample framework, to be replaced with the plan's own: a planner sets it false
    /// (left out of a `PUT`, it is false) once the plan's own goals are in.
    #[serde(default)]
    pub sample: bool,
}

/// A goal of the plan, with its outcome indicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BdpGoal {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub description: String,
    pub indicators: Vec<BdpIndicator>,
    pub updated_at: Timestamp,
}

/// An outcome indicator: where it stood (`baseline` in `baseline_year`) and where the
/// plan wants it by year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BdpIndicator {
    pub id: Uuid,
    pub goal_id: Uuid,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub baseline: Option<f64>,
    pub baseline_year: Option<i32>,
    /// By year.
    pub targets: Vec<Target>,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub year: i32,
    pub value: f64,
}

/// A priority area: a province, city, municipality or barangay by PSGC code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BdpPriority {
    pub place_code: String,
    /// The place's name in the PSGC list.
    pub place_name: String,
    pub level: PriorityLevel,
    pub note: String,
}

/// `POST /api/v1/bdp/goals` (201, the [`BdpGoal`]) and `PUT /api/v1/bdp/goals/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalInput {
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// `POST /api/v1/bdp/indicators` (201, the [`BdpIndicator`]) and
/// `PUT /api/v1/bdp/indicators/{id}`. The targets replace the indicator's targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorInput {
    pub goal_id: Uuid,
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub baseline: Option<f64>,
    #[serde(default)]
    pub baseline_year: Option<i32>,
    #[serde(default)]
    pub targets: Vec<Target>,
}

/// `PUT /api/v1/bdp/priorities/{place_code}`: the place's priority, set or changed
/// (`DELETE` on the same address removes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityInput {
    pub level: PriorityLevel,
    #[serde(default)]
    pub note: String,
}

/// The answer to `POST /api/v1/proposals/{id}/submit`: the version BPDA received, and
/// the score it had then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub submission_id: Uuid,
    pub proposal_id: crate::DocId,
    /// 1 for the first submission, 2 after BPDA sent it back once, ...
    pub version: i32,
    pub score: crate::plans::Score,
    pub submitted_at: Timestamp,
}

/// `GET /api/v1/proposals/queue` (an [`super::Items`]): a submitted proposal waiting for
/// BPDA, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedProposal {
    pub submission_id: Uuid,
    pub proposal_id: crate::DocId,
    pub version: i32,
    /// The proposing organization's code and name.
    pub organization_code: String,
    pub organization_name: String,
    pub title: String,
    pub ppa_type: Option<String>,
    /// Hundredths of a point, as computed at submission.
    pub score: u32,
    pub certifiable: bool,
    /// Whole centavos.
    pub total_cost: i64,
    pub submitted_at: Timestamp,
}

/// `GET /api/v1/proposals/partnered` (an [`super::Items`]): another organization's
/// proposal that names the caller's organization as a partner, to read (not edit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerProposal {
    pub proposal_id: crate::DocId,
    /// The proposing organization's code and name.
    pub organization_code: String,
    pub organization_name: String,
    pub title: Option<String>,
    pub status: String,
    /// Whole centavos.
    pub total_cost: i64,
    /// Every field as the proposal stands: field name → value.
    pub content: serde_json::Value,
    pub updated_at: Timestamp,
}

/// `GET /api/v1/proposals/plan`: the organization's multi-year plan: its PPA proposals
/// under each BDP goal they serve (a proposal serving two goals is under both), with their
/// cost by fiscal year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiYearPlan {
    /// The fiscal years any proposal has a cost in, in order; every `by_year` follows them.
    pub years: Vec<i32>,
    pub goals: Vec<PlanGoal>,
}

/// One goal of a [`MultiYearPlan`] (code empty: proposals that name no goal yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanGoal {
    pub code: String,
    pub title: String,
    pub proposals: Vec<PlanLine>,
    /// Whole centavos by year.
    pub by_year: Vec<i64>,
}

/// One proposal's line in the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanLine {
    pub proposal_id: crate::DocId,
    pub title: Option<String>,
    pub status: String,
    /// Whole centavos by year.
    pub by_year: Vec<i64>,
}

//! BPDA's review of a submitted proposal (server: `routes/review.rs`): the planner reads
//! the submission with its score, adjusts a component with a reason, then certifies or
//! sends it back; the proposing organization follows its proposal's standing, and MFBM
//! reads the certifications.

use super::Timestamp;
use crate::plans::certificate::Certificate;
use crate::plans::{ComponentName, Score};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/v1/submissions/{id}/adjustments`: set one component by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    pub component: ComponentName,
    /// Hundredths of the component, 0 to 10,000 (10,000 is full).
    pub value: u32,
    /// Why: kept with the adjustment and in the audit log.
    pub reason: String,
}

/// One adjustment of a component, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    pub component: ComponentName,
    /// The component's value before and after, in hundredths.
    pub from: u32,
    pub to: u32,
    pub reason: String,
    pub adjusted_by: String,
    pub adjusted_at: Timestamp,
}

/// `POST /api/v1/submissions/{id}/return`: send the proposal back for revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    /// What to revise, for the proposing organization to read.
    pub reasons: String,
}

/// BPDA's decision on a submitted version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// `returned` or `certified`.
    pub decision: String,
    /// Why it was sent back (empty for a certification).
    pub reasons: String,
    pub decided_by: String,
    pub decided_at: Timestamp,
    /// The signed certificate, for a certification.
    pub certificate: Option<Certificate>,
    /// For a certification: the proposal has not changed since (an edit voids it).
    pub current: bool,
}

/// `GET /api/v1/submissions/{id}`: a submitted version as BPDA reviews it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionReview {
    pub submission_id: Uuid,
    pub proposal_id: crate::DocId,
    pub version: i32,
    pub organization_code: String,
    pub organization_name: String,
    /// Every field as submitted: field name → value.
    pub content: serde_json::Value,
    /// The score now: as computed at submission, with each adjustment applied.
    pub score: Score,
    /// The score as computed at submission, before any adjustment.
    pub computed_total: u32,
    pub adjustments: Vec<Adjustment>,
    /// Whole centavos.
    pub total_cost: i64,
    pub submitted_at: Timestamp,
    /// None while BPDA has not decided.
    pub decision: Option<Decision>,
}

/// `GET /api/v1/proposals/{id}/standing`: where the organization's proposal stands with
/// BPDA: its latest submission, and BPDA's decision on it if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// None until the proposal is first submitted.
    pub submission: Option<SubmissionReview>,
}

/// `GET /api/v1/certifications` (an [`super::Items`]): a certified proposal, newest
/// first, for MFBM (which budgets it), BPDA and the proposing organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certified {
    pub certificate: Certificate,
    pub organization_name: String,
    /// The proposal has not changed since it was certified.
    pub current: bool,
}

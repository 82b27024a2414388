//! The desk's records table, one record and its history (server: `routes/records.rs`,
//! `sync/history.rs`; `routes/dashboard.rs` answers the same page for drill-down).

use super::{default_limit, is_default_limit, is_zero, Date, Timestamp, DEFAULT_LIMIT};
use crate::records::RecordKind;
use crate::{DeviceId, DocId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// `GET /api/v1/assessments?...` (a [`super::Page`] of [`AssessmentRow`]) and
/// `GET /api/v1/assessments/export?format=&...`: the records table's filters. The
/// app leaves out what is not set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A province by the name typed in the records or by its PSGC code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// A city or municipality by the name typed or by its PSGC code (a barangay's code
    /// finds that barangay's records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    /// Assessment date from and to, inclusive ([`Date`]; the server parses them and
    /// answers 400 `invalid_query` for one that is not a date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// Only assessments that rate this sector's need at `min_severity` (1 to 5) or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<i32>,
    /// Part of the community's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// A column of the table (`updated_at` unless said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default = "default_limit", skip_serializing_if = "is_default_limit")]
    pub limit: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub offset: i64,
    /// For the export only: csv, json or geojson.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// No filter, the first page of [`DEFAULT_LIMIT`] rows (as the server reads an empty query).
impl Default for AssessmentQuery {
    fn default() -> Self {
        AssessmentQuery {
            status: None,
            province: None,
            municipality: None,
            from: None,
            to: None,
            sector: None,
            min_severity: None,
            search: None,
            sort: None,
            order: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
            format: None,
        }
    }
}

/// An assessment as the records table lists it. Every `Option` is sent as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentRow {
    pub assessment_date: Option<Date>,
    pub community: Option<String>,
    pub households: Option<i32>,
    pub id: DocId,
    pub municipality: Option<String>,
    /// Sector → severity (1 to 5), as the record rates its needs.
    pub needs: Value,
    /// The barangay, city or municipality by PSGC code (`null` for records without one).
    pub place_code: Option<String>,
    pub population: Option<i32>,
    pub province: Option<String>,
    pub status: String,
}

/// `GET /api/v1/records/{id}`: every field's current value, and the open conflicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Open conflicts, by field.
    pub conflicts: Vec<RecordConflict>,
    /// Field name → value, as `records::json::to_json` writes it; fields with no value
    /// are left out.
    pub fields: Map<String, Value>,
    pub id: DocId,
    pub kind: RecordKind,
    /// Field name → the note of its settled conflict (`{"at", "by", "reason"}`, keys in
    /// that order since the server writes it through `json!`).
    pub resolutions: Map<String, Value>,
}

/// A conflict of a record that no supervisor has settled yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordConflict {
    /// The values devices wrote concurrently, as the conflict row keeps them.
    pub candidates: Value,
    pub detected_at: Timestamp,
    pub field: String,
    pub id: Uuid,
}

/// `GET /api/v1/records/{id}/history`: the record's changes, newest first (the last 500).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordHistory {
    pub id: DocId,
    pub items: Vec<HistoryEntry>,
    pub kind: RecordKind,
}

/// One change of a record's log, with who made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the change reached the server.
    pub at: Timestamp,
    /// The writer's display name.
    pub by: String,
    /// `null` for a desk edit (the server logs those under the nil device).
    pub device_id: Option<DeviceId>,
    /// The fields the change wrote, in field order.
    pub fields: Vec<ChangedField>,
    /// The change's place in the organization's change log.
    pub seq: i64,
}

/// A field one change wrote, and the value it left there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedField {
    pub field: String,
    pub kind: ChangeKind,
    /// The field's label in the schema.
    pub label: String,
    /// The value as people read it; `null` when the change cleared the field.
    pub value: Option<String>,
}

/// What a change wrote to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new value.
    Value,
    /// A supervisor's note settling the field's conflict.
    Resolution,
}

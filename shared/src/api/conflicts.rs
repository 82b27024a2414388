//! The supervisor's conflict queue: one field that devices wrote concurrently, every
//! value side by side, and the decision (server: `routes/conflicts.rs`).

use super::Timestamp;
use crate::records::RecordKind;
use crate::{DeviceId, DocId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// `GET /api/v1/conflicts` (an [`super::Items`], at most 500): an open conflict of the
/// organization, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedConflict {
    /// The values devices wrote concurrently, as people read them.
    pub candidates: Value,
    pub detected_at: Timestamp,
    pub field: String,
    /// The field's label in the schema (its name if the schema has none).
    pub field_label: String,
    pub id: Uuid,
    pub record_id: DocId,
    pub record_kind: RecordKind,
    /// The community or the task's title; `null` when the record has none yet.
    pub record_label: Option<String>,
    /// How many candidates.
    pub value_count: usize,
}

/// `GET /api/v1/conflicts/{id}`: every value side by side or, once settled, the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictDetail {
    pub candidates: Value,
    pub detected_at: Timestamp,
    pub field: String,
    pub field_label: String,
    pub id: Uuid,
    pub record_id: DocId,
    pub record_kind: RecordKind,
    pub record_label: Option<String>,
    /// `null` while open.
    pub resolved: Option<Settlement>,
    /// While open, the values the record holds now; once settled, the single chosen one.
    pub values: Vec<WrittenValue>,
}

/// One value a field holds, with who wrote it. Every `Option` is sent as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrittenValue {
    /// The value the writer replaced, as people read it (None: the field was empty).
    pub before: Option<String>,
    /// None for a desk edit, or when the change is not in the log.
    pub device_id: Option<DeviceId>,
    /// When the change reached the server.
    pub received_at: Option<Timestamp>,
    /// The value as people read it.
    pub shown: String,
    /// The value as the API's JSON (None: it does not read as the field's type); send it
    /// back in [`Resolve::value`] to keep it.
    pub value: Option<Value>,
    /// The writer's display name.
    pub written_by: Option<String>,
}

/// How a conflict was settled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settlement {
    pub at: Timestamp,
    /// The supervisor's display name (None: settled by a later edit).
    pub by: Option<String>,
    pub reason: Option<String>,
    /// The chosen value, as JSON text (`"\"Cotabato\""`), or the server's words.
    pub value: Option<String>,
}

/// `POST /api/v1/conflicts/{id}/resolve`, answered with a [`Resolution`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// The value to keep: one of the candidates, or a new one.
    pub value: Value,
    /// Why; shown to the officers and kept in the audit log.
    pub reason: String,
}

/// `POST /api/v1/conflicts/resolve`: the same decision for several conflicts (1 to 200),
/// all of them or none; answered with an [`super::Items`] of [`Resolution`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveMany {
    pub ids: Vec<Uuid>,
    pub value: Value,
    pub reason: String,
}

/// A settled conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub field: String,
    /// The conflict's id.
    pub id: Uuid,
    /// Trimmed.
    pub reason: String,
    pub record_id: DocId,
    pub resolved_by: UserId,
    /// The value kept, as the API's JSON.
    pub value: Value,
}

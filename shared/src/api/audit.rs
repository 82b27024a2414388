//! An organization's audit log, for its administrator (server: `routes/audit_log.rs`).

use super::{Date, Timestamp};
use serde::{Deserialize, Serialize};

/// `GET /api/v1/audit?…` and `GET /api/v1/audit/export?…`: which entries, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Who did it: a username, or `cli:<operator>` for the admin commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// What was done, or how its name starts (`people.` for every change to people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// From and to this day (UTC), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// The organization whose chain (the system administrator's choice; the caller's own
    /// when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<crate::OrgId>,
    /// Entries before this sequence number: the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// For the export: `csv` (the default) or `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// One entry of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: serde_json::Value,
}

/// A page of entries, newest first; `next_before` asks for the page after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_before: Option<i64>,
}

/// `GET /api/v1/audit/verify`: the organization's chain checked from its first entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub entries: i64,
    /// The first entry that does not match, if one does not, and why.
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
}

//! The devices that sync, and their health for supervisors (server: `routes/devices.rs`).

use super::Timestamp;
use crate::DeviceId;
use serde::{Deserialize, Serialize};

/// `POST /api/v1/devices`: the registered device, the id it sends with every exchange
/// and the Automerge actor every change it makes must carry. Written from a struct
/// before, so in declaration order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRegistration {
    pub device_id: DeviceId,
    /// Hex of the actor id's bytes.
    pub actor: String,
}

/// `GET /api/v1/devices?not_seen_days=&quiet_only=`. The app sends both, always.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthQuery {
    /// A device not heard from for this many days is flagged (1 to 365, default 3).
    #[serde(default = "default_days")]
    pub not_seen_days: i32,
    /// Only the flagged devices.
    #[serde(default)]
    pub quiet_only: bool,
}

fn default_days() -> i32 {
    3
}

impl Default for HealthQuery {
    fn default() -> Self {
        HealthQuery { not_seen_days: default_days(), quiet_only: false }
    }
}

/// `GET /api/v1/devices`: the devices, quiet ones first, and the threshold applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceHealthList {
    pub items: Vec<DeviceHealth>,
    pub not_seen_days: i32,
}

/// One officer's device as sync health lists it. Every `Option` is sent as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceHealth {
    pub device_id: DeviceId,
    pub display_name: String,
    /// Its last call of any kind (None: never called since it registered).
    pub last_contact_at: Option<Timestamp>,
    /// The reason of its last refused exchange.
    pub last_refusal: Option<String>,
    pub last_refusal_at: Option<Timestamp>,
    /// The last exchange the server answered.
    pub last_sync_at: Option<Timestamp>,
    /// How many changes it had waiting when it last called.
    pub pending_reported: Option<i32>,
    /// Not heard from for `not_seen_days`.
    pub quiet: bool,
    pub registered_at: Timestamp,
    pub username: String,
}

/// `GET` and `PUT /api/v1/officers/{username}/areas`: the municipalities (PSGC codes of
/// cities and municipalities) whose assessments an officer's devices hold. Empty: none
/// but their own (docs/sync-protocol.md, "Sync scope").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficerAreas {
    pub municipalities: Vec<String>,
}

/// `POST /api/v1/records/{id}/pin`: keep a record on the devices of the signed-in person,
/// or, from a supervisor, of the officer named, for 30 days beyond their scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// The officer's username; none: the signed-in person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
}

/// The answer to a pin: until when the record stays (RFC 3339).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pinned {
    pub until: Timestamp,
}

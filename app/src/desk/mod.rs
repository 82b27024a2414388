//! The desk screens, for supervisors and ministry staff at a desktop browser with a good
//! connection: the conflict queue, task assignment and each officer's progress, the
//! devices' sync health, and the records table with history and exports. They work
//! through the JSON API (online only, unlike the officer's screens) and read it again by
//! themselves when the server announces a change ([`live`]).

pub mod address;
pub mod api;
mod areas;
mod audit_log;
mod conflicts;
mod devices;
pub mod live;
pub mod news;
mod organizations;
mod people;
mod records;
mod team;

pub use audit_log::AuditLog;
pub use conflicts::{ConflictDetail, ConflictQueue};
pub use devices::SyncHealth;
pub use organizations::{ActingFor, Organizations};
pub use people::People;
pub use records::{RecordHistory, RecordsTable};
pub use team::Team;

use leptos::prelude::*;

use crate::device::Status;

/// The signed-in person's CSRF token, sent with every write.
pub(crate) fn csrf_token(status: Status) -> String {
    status.me.get_untracked().map(|me| me.csrf_token).unwrap_or_default()
}

pub(crate) use crate::text::when;

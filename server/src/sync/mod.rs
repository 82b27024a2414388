//! The server side of sync (`POST /api/v1/sync`): one transaction per batch, in which
//! the shared merge rules (`bmms_shared::sync::merge`, which the in-memory test double
//! runs too) and the one policy (`bmms_shared::policy`) run against PostgreSQL.
//! See docs/sync-protocol.md.

pub mod apply;
pub mod batches;
pub mod cache;
pub mod desk_edit;
pub mod history;
pub mod materialize;
pub mod merge;
pub mod scope;
pub mod store;

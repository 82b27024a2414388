//! The BMMS domain shared by the browser app and the server: who people are (roles),
//! what organizations are, and the JSON shapes of the HTTP API.

pub mod api;
pub mod budget;
pub mod ids;
pub mod photos;
pub mod plain_text;
pub mod plans;
pub mod policy;
pub mod psgc;
pub mod records;
pub mod sync;
pub mod roles;
pub mod spreadsheet;

pub use ids::{BatchId, DeviceId, DocId, OrgId, UserId};
pub use roles::{OrgKind, Role};

//! Sign-in, sign-out and who is signed in (server: `routes/auth.rs`,
//! `routes/organizations.rs`).

use crate::{OrgId, OrgKind, Role, UserId};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The organization a signed-in user acts for; also each entry of
/// `GET /api/v1/organizations` (a bare array) and `GET /api/v1/organizations/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationSummary {
    pub id: OrgId,
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
}

/// `GET /api/v1/me`, also the answer to a successful login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub user: UserSummary,
    pub organization: OrganizationSummary,
    pub role: Role,
    /// Send this back in the `x-csrf-token` header on every write made with the session cookie.
    pub csrf_token: String,
}

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
}

/// `POST /api/v1/auth/logout`: `{"signed_out": true}` once the session is deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedOut {
    pub signed_out: bool,
}

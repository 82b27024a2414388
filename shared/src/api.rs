//! JSON bodies of the HTTP API (`/api/v1`), shared so that the app and the server cannot
//! disagree about a field name.

use crate::{OrgKind, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Name of the header that carries the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The organization a signed-in user acts for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationSummary {
    pub id: Uuid,
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
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
}

/// Every error answer of the API: a stable code for programs and a sentence for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    /// The input field the message is about, where there is one (to show it beside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

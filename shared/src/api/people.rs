//! The people of an organization, as its administrator manages them at the desk
//! (server: `routes/people.rs`), and choosing a password from a set-up link.

use super::Timestamp;
use crate::{OrgId, Role, UserId};
use serde::{Deserialize, Serialize};

/// One user of the organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// When they last finished signing in; `null` if never.
    pub last_sign_in: Option<Timestamp>,
    /// Sessions of theirs that have not ended.
    pub active_sessions: i64,
    /// They have a second factor: an authenticator app or a passkey.
    pub second_factor: bool,
    /// A set-up link of theirs waits to be used (they have not chosen a password yet).
    pub set_up_pending: bool,
}

/// `?org=<id>` on the people routes (and the audit log's): the organization the system
/// administrator acts for, each change audited in that organization's chain. Left out:
/// the caller's own; anyone else naming another organization is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForOrganization {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgId>,
}

/// `POST /api/v1/organizations`: a new ministry, office or agency (OCM, BPDA and MFBM
/// exist once each, from the start).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// 2 to 16 capital letters, digits or dashes, starting with a letter: `MILG`.
    pub code: String,
    pub name: String,
}

/// `PUT /api/v1/organizations/{id}`: a new name (the code stays: it is in exports and
/// links).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationName {
    pub name: String,
}

/// `GET /api/v1/users`: everyone in the organization, by username, and the roles its
/// administrator may give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct People {
    pub items: Vec<Person>,
    pub grantable_roles: Vec<Role>,
}

/// `POST /api/v1/users`: a new user, who chooses their password from a set-up link.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// `PUT /api/v1/users/{id}/role`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: Role,
}

/// A new user, or a new set-up link for one: the token is shown this once. The link is
/// the app's address with `#set-up=<token>`; it works once, until `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetUpLink {
    pub person: Person,
    pub set_up_token: String,
    pub expires_at: Timestamp,
}

/// `POST /api/v1/auth/set-up`: the password chosen with a set-up link's token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetUpPassword {
    pub token: String,
    pub password: String,
}

/// The answer to [`SetUpPassword`]: whose password it now is (they sign in next).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordChosen {
    pub username: String,
}

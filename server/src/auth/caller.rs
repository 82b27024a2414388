//! [`Caller`]: who is asking, once a handler has said who may call it. Every check of
//! [`SignedIn`](super::SignedIn) (`require_member`, `require_writer`, …) returns one, and
//! a signed-in request's user and organization are reachable only through it, so a
//! handler cannot reach its organization's data before it has taken that step.
//!
//! It is plain data, not the HTTP session: the sync exchange and other work below the
//! routes take a `&Caller`, and tests or the CLI can make one.

use bmms_shared::{OrgId, Role, UserId};

use crate::audit::Actor;
use crate::error::ApiError;

/// A signed-in user whose request passed the handler's authorization step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub username: String,
    pub org_id: OrgId,
    pub role: Role,
}

/// A caller named another organization than their own, which they may not open: each
/// route answers 404 with words of its own.
#[derive(Debug)]
pub struct NotTheirs;

impl Caller {
    /// The organization a request that names `asked` (or none) may open: OCM may name any,
    /// or none (`None`: all of them); everyone else their own, named or not.
    pub fn organization_to_open(&self, asked: Option<OrgId>) -> Result<Option<OrgId>, NotTheirs> {
        match asked {
            _ if self.role.oversees_all() => Ok(asked),
            Some(other) if other != self.org_id => Err(NotTheirs),
            _ => Ok(Some(self.org_id)),
        }
    }

    /// The audit actor for this user.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user_id.uuid(), &self.username)
    }

    /// The organization whose people and audit log this caller works on: `asked` (the
    /// `?org=` of the request) for the system administrator, who acts for any
    /// organization, each change audited in that organization's chain; the caller's own
    /// otherwise, and naming another is refused (403).
    pub fn acting_for(&self, asked: Option<OrgId>) -> Result<OrgId, ApiError> {
        match asked {
            None => Ok(self.org_id),
            Some(org) if org == self.org_id || self.role == Role::SystemAdmin => Ok(org),
            Some(_) => Err(ApiError::forbidden("own_organization_only", "You manage your own organization's people and audit log only.")),
        }
    }
}

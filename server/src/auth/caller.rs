//! [`Caller`]: who is asking, once a handler has said who may call it. Every check of
//! [`SignedIn`](super::SignedIn) (`require_member`, `require_writer`, …) returns one, and
//! a signed-in request's user and organization are reachable only through it, so a
//! handler cannot reach its organization's data before it has taken that step.
//!
//! It is plain data, not the HTTP session: the sync exchange and other work below the
//! routes take a `&Caller`, and tests or the CLI can make one.

use bmms_shared::{OrgId, Role, UserId};

use crate::audit::Actor;

/// A signed-in user whose request passed the handler's authorization step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub username: String,
    pub org_id: OrgId,
    pub role: Role,
}

impl Caller {
    /// The audit actor for this user.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user_id.uuid(), &self.username)
    }
}

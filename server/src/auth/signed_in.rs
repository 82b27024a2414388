//! [`SignedIn`]: the extractor every authenticated handler takes. It finds the session,
//! enforces the absolute session lifetime, and refuses cookie-authenticated writes that
//! do not carry the session's CSRF token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::Method;
use bmms_shared::api::CSRF_HEADER;
use bmms_shared::Role;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_sessions::Session;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::ApiError;

/// The session key under which [`SessionAuth`] is kept.
pub const AUTH_KEY: &str = "auth";
/// The session key under which the time (Unix seconds) of its last save is kept.
pub const TOUCHED_KEY: &str = "touched_at";
/// A session in use is saved again, moving its idle deadline, once this share of the idle
/// time has passed since its last save. Saving on every request would cost a database
/// write per sync exchange; this way an active session may end up to 1/20 of the idle
/// time (24 minutes of 8 hours) early.
const TOUCH_EVERY_IDLE_FRACTION: u32 = 20;

/// What a session remembers about its user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: Uuid,
    pub username: String,
    pub org_id: Uuid,
    pub role: Role,
    pub csrf_token: String,
    /// Unix seconds; the session ends a fixed time after this, active or not.
    pub signed_in_at: i64,
}

/// A request from a signed-in user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub auth: SessionAuth,
    pub session: Session,
}

impl SignedIn {
    pub fn user_id(&self) -> Uuid {
        self.auth.user_id
    }
    pub fn org_id(&self) -> Uuid {
        self.auth.org_id
    }
    pub fn role(&self) -> Role {
        self.auth.role
    }
    /// Refuses (403) anyone who does not supervise field work; `what` completes
    /// "Only a supervisor can ...".
    pub fn require_supervisor(&self, what: &str) -> Result<(), ApiError> {
        if self.role().supervises() {
            return Ok(());
        }
        Err(ApiError::forbidden("not_a_supervisor", format!("Only a supervisor can {what}.")))
    }

    /// Refuses (403) anyone who does not work with the organization's records at a desk.
    pub fn require_desk(&self) -> Result<(), ApiError> {
        if self.role().works_at_desk() {
            return Ok(());
        }
        Err(ApiError::forbidden(
            "not_desk_staff",
            "Only ministry staff, supervisors and organization administrators can open this.",
        ))
    }

    /// Refuses (403) what the one policy of who may do what to records
    /// (`bmms_shared::policy`, which the sync path asks too) does not allow this user.
    pub fn require_allowed(&self, check: impl FnOnce(Role) -> Result<(), bmms_shared::policy::Denied>) -> Result<(), ApiError> {
        check(self.role()).map_err(|denied| ApiError::forbidden("not_allowed", denied.0))
    }

    /// The audit actor for this user.
    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor::user(self.auth.user_id, &self.auth.username)
    }
}

fn not_signed_in() -> ApiError {
    ApiError::unauthorized("not_signed_in", "You are not signed in, or your session has ended. Sign in again.")
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, msg)| ApiError::Internal(anyhow::anyhow!("session layer missing: {msg}")))?;
        let auth: SessionAuth = match session.get(AUTH_KEY).await {
            Ok(Some(auth)) => auth,
            Ok(None) => return Err(not_signed_in()),
            // The database did not answer: the session may be perfectly good, so it is
            // kept, and the client is asked to come back (an officer's phone backs off).
            Err(tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Backend(err))) => {
                tracing::warn!(error = %err, "could not load a session");
                return Err(ApiError::Unavailable {
                    message: "The server cannot check your session just now; nothing was changed and you are still signed in.",
                    retry_after: std::time::Duration::from_secs(5),
                });
            }
            // A session written by an older release that no longer reads: sign in again.
            Err(_) => {
                session.flush().await.map_err(|e| ApiError::Internal(e.into()))?;
                return Err(not_signed_in());
            }
        };

        let age = chrono::Utc::now().timestamp() - auth.signed_in_at;
        if age > state.settings.session_max.as_secs() as i64 {
            session.flush().await.map_err(|e| ApiError::Internal(e.into()))?;
            return Err(ApiError::unauthorized(
                "session_expired",
                "Your session has reached its time limit. Sign in again.",
            ));
        }

        let now = chrono::Utc::now().timestamp();
        let touched: i64 = session.get(TOUCHED_KEY).await.ok().flatten().unwrap_or(0);
        if now - touched >= (state.settings.session_idle / TOUCH_EVERY_IDLE_FRACTION).as_secs() as i64 {
            // Changing the session has the layer save it, with a new idle deadline.
            session.insert(TOUCHED_KEY, now).await.map_err(|e| ApiError::Internal(e.into()))?;
        }

        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        // Oversight is read-only: the one chokepoint every write route passes.
        // (Nested routers see the path without its prefix; the original is kept aside.)
        let path = parts.extensions.get::<axum::extract::OriginalUri>().map_or(parts.uri.path(), |o| o.path());
        if !safe && auth.role.oversees_all() && path != "/api/v1/auth/logout" {
            return Err(ApiError::forbidden(
                "read_only_role",
                "The Office of the Chief Minister's accounts can read every organization's totals but change nothing.",
            ));
        }
        if !safe {
            let sent = parts.headers.get(CSRF_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
            if sent.is_empty() || !bool::from(sent.ct_eq(auth.csrf_token.as_bytes())) {
                return Err(ApiError::forbidden(
                    "csrf_token_invalid",
                    "This change was refused because it did not carry your session's security token. Reload the page and try again.",
                ));
            }
        }
        Ok(SignedIn { auth, session })
    }
}

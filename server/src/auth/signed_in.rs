//! [`SignedIn`]: the extractor every authenticated handler takes. It finds the session,
//! enforces the absolute session lifetime, and refuses cookie-authenticated writes that
//! do not carry the session's CSRF token. Who may call a route is not decided here but
//! by the check the handler takes first (`require_member`, `require_writer`, …).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::Method;
use bmms_shared::api::CSRF_HEADER;
use bmms_shared::{OrgId, Role, UserId};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::second_factor::{self, HALFWAY_SIGN_IN, STEP_UP_WINDOW};
use super::Caller;
use crate::app::AppState;
use crate::error::ApiError;

/// The session key under which [`SessionAuth`] is kept.
pub const AUTH_KEY: &str = "auth";
/// The session key of a sign-in halfway: the password was right, the second factor is
/// still to come ([`Halfway`]). Such a session is not signed in: [`SignedIn`] does not read it.
pub const HALFWAY_KEY: &str = "halfway";
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
    pub user_id: UserId,
    pub username: String,
    pub org_id: OrgId,
    pub role: Role,
    pub csrf_token: String,
    /// Unix seconds; the session ends a fixed time after this, active or not.
    pub signed_in_at: i64,
    /// Unix seconds (by the factor clock) of the last second factor given in this
    /// session; sensitive actions want it recent. Sessions from before second factors
    /// read as none given.
    #[serde(default)]
    pub second_factor_at: Option<i64>,
}

impl SessionAuth {
    /// Seconds this session's last second factor stays fresh at `now` (factor clock);
    /// 0 when it is older than [`STEP_UP_WINDOW`] or none was given.
    pub fn fresh_for(&self, now: i64) -> i64 {
        self.second_factor_at.map_or(0, |at| (at + STEP_UP_WINDOW.as_secs() as i64 - now).max(0))
    }
}

/// 403: the action wants a fresh second factor, which the user has; the app asks for a code.
pub fn second_factor_needed() -> ApiError {
    ApiError::forbidden(
        "second_factor_needed",
        "Confirm it is you: use your passkey or enter a code from your authenticator app (or a recovery code), then try again.",
    )
}

/// Refuses (403) a change that would let someone else in later (adding a passkey, linking
/// a sign-in service) unless the person has just shown it is them: with a fresh second
/// factor when they have one, else with a sign-in within [`STEP_UP_WINDOW`], so that
/// nobody at a session left open makes the change.
pub async fn require_recent_proof(state: &AppState, conn: &mut sqlx::PgConnection, auth: &SessionAuth) -> Result<(), ApiError> {
    if second_factor::of_user(conn, auth.user_id.uuid()).await?.any() {
        if auth.fresh_for(state.factor_clock.now()) == 0 {
            return Err(second_factor_needed());
        }
        return Ok(());
    }
    if chrono::Utc::now().timestamp() - auth.signed_in_at > STEP_UP_WINDOW.as_secs() as i64 {
        return Err(ApiError::forbidden(
            "sign_in_again",
            "This lets you (or anyone using this session) sign in later without your password, so it needs a recent sign-in: sign out, sign in again, and do it then.",
        ));
    }
    Ok(())
}

/// A sign-in halfway: who gave the right password, and what is still to come.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Halfway {
    /// What the session will be once the second factor is given.
    pub auth: SessionAuth,
    pub needs: Needs,
    /// Unix seconds (factor clock) when the password was accepted; the second factor is
    /// wanted within [`HALFWAY_SIGN_IN`].
    pub since: i64,
}

/// What a sign-in halfway still needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Needs {
    /// A code from the user's authenticator app, or a recovery code.
    Code,
    /// The user's role needs a second factor and they have none: they set one up now.
    SetUp,
}

/// A request from a signed-in user. It says who the user is only through one of its
/// `require_…` checks, each of which returns the [`Caller`]: the first statement of every
/// signed-in handler, so that "who may call this route" is read in its first lines (a
/// test, server/tests/api/routes.rs, holds every handler to it).
#[derive(Debug, Clone)]
pub struct SignedIn {
    auth: SessionAuth,
    session: Session,
}

impl SignedIn {
    /// Anyone signed in, reading what their own organization has (or, for OCM, the
    /// totals every organization has).
    pub fn require_member(&self) -> Result<Caller, ApiError> {
        Ok(self.caller())
    }

    /// The read-only rule: the Office of the Chief Minister's oversight accounts read every
    /// organization's totals but change nothing. Every handler that changes data calls it
    /// first (or [`SignedIn::require_allowed`], which does).
    pub fn require_writer(&self) -> Result<Caller, ApiError> {
        if self.auth.role.oversees_all() {
            return Err(ApiError::forbidden(
                "read_only_role",
                "The Office of the Chief Minister's accounts can read every organization's totals but change nothing.",
            ));
        }
        Ok(self.caller())
    }

    /// Refuses (403) anyone who does not work with the organization's records at a desk.
    pub fn require_desk(&self) -> Result<Caller, ApiError> {
        if self.auth.role.works_at_desk() {
            return Ok(self.caller());
        }
        Err(ApiError::forbidden(
            "not_desk_staff",
            "Only ministry staff, supervisors and organization administrators can open this.",
        ))
    }

    /// Refuses (403) anyone with no desk screen that live updates refresh: the desk staff,
    /// and BPDA's planners and MFBM's budget officers (their queue and certifications).
    pub fn require_desk_screens(&self) -> Result<Caller, ApiError> {
        if bmms_shared::policy::may_read_submissions(self.auth.role).is_ok() {
            return Ok(self.caller());
        }
        self.require_desk()
    }

    /// Refuses (403) anyone who does not supervise field work; `what` completes
    /// "Only a supervisor can ...". A supervisor is never an oversight account, but a
    /// handler that changes data still calls [`SignedIn::require_writer`] first, so that
    /// OCM hears the read-only rule rather than this.
    pub fn require_supervisor(&self, what: &str) -> Result<Caller, ApiError> {
        if self.auth.role.supervises() {
            return Ok(self.caller());
        }
        Err(ApiError::forbidden("not_a_supervisor", format!("Only a supervisor can {what}.")))
    }

    /// Refuses (403) a role that sees the dashboards' totals only, not the records behind them.
    pub fn require_drill_down(&self) -> Result<Caller, ApiError> {
        if self.auth.role.may_drill_down() {
            return Ok(self.caller());
        }
        Err(ApiError::forbidden("totals_only", "Your role sees the dashboards' totals, not the records behind them."))
    }

    /// Refuses (403) a change that the one policy of who may do what to records
    /// (`bmms_shared::policy`, which the sync path asks too) does not allow this user;
    /// the read-only rule comes first.
    pub fn require_allowed(&self, check: impl FnOnce(Role) -> Result<(), bmms_shared::policy::Denied>) -> Result<Caller, ApiError> {
        let caller = self.require_writer()?;
        check(caller.role).map_err(|denied| ApiError::forbidden("not_allowed", denied.0))?;
        Ok(caller)
    }

    /// Refuses (403) a read that `check` does not allow this user, without the read-only
    /// rule: for reads whose policy names OCM's oversight roles themselves (the whole
    /// expenditure program, the budgets awaiting OCM's approval).
    pub fn require_permitted(&self, check: impl FnOnce(Role) -> Result<(), bmms_shared::policy::Denied>) -> Result<Caller, ApiError> {
        check(self.auth.role).map_err(|denied| ApiError::forbidden("not_allowed", denied.0))?;
        Ok(self.caller())
    }

    /// The one exception to the read-only rule: an OCM executive records OCM's executive
    /// approval of a budget, as OCM's own row, which changes nothing of another
    /// organization's (migrations/0027). Refuses (403) everyone else.
    pub fn require_executive_decision(&self) -> Result<Caller, ApiError> {
        self.require_permitted(bmms_shared::policy::may_approve_budgets)
    }

    /// The other exception: OCM sets the threshold of budget monitoring's alerts for the
    /// whole government, as OCM's own row (migrations/0031). Refuses (403) everyone else.
    pub fn require_ocm_setting(&self) -> Result<Caller, ApiError> {
        self.require_permitted(bmms_shared::policy::may_set_alert_threshold)
    }

    /// Refuses (403) a sensitive action (certifying, approving a budget stage, exporting
    /// a whole dataset, changing second factors) when this session's last second factor
    /// is older than [`STEP_UP_WINDOW`] and the user has one to give, or must have one.
    /// Taken after the handler's `require_…` check; the app asks for a code and retries.
    pub async fn require_fresh_second_factor(&self, state: &AppState) -> Result<(), ApiError> {
        if self.auth.fresh_for(state.factor_clock.now()) > 0 {
            return Ok(());
        }
        let mut conn = state.db.pool().acquire().await?;
        let factors = second_factor::of_user(&mut conn, self.auth.user_id.uuid()).await?;
        if factors.any() {
            return Err(second_factor_needed());
        }
        if state.settings.mfa_policy.requires(self.auth.role) {
            return Err(ApiError::forbidden(
                "second_factor_not_set_up",
                "Your role needs a second factor for this. Set up an authenticator app or a passkey under Security, then try again.",
            ));
        }
        Ok(())
    }

    /// What the session remembers of its user.
    pub fn auth(&self) -> &SessionAuth {
        &self.auth
    }

    /// The session itself, to end it (sign-out).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Records a second factor just given (a step-up) in this session.
    pub async fn mark_second_factor(&mut self, now: i64) -> Result<(), ApiError> {
        self.auth.second_factor_at = Some(now);
        self.session.insert(AUTH_KEY, &self.auth).await.map_err(|e| ApiError::Internal(e.into()))
    }

    /// The token this session's writes must carry (the app reads it from `/me`).
    pub fn csrf_token(&self) -> &str {
        &self.auth.csrf_token
    }

    fn caller(&self) -> Caller {
        Caller {
            user_id: self.auth.user_id,
            username: self.auth.username.clone(),
            org_id: self.auth.org_id,
            role: self.auth.role,
        }
    }
}

fn not_signed_in() -> ApiError {
    ApiError::unauthorized("not_signed_in", "You are not signed in, or your session has ended. Sign in again.")
}

/// The session of a request, and what it keeps under `key`: `None` when it keeps
/// nothing there, an error when the store cannot be read.
async fn session_with<T: serde::de::DeserializeOwned>(parts: &mut Parts, state: &AppState, key: &str) -> Result<(Session, Option<T>), ApiError> {
    let session = Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, msg)| ApiError::Internal(anyhow::anyhow!("session layer missing: {msg}")))?;
    match session.get::<T>(key).await {
        Ok(found) => Ok((session, found)),
        // The database did not answer: the session may be perfectly good, so it is
        // kept, and the client is asked to come back (an officer's phone backs off).
        Err(tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Backend(err))) => {
            tracing::warn!(error = %err, "could not load a session");
            Err(ApiError::Unavailable {
                message: "The server cannot check your session just now; nothing was changed and you are still signed in.",
                retry_after: std::time::Duration::from_secs(5),
            })
        }
        // A session written by an older release that no longer reads: sign in again.
        Err(_) => {
            session.flush().await.map_err(|e| ApiError::Internal(e.into()))?;
            Err(not_signed_in())
        }
    }
}

/// Refuses a write that does not carry the session's CSRF token.
fn check_csrf(parts: &Parts, csrf_token: &str) -> Result<(), ApiError> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let sent = parts.headers.get(CSRF_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    if sent.is_empty() || !bool::from(sent.ct_eq(csrf_token.as_bytes())) {
        return Err(ApiError::forbidden(
            "csrf_token_invalid",
            "This change was refused because it did not carry your session's security token. Reload the page and try again.",
        ));
    }
    Ok(())
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (session, auth) = session_with::<SessionAuth>(parts, state, AUTH_KEY).await?;
        let auth = auth.ok_or_else(not_signed_in)?;

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
        check_csrf(parts, &auth.csrf_token)?;
        if auth.role.oversees_all() {
            // A session of OCM's works from the allowed networks only, wherever it began.
            let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
            let address = peer.map(|peer| crate::routes::auth::client_address(state, peer, &parts.headers));
            let networks = &state.settings.ocm_networks;
            if !networks.is_open() && !address.is_some_and(|a| networks.permit(a)) {
                return Err(crate::routes::auth::outside_allowed_networks());
            }
        }
        Ok(SignedIn { auth, session })
    }
}

/// A request from a session past the password: signed in, or halfway through signing in
/// ([`Halfway`]). Only the routes that finish a sign-in take it (giving the second
/// factor, setting one up); everything else wants [`SignedIn`].
#[derive(Debug)]
pub struct SigningIn {
    pub auth: SessionAuth,
    /// `None` when the session is signed in.
    pub needs: Option<Needs>,
    session: Session,
}

impl SigningIn {
    /// Finishes a sign-in halfway with a second factor given at `now` (factor clock): the
    /// session is signed in, under a new id. A signed-in session's second factor is
    /// renewed (a step-up).
    pub async fn finish(&mut self, now: i64) -> Result<(), ApiError> {
        let internal = |e: tower_sessions::session::Error| ApiError::Internal(e.into());
        if self.needs.take().is_some() {
            self.session.remove_value(HALFWAY_KEY).await.map_err(internal)?;
            self.session.cycle_id().await.map_err(internal)?;
            self.auth.signed_in_at = chrono::Utc::now().timestamp();
        }
        self.auth.second_factor_at = Some(now);
        self.session.insert(AUTH_KEY, &self.auth).await.map_err(internal)
    }
}

impl FromRequestParts<AppState> for SigningIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match SignedIn::from_request_parts(parts, state).await {
            Ok(signed_in) => return Ok(SigningIn { auth: signed_in.auth, needs: None, session: signed_in.session }),
            Err(ApiError::Client { code: "not_signed_in", .. }) => {}
            Err(refused) => return Err(refused),
        }
        let (session, halfway) = session_with::<Halfway>(parts, state, HALFWAY_KEY).await?;
        let halfway = halfway.ok_or_else(not_signed_in)?;
        if state.factor_clock.now() - halfway.since > HALFWAY_SIGN_IN.as_secs() as i64 {
            session.flush().await.map_err(|e| ApiError::Internal(e.into()))?;
            return Err(ApiError::unauthorized("session_expired", "Signing in took too long. Sign in again."));
        }
        check_csrf(parts, &halfway.auth.csrf_token)?;
        Ok(SigningIn { auth: halfway.auth, needs: Some(halfway.needs), session })
    }
}

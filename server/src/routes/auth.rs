//! Sign-in, sign-out and `GET /api/v1/me`.

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::Json;
use bmms_shared::api::{LoginRequest, Me, SignInStep, SignedOut};
use bmms_shared::UserId;
use rand::distributions::{Alphanumeric, DistString};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

use crate::app::AppState;
use crate::audit::{self, Actor, Event};
use crate::auth::users::{self, UserRecord};
use crate::auth::second_factor;
use crate::auth::signed_in::{Halfway, Needs, HALFWAY_KEY};
use crate::auth::{password, SessionAuth, SignedIn, SigningIn, AUTH_KEY};
use crate::db::tenancy::{self, Membership};
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::extract::ApiJson;

/// An OCM account from outside the networks the operator allowed for OCM.
pub(crate) fn outside_allowed_networks() -> ApiError {
    ApiError::forbidden(
        "address_not_allowed",
        "OCM's accounts work only from the networks OCM allowed. Connect from the office network or its VPN, then sign in again.",
    )
}

fn wrong_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "The username or password is not correct.")
}

/// `POST /api/v1/auth/login`: a new session, with a new id, for a correct password:
/// signed in, or halfway when the user has a second factor to give or, their role
/// needing one, to set up first ([`SignInStep`]). A wrong password, an unknown user and
/// a disabled user all get the same answer.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<SignInStep>, ApiError> {
    if request.username.trim().is_empty() || request.password.is_empty() {
        return Err(ApiError::unprocessable("missing_credentials", "Enter your username and password."));
    }
    // No username has control characters (PostgreSQL would refuse a NUL outright).
    if request.username.len() > 64
        || request.password.len() > 1024
        || request.username.chars().any(char::is_control)
    {
        return Err(wrong_credentials());
    }
    let address = client_address(&state, peer, &headers);
    let account = users::normalize_username(&request.username);
    state
        .login_limiter
        .check(&account, address)
        .map_err(|retry_after| {
            state.metrics.sign_in_failed("too_many_attempts");
            ApiError::TooManyRequests { code: "too_many_attempts", message: "Too many sign-in attempts.", retry_after }
        })?;

    let user = users::find_by_username(state.db.pool(), &account).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = password::verify(stored, request.password).await?;
    let Some(user) = user else {
        tracing::info!(client.address = %address, "sign-in failed: no such user");
        state.metrics.sign_in_failed("wrong_credentials");
        return Err(wrong_credentials());
    };
    let signing_in = password_ok && !user.disabled;
    if signing_in {
        fresh_session(&session).await?;
    }
    let Some((membership, mut tx)) = tenancy::begin_for_member(&state.db, user.id).await? else {
        tracing::warn!(user.id = %user.id, "sign-in refused: the user belongs to no organization");
        state.metrics.sign_in_failed("no_organization");
        return Err(wrong_credentials());
    };
    if !signing_in {
        let reason = if user.disabled { "disabled" } else { "wrong_password" };
        return Err(refuse_sign_in(&state, tx, &user, address, reason, "wrong_credentials", wrong_credentials()).await?);
    }
    if let Some(refusal) = refusal_for(&state, &mut tx, membership, address).await? {
        return Err(refuse_sign_in(&state, tx, &user, address, refusal.0, refusal.0, refusal.1).await?);
    }
    let auth = session_auth(&user, membership);
    let accepted = Accepted { session: &session, user: &user, membership, address, first_factor: "password" };
    let step = next_step(&state, tx, &accepted, auth).await?;
    Ok(Json(step))
}

/// A sign-in whose first factor was taken: whose, into which session, from where, and
/// what it was (`password`, `passkey`, `oidc:<provider>`).
pub(crate) struct Accepted<'a> {
    pub session: &'a Session,
    pub user: &'a UserRecord,
    pub membership: Membership,
    pub address: IpAddr,
    pub first_factor: &'a str,
}

/// After the first factor (a password, or a provider's sign-in): signed in when the user
/// has no second factor and their role needs none; otherwise the session waits halfway
/// for the second factor, or for one to be set up. Audited in `tx`, which is committed.
pub(crate) async fn next_step(state: &AppState, mut tx: OrgTx, accepted: &Accepted<'_>, auth: SessionAuth) -> Result<SignInStep, ApiError> {
    let Accepted { session, user, membership, address, first_factor } = *accepted;
    let factors = second_factor::of_user(&mut tx, user.id).await?;
    let needs = if factors.any() {
        Some(Needs::Code)
    } else if state.settings.mfa_policy.requires(membership.role) {
        Some(Needs::SetUp)
    } else {
        None
    };
    let Some(needs) = needs else {
        let me = signed_in(tx, accepted, auth, None).await?;
        return Ok(SignInStep::SignedIn(me));
    };
    let csrf_token = auth.csrf_token.clone();
    session.insert(HALFWAY_KEY, &Halfway { auth, needs, since: state.factor_clock.now() }).await.map_err(|e| ApiError::Internal(e.into()))?;
    audit::append(&mut tx, Event {
        actor: &Actor::user(user.id, &user.username),
        action: "auth.password_accepted",
        subject: format!("user:{}", user.id),
        details: json!({ "client_address": address.to_string(), "next": needs, "first_factor": first_factor }),
    })
    .await?;
    tx.commit().await?;
    Ok(halfway_step(needs, csrf_token, &factors, membership))
}

/// What a session halfway is waiting for, as the app reads it.
fn halfway_step(needs: Needs, csrf_token: String, factors: &second_factor::Factors, membership: Membership) -> SignInStep {
    match needs {
        Needs::Code => SignInStep::SecondFactor { csrf_token, has_app: factors.totp_since.is_some(), has_passkey: factors.passkeys > 0 },
        Needs::SetUp => SignInStep::SetUpSecondFactor { csrf_token, role: membership.role },
    }
}

/// `GET /api/v1/auth/signing-in`: where this session's sign-in is, for the app after a
/// provider's sign-in sent the browser back (halfway, or signed in).
pub async fn signing_in(State(state): State<AppState>, signing_in: SigningIn) -> Result<Json<SignInStep>, ApiError> {
    let auth = &signing_in.auth;
    let mut tx = OrgTx::begin(&state.db, auth.org_id).await?;
    let membership = Membership { org_id: auth.org_id, role: auth.role };
    let step = match signing_in.needs {
        Some(needs) => halfway_step(needs, auth.csrf_token.clone(), &second_factor::of_user(&mut tx, auth.user_id.uuid()).await?, membership),
        None => {
            let user = users::find_by_id(&mut *tx, auth.user_id.uuid())
                .await?
                .ok_or_else(|| ApiError::unauthorized("not_signed_in", "Your account no longer exists. Sign in again."))?;
            SignInStep::SignedIn(me_of(&mut tx, &user, membership, auth.csrf_token.clone()).await?)
        }
    };
    tx.commit().await?;
    Ok(Json(step))
}

/// Why a person whose credentials are right may still not sign in, if they may not: their
/// organization was deactivated, or an OCM account is outside OCM's allowed networks.
pub(crate) async fn refusal_for(state: &AppState, tx: &mut OrgTx, membership: Membership, address: IpAddr) -> Result<Option<(&'static str, ApiError)>, ApiError> {
    if users::organization(tx).await?.deactivated {
        let refusal = ApiError::forbidden(
            "organization_deactivated",
            "Your organization no longer works in BMMS: it was deactivated. Ask BMMS's system administrator if this is a mistake.",
        );
        return Ok(Some(("organization_deactivated", refusal)));
    }
    if membership.role.oversees_all() && !state.settings.ocm_networks.permit(address) {
        return Ok(Some(("address_not_allowed", outside_allowed_networks())));
    }
    Ok(None)
}

/// Gives a session that is signing in a new id, which defeats session fixation (whatever
/// id the browser came with is dropped), and forgets whoever it was signed in as, or
/// halfway for, before. Done before the sign-in's transaction, because it needs a
/// connection of its own: holding two at once per sign-in would exhaust the pool in a rush.
pub(crate) async fn fresh_session(session: &Session) -> Result<(), ApiError> {
    session.cycle_id().await.map_err(|e| ApiError::Internal(e.into()))?;
    for key in [AUTH_KEY, HALFWAY_KEY] {
        session.remove_value(key).await.map_err(|e| ApiError::Internal(e.into()))?;
    }
    Ok(())
}

/// Signs the session in as `auth` says, after the first factor and the second factor
/// named (`None`: none was needed), audited in `tx`, which is committed: the person, for
/// the app.
pub(crate) async fn signed_in(mut tx: OrgTx, accepted: &Accepted<'_>, auth: SessionAuth, second_factor: Option<&str>) -> Result<Me, ApiError> {
    let Accepted { session, user, membership, address, first_factor } = *accepted;
    session.insert(AUTH_KEY, &auth).await.map_err(|e| ApiError::Internal(e.into()))?;
    audit::append(&mut tx, Event {
        actor: &Actor::user(user.id, &user.username),
        action: "auth.sign_in",
        subject: format!("user:{}", user.id),
        details: json!({ "client_address": address.to_string(), "first_factor": first_factor, "second_factor": second_factor }),
    })
    .await?;
    users::signed_in_now(&mut tx, user.id).await?;
    let me = me_of(&mut tx, user, membership, auth.csrf_token).await?;
    tx.commit().await?;
    Ok(me)
}

/// What a new session remembers of its user: signed in now, with a new CSRF token and
/// no second factor given yet.
pub(crate) fn session_auth(user: &UserRecord, membership: Membership) -> SessionAuth {
    SessionAuth {
        user_id: UserId(user.id),
        username: user.username.clone(),
        org_id: membership.org_id,
        role: membership.role,
        csrf_token: Alphanumeric.sample_string(&mut rand::thread_rng(), 32),
        signed_in_at: chrono::Utc::now().timestamp(),
        second_factor_at: None,
    }
}

/// A sign-in refused for `reason` (audited in the user's organization's chain, `tx`
/// committed, counted under `metric`): the error to answer with.
pub(crate) async fn refuse_sign_in(
    state: &AppState,
    mut tx: OrgTx,
    user: &UserRecord,
    address: IpAddr,
    reason: &'static str,
    metric: &'static str,
    refusal: ApiError,
) -> Result<ApiError, ApiError> {
    audit::append(&mut tx, Event {
        actor: &Actor::user(user.id, &user.username),
        action: "auth.sign_in_failed",
        subject: format!("user:{}", user.id),
        details: json!({ "reason": reason, "client_address": address.to_string() }),
    })
    .await?;
    tx.commit().await?;
    state.metrics.sign_in_failed(metric);
    Ok(refusal)
}

/// `POST /api/v1/auth/logout`: the session is deleted on the server, not just forgotten.
/// Oversight accounts sign out too: ending one's own session changes no data.
pub async fn logout(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<SignedOut>, ApiError> {
    let caller = signed_in.require_member()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "auth.sign_out",
        subject: format!("user:{}", caller.user_id),
        details: json!({}),
    })
    .await?;
    tx.commit().await?;
    signed_in.session().flush().await.map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Json(SignedOut { signed_out: true }))
}

/// `GET /api/v1/me`: who is signed in, for which organization, with which role.
pub async fn me(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Me>, ApiError> {
    let caller = signed_in.require_member()?;
    let user = users::find_by_id(state.db.pool(), caller.user_id.uuid())
        .await?
        .ok_or_else(|| ApiError::unauthorized("not_signed_in", "Your account no longer exists. Sign in again."))?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let membership = Membership { org_id: caller.org_id, role: caller.role };
    let me = me_of(&mut tx, &user, membership, signed_in.csrf_token().to_owned()).await?;
    tx.commit().await?;
    Ok(Json(me))
}

pub(crate) async fn me_of(tx: &mut OrgTx, user: &UserRecord, membership: Membership, csrf_token: String) -> Result<Me, ApiError> {
    Ok(Me {
        user: user.summary(),
        organization: users::organization(tx).await?,
        role: membership.role,
        csrf_token,
    })
}

/// The address sign-in limits (and certificate checks) count against: the peer, or behind
/// a trusted proxy the last address it appended to X-Forwarded-For.
pub(crate) fn client_address(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if state.settings.trust_forwarded_for {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        if let Some(address) = forwarded {
            return address;
        }
    }
    peer.ip()
}

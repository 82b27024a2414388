//! Passkeys: adding one (from the Security page, or as the second factor a role needs at
//! sign-in), naming and removing them, giving one as the second factor, and signing in
//! with a passkey alone. The ceremonies are `auth::passkeys`'; every change, use and
//! refusal is audited in the user's organization's chain.

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use bmms_shared::api::{Me, NewPasskey, PasskeyAdded, PasskeyAnswer, PasskeyChallenge, PasskeyName, PasskeySummary, SecondFactors, SignInStep};
use serde_json::json;
use std::net::SocketAddr;
use tower_sessions::Session;
use uuid::Uuid;

use super::second_factor::{actor_of, count_attempt, given, not_given, set_up_first, status, subject_of};
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::passkeys::{self, PasskeyRow, Refused};
use crate::auth::second_factor::{self, Used};
use crate::auth::signed_in::{require_recent_proof, Needs};
use crate::auth::{users, SignedIn, SigningIn};
use crate::db::tenancy;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::auth::{client_address, fresh_session, refusal_for, Accepted, refuse_sign_in, session_auth, signed_in};
use crate::routes::extract::{ApiJson, ApiPath};

pub(crate) fn summary(row: PasskeyRow) -> PasskeySummary {
    PasskeySummary {
        id: row.id,
        name: row.name,
        added_at: row.created_at.to_rfc3339(),
        last_used_at: row.last_used_at.map(|at| at.to_rfc3339()),
        synced: row.backed_up,
    }
}

/// A ceremony begun: its id and webauthn-rs's options for the browser.
fn challenge_of(ceremony: Uuid, options: impl serde::Serialize) -> Result<Json<PasskeyChallenge>, ApiError> {
    Ok(Json(PasskeyChallenge { ceremony, options: serde_json::to_value(options).map_err(|e| ApiError::Internal(e.into()))? }))
}

/// A passkey's name: what its owner will recognise it by in the list.
fn valid_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field("name", "Give the passkey a name of 1 to 60 characters, such as \"Work laptop\" or \"My phone\"."));
    }
    Ok(name)
}

/// The browser's answer, in webauthn-rs's form.
fn answer_of<T: serde::de::DeserializeOwned>(credential: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(credential).map_err(|_| {
        ApiError::invalid_field("credential", "This is not what a browser sends for a passkey. Try again from the BMMS app.")
    })
}

fn refusal(refused: Refused) -> ApiError {
    match refused {
        Refused::NoCeremony => ApiError::client(
            StatusCode::CONFLICT,
            "passkey_ceremony_over",
            "That passkey prompt is over (it was used, or it waited more than ten minutes). Try again.",
        ),
        Refused::NotAccepted | Refused::UnknownPasskey => ApiError::unauthorized(
            "passkey_not_accepted",
            "That passkey was not accepted. Use a passkey you added to BMMS, on this site, and unlock it when asked.",
        ),
        Refused::PossiblyCopied => ApiError::unauthorized(
            "passkey_not_accepted",
            "That passkey was not accepted: it looks as if it was copied. Use another passkey or a code, and tell your administrator.",
        ),
        Refused::AlreadyAdded => ApiError::client(
            StatusCode::CONFLICT,
            "passkey_already_added",
            "This passkey is already added to BMMS.",
        ),
    }
}

/// Refuses adding a passkey where the session is not enough for it. A passkey signs in by
/// itself, so: halfway through a sign-in, only as the set-up a role needs (not before the
/// second factor the user has); signed in, after a recent proof that it is them.
async fn may_add(state: &AppState, tx: &mut OrgTx, signing_in: &SigningIn) -> Result<(), ApiError> {
    let second_factor_first = || {
        ApiError::client(
            StatusCode::CONFLICT,
            "second_factor_first",
            "Use your passkey or enter a code from your authenticator app (or a recovery code) first.",
        )
    };
    match signing_in.needs {
        // The set-up a role needs, unless a second factor was set up meanwhile.
        Some(Needs::SetUp) if second_factor::of_user(tx, signing_in.auth.user_id.uuid()).await?.any() => Err(second_factor_first()),
        Some(Needs::SetUp) => Ok(()),
        Some(Needs::Code) => Err(second_factor_first()),
        None => require_recent_proof(state, tx, &signing_in.auth).await,
    }
}

/// `POST /api/v1/auth/passkeys/registration`: begins adding a passkey. Signed in, it
/// asks for a fresh second factor first when the user has one; halfway through a
/// sign-in, only when the user's role needs a second factor they have not set up.
pub async fn start_registration(State(state): State<AppState>, signing_in: SigningIn) -> Result<Json<PasskeyChallenge>, ApiError> {
    let auth = &signing_in.auth;
    let mut tx = OrgTx::begin(&state.db, auth.org_id).await?;
    may_add(&state, &mut tx, &signing_in).await?;
    let user = users::find_by_id(&mut *tx, auth.user_id.uuid())
        .await?
        .ok_or_else(|| ApiError::unauthorized("not_signed_in", "Your account no longer exists."))?;
    let (ceremony, options) =
        passkeys::start_registration(&mut tx, &state.settings.passkeys, user.id, &user.username, &user.display_name).await?;
    tx.commit().await?;
    challenge_of(ceremony, options)
}

/// `POST /api/v1/auth/passkeys`: the passkey the browser made. With the user's first
/// second factor come ten recovery codes, shown this once; halfway through a sign-in,
/// the session is signed in.
pub async fn add(
    State(state): State<AppState>,
    mut signing_in: SigningIn,
    ApiJson(body): ApiJson<NewPasskey>,
) -> Result<Json<PasskeyAdded>, ApiError> {
    let name = valid_name(&body.name)?.to_owned();
    let answer = answer_of(body.credential)?;
    let auth = signing_in.auth.clone();
    let mut tx = OrgTx::begin(&state.db, auth.org_id).await?;
    may_add(&state, &mut tx, &signing_in).await?;
    let added = passkeys::finish_registration(&mut tx, &state.settings.passkeys, auth.user_id.uuid(), body.ceremony, &name, &answer).await?;
    let passkey = added.map_err(refusal)?;
    let recovery_codes = second_factor::first_recovery_codes(&mut tx, auth.user_id.uuid()).await?;
    audit::append(&mut tx, Event {
        actor: &actor_of(&auth),
        action: "auth.passkey_added",
        subject: subject_of(&auth),
        details: json!({ "passkey": passkey.id, "name": passkey.name, "synced": passkey.backed_up, "recovery_codes": recovery_codes.len() }),
    })
    .await?;
    let finishing_sign_in = signing_in.needs.is_some();
    if !finishing_sign_in {
        tx.commit().await?;
        return Ok(Json(PasskeyAdded { passkey: summary(passkey), recovery_codes, signed_in: None }));
    }
    let now = state.factor_clock.now();
    let me = given(tx, &mut signing_in, Used::Passkey, now).await?;
    Ok(Json(PasskeyAdded { passkey: summary(passkey), recovery_codes, signed_in: Some(me) }))
}

/// `POST /api/v1/auth/passkeys/challenge`: begins giving one of the user's passkeys as
/// the second factor (to finish a sign-in, or as a step-up).
pub async fn challenge(State(state): State<AppState>, signing_in: SigningIn) -> Result<Json<PasskeyChallenge>, ApiError> {
    if signing_in.needs == Some(Needs::SetUp) {
        return Err(set_up_first());
    }
    let mut tx = OrgTx::begin(&state.db, signing_in.auth.org_id).await?;
    let started = passkeys::start_second_factor(&mut tx, &state.settings.passkeys, signing_in.auth.user_id.uuid()).await?;
    let Some((ceremony, options)) = started else {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "no_passkey",
            "You have no passkey in BMMS: enter a code from your authenticator app, or a recovery code.",
        ));
    };
    tx.commit().await?;
    challenge_of(ceremony, options)
}

/// `POST /api/v1/auth/second-factor/passkey`: the browser's answer with one of the
/// user's passkeys. Halfway through a sign-in, it signs the session in; signed in, it
/// renews the session's second factor (a step-up).
pub async fn give(
    State(state): State<AppState>,
    mut signing_in: SigningIn,
    ApiJson(body): ApiJson<PasskeyAnswer>,
) -> Result<Json<Me>, ApiError> {
    let answer = answer_of(body.credential)?;
    count_attempt(&state, &signing_in.auth)?;
    let mut tx = OrgTx::begin(&state.db, signing_in.auth.org_id).await?;
    let user_id = signing_in.auth.user_id.uuid();
    let checked = passkeys::finish_second_factor(&mut tx, &state.settings.passkeys, user_id, body.ceremony, &answer).await?;
    if let Err(refused) = checked {
        not_given(&state, tx, &signing_in).await?;
        return Err(refusal(refused));
    }
    let now = state.factor_clock.now();
    given(tx, &mut signing_in, Used::Passkey, now).await.map(Json)
}

/// `POST /api/v1/auth/passkey-sign-in/challenge`: begins a sign-in with a passkey alone,
/// with no username: the browser offers the person the passkeys it has for BMMS.
pub async fn sign_in_challenge(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<PasskeyChallenge>, ApiError> {
    // Each challenge is a row until it is used or swept: one address cannot pile them up.
    let address = client_address(&state, peer, &headers);
    state.sign_in_start_limiter.check(address).map_err(|retry_after| ApiError::TooManyRequests {
        code: "too_many_attempts",
        message: "Too many sign-in attempts.",
        retry_after,
    })?;
    let mut conn = state.db.pool().acquire().await?;
    let (ceremony, options) = passkeys::start_sign_in(&mut conn, &state.settings.passkeys).await?;
    challenge_of(ceremony, options)
}

/// `POST /api/v1/auth/passkey-sign-in`: the browser's answer. A passkey verifies the
/// person (their fingerprint, face or PIN) on a device they hold: it is both factors, so
/// the session is signed in with its second factor fresh. A disabled account, an unknown
/// passkey and a wrong answer are refused alike.
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    ApiJson(body): ApiJson<PasskeyAnswer>,
) -> Result<Json<SignInStep>, ApiError> {
    let answer = answer_of(body.credential)?;
    let address = client_address(&state, peer, &headers);
    let mut conn = state.db.pool().acquire().await?;
    let checked = passkeys::finish_sign_in(&mut conn, &state.settings.passkeys, body.ceremony, &answer).await?;
    drop(conn);
    let user_id = match checked {
        Ok(user_id) => user_id,
        Err(refused) => {
            tracing::info!(client.address = %address, ?refused, "passkey sign-in refused");
            state.metrics.sign_in_failed("wrong_credentials");
            return Err(refusal(refused));
        }
    };
    let user = users::find_by_id(state.db.pool(), user_id).await?.ok_or_else(|| refusal(Refused::UnknownPasskey))?;
    if !user.disabled {
        fresh_session(&session).await?;
    }
    let Some((membership, mut tx)) = tenancy::begin_for_member(&state.db, user.id).await? else {
        state.metrics.sign_in_failed("no_organization");
        return Err(refusal(Refused::UnknownPasskey));
    };
    if user.disabled {
        return Err(refuse_sign_in(&state, tx, &user, address, "disabled", "wrong_credentials", refusal(Refused::UnknownPasskey)).await?);
    }
    if let Some(refusal) = refusal_for(&state, &mut tx, membership, address).await? {
        return Err(refuse_sign_in(&state, tx, &user, address, refusal.0, refusal.0, refusal.1).await?);
    }
    let mut auth = session_auth(&user, membership);
    auth.second_factor_at = Some(state.factor_clock.now());
    let accepted = Accepted { session: &session, user: &user, membership, address, first_factor: "passkey" };
    let me = signed_in(tx, &accepted, auth, Some("passkey")).await?;
    Ok(Json(SignInStep::SignedIn(me)))
}

/// `PUT /api/v1/auth/passkeys/{id}`: a new name for one of the user's passkeys.
pub async fn rename(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<PasskeyName>,
) -> Result<Json<SecondFactors>, ApiError> {
    let caller = signed_in.require_member()?;
    let name = valid_name(&body.name)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    if !passkeys::rename(&mut tx, caller.user_id.uuid(), id, name).await? {
        return Err(no_such_passkey());
    }
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "auth.passkey_renamed",
        subject: format!("user:{}", caller.user_id),
        details: json!({ "passkey": id, "name": name }),
    })
    .await?;
    let status = status(&mut tx, &state, signed_in.auth()).await?;
    tx.commit().await?;
    Ok(Json(status))
}

/// `DELETE /api/v1/auth/passkeys/{id}`: removes one of the user's passkeys, unless it is
/// the only second factor of a role that needs one. With the last second factor go the
/// recovery codes.
pub async fn remove(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<Uuid>) -> Result<Json<SecondFactors>, ApiError> {
    let caller = signed_in.require_member()?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    second_factor::lock(&mut tx, caller.user_id.uuid()).await?;
    let Some(name) = passkeys::remove(&mut tx, caller.user_id.uuid(), id).await? else {
        return Err(no_such_passkey());
    };
    let left = second_factor::of_user(&mut tx, caller.user_id.uuid()).await?;
    if !left.any() && state.settings.mfa_policy.requires(caller.role) {
        // The transaction is dropped, so the passkey stays.
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "second_factor_required",
            "Your role needs a second factor, and this passkey is your only one. Add another passkey or an authenticator app first.",
        ));
    }
    second_factor::drop_orphaned_recovery_codes(&mut tx, caller.user_id.uuid()).await?;
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "auth.passkey_removed",
        subject: format!("user:{}", caller.user_id),
        details: json!({ "passkey": id, "name": name }),
    })
    .await?;
    let status = status(&mut tx, &state, signed_in.auth()).await?;
    tx.commit().await?;
    Ok(Json(status))
}

fn no_such_passkey() -> ApiError {
    ApiError::not_found("You have no such passkey: it may have been removed already. Reload the page.")
}

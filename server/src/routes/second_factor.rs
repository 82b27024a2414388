//! Second factors: giving one (to finish a sign-in, or as a step-up before a sensitive
//! action), setting up an authenticator app, new recovery codes, and removing them.
//! Every change and every wrong code is audited in the user's organization's chain.

use axum::extract::State;
use axum::Json;
use bmms_shared::api::{Me, RecoveryCodes, SecondFactorCode, SecondFactors, TotpSetUp};
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, Actor, Event};
use crate::auth::passkeys;
use crate::auth::second_factor::{self, Refused};
use crate::auth::signed_in::{second_factor_needed, Needs, SessionAuth};
use crate::auth::users;
use crate::auth::{SignedIn, SigningIn};
use crate::db::tenancy::Membership;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::extract::ApiJson;

fn wrong_code() -> ApiError {
    ApiError::unauthorized(
        "wrong_code",
        "That code is not right, or it was used already. Enter the code your authenticator app shows now, or one of your recovery codes.",
    )
}

/// 409: halfway through a sign-in whose role needs a second factor, none is set up yet.
pub(super) fn set_up_first() -> ApiError {
    ApiError::client(
        axum::http::StatusCode::CONFLICT,
        "set_up_first",
        "Your role needs a second factor and you have none yet: add a passkey or set up an authenticator app first.",
    )
}

pub(super) fn actor_of(auth: &SessionAuth) -> Actor {
    Actor::user(auth.user_id.uuid(), &auth.username)
}

pub(super) fn subject_of(auth: &SessionAuth) -> String {
    format!("user:{}", auth.user_id)
}

/// Counts a second-factor attempt of the user (429 past [`crate::auth::limiter::SECOND_FACTOR_ATTEMPTS`]).
pub(super) fn count_attempt(state: &AppState, auth: &SessionAuth) -> Result<(), ApiError> {
    state.factor_limiter.check(auth.user_id).map_err(|retry_after| {
        state.metrics.sign_in_failed("too_many_attempts");
        ApiError::TooManyRequests { code: "too_many_attempts", message: "Too many codes tried.", retry_after }
    })
}

pub(super) async fn me_of(tx: &mut OrgTx, auth: &SessionAuth) -> Result<Me, ApiError> {
    let user = users::find_by_id(&mut **tx, auth.user_id.uuid())
        .await?
        .ok_or_else(|| ApiError::unauthorized("not_signed_in", "Your account no longer exists."))?;
    super::auth::me_of(tx, &user, Membership { org_id: auth.org_id, role: auth.role }, auth.csrf_token.clone()).await
}

/// `POST /api/v1/auth/second-factor`: a code from the authenticator app, or a recovery
/// code. Halfway through a sign-in, it signs the session in; signed in, it renews the
/// session's second factor, which sensitive actions ask for (a step-up).
pub async fn give(
    State(state): State<AppState>,
    mut signing_in: SigningIn,
    ApiJson(body): ApiJson<SecondFactorCode>,
) -> Result<Json<Me>, ApiError> {
    if signing_in.needs == Some(Needs::SetUp) {
        return Err(set_up_first());
    }
    count_attempt(&state, &signing_in.auth)?;
    let mut tx = OrgTx::begin(&state.db, signing_in.auth.org_id).await?;
    let now = state.factor_clock.now();
    let checked = second_factor::check(&mut tx, &state.settings.factor_key, now, signing_in.auth.user_id.uuid(), &body.code).await?;
    let used = match checked {
        Ok(used) => used,
        Err(refused) => {
            not_given(&state, tx, &signing_in).await?;
            return Err(match refused {
                Refused::WrongCode => wrong_code(),
                Refused::NothingToCheck => ApiError::client(
                    axum::http::StatusCode::CONFLICT,
                    "no_second_factor",
                    "You have no authenticator app set up: use your passkey, or one of your recovery codes.",
                ),
            });
        }
    };
    given(tx, &mut signing_in, used, now).await.map(Json)
}

/// A second factor refused: audited (and counted) as such, in `tx`, which is committed.
pub(super) async fn not_given(state: &AppState, mut tx: OrgTx, signing_in: &SigningIn) -> Result<(), ApiError> {
    let auth = &signing_in.auth;
    audit::append(&mut tx, Event {
        actor: &actor_of(auth),
        action: "auth.second_factor_failed",
        subject: subject_of(auth),
        details: json!({ "during": if signing_in.needs.is_some() { "sign_in" } else { "step_up" } }),
    })
    .await?;
    tx.commit().await?;
    state.metrics.sign_in_failed("wrong_second_factor");
    Ok(())
}

/// A second factor given at `now` (factor clock): halfway through a sign-in, the session
/// is signed in; signed in, its second factor is renewed (a step-up). Audited in `tx`,
/// which is committed.
pub(super) async fn given(mut tx: OrgTx, signing_in: &mut SigningIn, used: second_factor::Used, now: i64) -> Result<Me, ApiError> {
    let auth = signing_in.auth.clone();
    let recovery_codes_left = match used {
        second_factor::Used::RecoveryCode { left } => Some(left),
        second_factor::Used::Totp | second_factor::Used::Passkey => None,
    };
    audit::append(&mut tx, Event {
        actor: &actor_of(&auth),
        action: if signing_in.needs.is_some() { "auth.sign_in" } else { "auth.step_up" },
        subject: subject_of(&auth),
        details: json!({ "second_factor": used.as_str(), "recovery_codes_left": recovery_codes_left }),
    })
    .await?;
    if signing_in.needs.is_some() {
        users::signed_in_now(&mut tx, auth.user_id.uuid()).await?;
    }
    let me = me_of(&mut tx, &auth).await?;
    tx.commit().await?;
    signing_in.finish(now).await?;
    Ok(me)
}

/// `GET /api/v1/auth/second-factor`: the user's second factors.
pub async fn show(State(state): State<AppState>, signing_in: SigningIn) -> Result<Json<SecondFactors>, ApiError> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(Json(status(&mut conn, &state, &signing_in.auth).await?))
}

/// The user's second factors, as their Security page shows them.
pub(crate) async fn status(conn: &mut sqlx::PgConnection, state: &AppState, auth: &SessionAuth) -> Result<SecondFactors, ApiError> {
    let factors = second_factor::of_user(conn, auth.user_id.uuid()).await?;
    let passkeys = passkeys::of_user(conn, auth.user_id.uuid()).await?;
    Ok(SecondFactors {
        totp_since: factors.totp_since.map(|at| at.to_rfc3339()),
        recovery_codes_left: factors.recovery_codes_left,
        required_by_role: state.settings.mfa_policy.requires(auth.role),
        fresh_for_seconds: auth.fresh_for(state.factor_clock.now()),
        passkeys: passkeys.into_iter().map(super::passkeys::summary).collect(),
        linked_services: crate::auth::oidc::links_of(conn, auth.user_id.uuid()).await?,
    })
}

/// `POST /api/v1/auth/second-factor/totp`: a new authenticator app to set up, shown as a
/// QR code. It replaces the one in use only once a code from it is confirmed; replacing
/// one asks for a fresh second factor first.
pub async fn start_totp(State(state): State<AppState>, signing_in: SigningIn) -> Result<Json<TotpSetUp>, ApiError> {
    let auth = &signing_in.auth;
    if signing_in.needs == Some(Needs::Code) {
        return Err(ApiError::client(
            axum::http::StatusCode::CONFLICT,
            "second_factor_first",
            "Enter a code from your authenticator app (or a recovery code) first.",
        ));
    }
    let mut tx = OrgTx::begin(&state.db, auth.org_id).await?;
    let factors = second_factor::of_user(&mut tx, auth.user_id.uuid()).await?;
    if factors.any() && auth.fresh_for(state.factor_clock.now()) == 0 {
        return Err(second_factor_needed());
    }
    let set_up = second_factor::start_totp(&mut tx, &state.settings.factor_key, state.factor_clock.now(), auth.user_id.uuid(), &auth.username).await?;
    tx.commit().await?;
    Ok(Json(TotpSetUp { otpauth_uri: set_up.otpauth_uri, qr_svg: set_up.qr_svg, secret: set_up.secret_base32 }))
}

/// `POST /api/v1/auth/second-factor/totp/confirm`: the first code from the app being set
/// up. It becomes the user's second factor, with ten new recovery codes shown this once;
/// halfway through a sign-in, the session is signed in.
pub async fn confirm_totp(
    State(state): State<AppState>,
    mut signing_in: SigningIn,
    ApiJson(body): ApiJson<SecondFactorCode>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    count_attempt(&state, &signing_in.auth)?;
    let auth = signing_in.auth.clone();
    let mut tx = OrgTx::begin(&state.db, auth.org_id).await?;
    let now = state.factor_clock.now();
    let confirmed = second_factor::confirm_totp(&mut tx, &state.settings.factor_key, now, auth.user_id.uuid(), &body.code).await?;
    let recovery_codes = match confirmed {
        Ok(codes) => codes,
        Err(Refused::WrongCode) => {
            state.metrics.sign_in_failed("wrong_second_factor");
            return Err(ApiError::invalid_field(
                "code",
                "That is not the code the app shows now. Check that the app was set up from the QR code above, and type the six digits it shows.",
            ));
        }
        Err(Refused::NothingToCheck) => {
            return Err(ApiError::client(
                axum::http::StatusCode::CONFLICT,
                "nothing_to_confirm",
                "No authenticator app is being set up (or it took over 30 minutes). Start again.",
            ))
        }
    };
    let finishing_sign_in = signing_in.needs.is_some();
    audit::append(&mut tx, Event {
        actor: &actor_of(&auth),
        action: "auth.totp_set_up",
        subject: subject_of(&auth),
        details: json!({ "recovery_codes": recovery_codes.len() }),
    })
    .await?;
    if finishing_sign_in {
        audit::append(&mut tx, Event {
            actor: &actor_of(&auth),
            action: "auth.sign_in",
            subject: subject_of(&auth),
            details: json!({ "second_factor": "totp" }),
        })
        .await?;
        users::signed_in_now(&mut tx, auth.user_id.uuid()).await?;
    }
    let me = me_of(&mut tx, &auth).await?;
    tx.commit().await?;
    signing_in.finish(now).await?;
    Ok(Json(RecoveryCodes { recovery_codes, signed_in: finishing_sign_in.then_some(me) }))
}

/// `POST /api/v1/auth/second-factor/recovery-codes`: ten new recovery codes in place of
/// the old ones, shown this once.
pub async fn new_recovery_codes(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<RecoveryCodes>, ApiError> {
    let caller = signed_in.require_member()?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    if !second_factor::of_user(&mut tx, caller.user_id.uuid()).await?.any() {
        return Err(ApiError::client(
            axum::http::StatusCode::CONFLICT,
            "no_second_factor",
            "Recovery codes go with an authenticator app or a passkey: set one up first.",
        ));
    }
    let recovery_codes = second_factor::new_recovery_codes(&mut tx, caller.user_id.uuid()).await?;
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "auth.recovery_codes_renewed",
        subject: format!("user:{}", caller.user_id),
        details: json!({ "recovery_codes": recovery_codes.len() }),
    })
    .await?;
    tx.commit().await?;
    Ok(Json(RecoveryCodes { recovery_codes, signed_in: None }))
}

/// `DELETE /api/v1/auth/second-factor`: removes the authenticator app (and the recovery
/// codes, unless a passkey is left for them to stand in for), for a user whose role does
/// not need a second factor or who keeps a passkey.
pub async fn remove(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<SecondFactors>, ApiError> {
    let caller = signed_in.require_member()?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    second_factor::lock(&mut tx, caller.user_id.uuid()).await?;
    let factors = second_factor::of_user(&mut tx, caller.user_id.uuid()).await?;
    if state.settings.mfa_policy.requires(caller.role) && factors.passkeys == 0 {
        return Err(ApiError::client(
            axum::http::StatusCode::CONFLICT,
            "second_factor_required",
            "Your role needs a second factor, so your only one cannot be removed. To change phones, set up the authenticator app again instead, or add a passkey first.",
        ));
    }
    second_factor::remove_app(&mut tx, caller.user_id.uuid()).await?;
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "auth.second_factor_removed",
        subject: format!("user:{}", caller.user_id),
        details: json!({ "by": "self", "factor": "totp" }),
    })
    .await?;
    let status = status(&mut tx, &state, signed_in.auth()).await?;
    tx.commit().await?;
    Ok(Json(status))
}

//! Signing in through an OpenID Connect provider the operator configured: the list for
//! the sign-in page, the start (the browser goes to the provider) and the callback (it
//! comes back with a code). The provider's sign-in stands for the password: the person's
//! second factor, where they have one or their role needs one, is still asked by BMMS.
//!
//! These are browser navigations, not calls from the app: a refusal is a short page in
//! words, with a way back, rather than JSON.

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use bmms_shared::api::{SignInStep, SsoProvider};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::app::AppState;
use crate::audit::{self, Actor, Event};
use crate::auth::oidc::{self, Failed, Pending, Provider};
use crate::auth::{password, users};
use crate::db::tenancy;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::auth::{client_address, fresh_session, next_step, refusal_for, refuse_sign_in, session_auth};
use crate::routes::extract::ApiPath;

/// The session key of a provider's sign-in begun here.
const PENDING_KEY: &str = "oidc_pending";

/// How long the person may take at the provider.
const PATIENCE_SECONDS: i64 = 10 * 60;

/// `GET /api/v1/auth/oidc`: the providers people may sign in with, for the sign-in page.
pub async fn list(State(state): State<AppState>) -> Json<Vec<SsoProvider>> {
    Json(state.settings.oidc_providers.iter().map(|p| SsoProvider { id: p.id.clone(), label: p.label.clone() }).collect())
}

/// `?to=desk` on the start: back to the desk afterwards, else to the officer app.
#[derive(Debug, Deserialize)]
pub struct Start {
    #[serde(default)]
    to: Option<String>,
}

/// What the provider sends back: a code and the state, or an error.
#[derive(Debug, Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// A short page saying why, with a way back to the app.
fn page(status: StatusCode, message: &str) -> Response {
    let escaped = message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let body = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Signing in did not work</title><main style=\"font-family:system-ui;max-width:36rem;margin:2rem auto;padding:0 1rem\">\
         <h1>Signing in did not work</h1><p id=\"reason\">{escaped}</p><p><a href=\"/\">Back to BMMS</a></p></main></html>"
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn provider<'a>(state: &'a AppState, id: &str) -> Result<&'a Provider, Response> {
    state
        .settings
        .oidc_providers
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| page(StatusCode::NOT_FOUND, "BMMS has no such sign-in service. Go back and choose one of those on the sign-in page."))
}

fn redirect_uri(state: &AppState, provider: &Provider) -> String {
    format!("{}/api/v1/auth/oidc/{}/callback", state.settings.public_url.trim_end_matches('/'), provider.id)
}

fn unreachable_page(provider: &Provider) -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("{} cannot be reached just now. Try again in a few minutes, or sign in with your BMMS password.", provider.label),
    )
}

/// `GET /api/v1/auth/oidc/{id}/start`: to the provider, with a new state, nonce and PKCE
/// challenge, kept in this browser's session for the callback.
pub async fn start(State(state): State<AppState>, session: Session, ApiPath(id): ApiPath<String>, Query(start): Query<Start>) -> Response {
    let provider = match provider(&state, &id) {
        Ok(provider) => provider,
        Err(page) => return page,
    };
    let return_to = if start.to.as_deref() == Some("desk") { "/desk/" } else { "/" };
    let begun = oidc::begin(provider, &redirect_uri(&state, provider), return_to, chrono::Utc::now().timestamp()).await;
    let (url, pending) = match begun {
        Ok(begun) => begun,
        Err(error) => {
            tracing::warn!(provider = %provider.id, %error, "an OIDC provider could not be reached");
            return unreachable_page(provider);
        }
    };
    if let Err(error) = session.insert(PENDING_KEY, &pending).await {
        return ApiError::Internal(error.into()).into_response();
    }
    Redirect::to(&url).into_response()
}

/// `GET /api/v1/auth/oidc/{id}/callback`: the provider's answer. Only the flow begun in
/// this browser, within ten minutes, with its state, is taken; the ID token's signature
/// and nonce are checked; its claim names the BMMS user.
pub async fn callback(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    ApiPath(id): ApiPath<String>,
    Query(answer): Query<Callback>,
) -> Response {
    match finish(&state, peer, &headers, &session, &id, answer).await {
        Ok(response) => response,
        Err(Refusal::Page(response)) => response,
        Err(Refusal::Api(error)) => match error {
            ApiError::Client { status, message, .. } => page(status, &message),
            other => other.into_response(),
        },
    }
}

/// Why a callback went no further.
enum Refusal {
    Page(Response),
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal::Api(error)
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(error: sqlx::Error) -> Self {
        Refusal::Api(error.into())
    }
}

impl From<anyhow::Error> for Refusal {
    fn from(error: anyhow::Error) -> Self {
        Refusal::Api(error.into())
    }
}

fn start_again() -> Refusal {
    Refusal::Page(page(
        StatusCode::BAD_REQUEST,
        "This sign-in was not started in this browser, took longer than ten minutes, or was used already. Go back to BMMS and start again.",
    ))
}

async fn finish(state: &AppState, peer: SocketAddr, headers: &HeaderMap, session: &Session, id: &str, answer: Callback) -> Result<Response, Refusal> {
    let provider = provider(state, id).map_err(Refusal::Page)?;
    let pending: Option<Pending> = session.remove(PENDING_KEY).await.map_err(|e| ApiError::Internal(e.into()))?;
    let Some(pending) = pending.filter(|p| p.provider == provider.id) else {
        return Err(start_again());
    };
    if let Some(error) = answer.error {
        tracing::info!(provider = %provider.id, %error, "the provider refused the sign-in");
        return Err(Refusal::Page(page(StatusCode::UNAUTHORIZED, &format!("{} did not sign you in ({error}).", provider.label))));
    }
    let state_matches = answer.state.as_deref().is_some_and(|s| bool::from(s.as_bytes().ct_eq(pending.state.as_bytes())));
    let fresh = chrono::Utc::now().timestamp() - pending.since <= PATIENCE_SECONDS;
    let (Some(code), true, true) = (answer.code, state_matches, fresh) else {
        tracing::warn!(provider = %provider.id, state_matches, fresh, "an OIDC callback was refused");
        state.metrics.sign_in_failed("wrong_credentials");
        return Err(start_again());
    };
    let claimed = match oidc::finish(provider, &redirect_uri(state, provider), &pending, &code).await {
        Ok(claimed) => claimed,
        Err(Failed::Unreachable(error)) => {
            tracing::warn!(provider = %provider.id, %error, "an OIDC provider could not be reached");
            return Err(Refusal::Page(unreachable_page(provider)));
        }
        Err(Failed::NotAccepted(error)) => {
            tracing::warn!(provider = %provider.id, %error, "an OIDC sign-in did not check out");
            state.metrics.sign_in_failed("wrong_credentials");
            return Err(Refusal::Page(page(
                StatusCode::UNAUTHORIZED,
                &format!("The answer from {} did not check out, so BMMS did not sign you in. Start again.", provider.label),
            )));
        }
    };
    let address = client_address(state, peer, headers);
    let username = users::normalize_username(&claimed);
    let user = match users::find_by_username(state.db.pool(), &username).await? {
        Some(user) => user,
        None => match &provider.provision {
            Some(provisioning) => provision(state, provider, provisioning, &username).await?,
            None => {
                tracing::info!(provider = %provider.id, "an OIDC sign-in names no BMMS user");
                state.metrics.sign_in_failed("wrong_credentials");
                return Err(Refusal::Page(page(
                    StatusCode::FORBIDDEN,
                    &format!("{} signed you in as “{username}”, but BMMS has no account by that name. Ask your organization's administrator to add you with this username.", provider.label),
                )));
            }
        },
    };
    if !user.disabled {
        fresh_session(session).await?;
    }
    let Some((membership, mut tx)) = tenancy::begin_for_member(&state.db, user.id).await? else {
        return Err(start_again());
    };
    if user.disabled {
        let disabled = ApiError::forbidden("account_disabled", "Your BMMS account is disabled. Ask your organization's administrator.");
        return Err(refuse_sign_in(state, tx, &user, address, "disabled", "wrong_credentials", disabled).await?.into());
    }
    if let Some((reason, refusal)) = refusal_for(state, &mut tx, membership, address).await? {
        return Err(refuse_sign_in(state, tx, &user, address, reason, reason, refusal).await?.into());
    }
    let auth = session_auth(&user, membership);
    let first_factor = format!("oidc:{}", provider.id);
    let step = next_step(state, session, tx, &user, membership, auth, address, &first_factor).await?;
    let to = match step {
        SignInStep::SignedIn(_) => pending.return_to,
        // The app asks for the second factor (or its set-up) there.
        _ => format!("{}#signing-in", pending.return_to),
    };
    Ok(Redirect::to(&to).into_response())
}

/// A first sign-in with no BMMS account, where the operator allows it: a new user of the
/// operator's organization and role, with a password nobody knows (they sign in through
/// the provider), audited there.
async fn provision(state: &AppState, provider: &Provider, provisioning: &oidc::Provisioning, username: &str) -> Result<users::UserRecord, Refusal> {
    if !crate::people::is_valid_username(username) {
        return Err(Refusal::Page(page(
            StatusCode::FORBIDDEN,
            &format!("{} signed you in as “{username}”, which is not a name BMMS can give an account. Ask your administrator.", provider.label),
        )));
    }
    let org_id: Option<bmms_shared::OrgId> = sqlx::query_scalar("select id from organizations where code = $1")
        .bind(&provisioning.organization)
        .fetch_optional(state.db.pool())
        .await
        .map_err(ApiError::from)?;
    let org_id = org_id.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the OIDC provider {} provisions into an unknown organization", provider.id)))?;
    let unknown_password = password::hash(password::generate()).await?;
    let mut tx = OrgTx::begin(&state.db, org_id).await?;
    let id = crate::people::create(&mut tx, username, username, provisioning.role, &unknown_password).await.map_err(ApiError::from)?;
    audit::append(&mut tx, Event {
        actor: &Actor::user(id, username),
        action: "auth.oidc_provisioned",
        subject: format!("user:{id}"),
        details: json!({ "provider": provider.id, "role": provisioning.role }),
    })
    .await?;
    tx.commit().await?;
    let user = users::find_by_id(state.db.pool(), id).await?.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a provisioned user is gone")))?;
    Ok(user)
}

//! Signing in through an OpenID Connect provider the operator configured: the list for
//! the sign-in page, the start (the browser goes to the provider), the callback (it comes
//! back with a code), and linking one's account at a provider from the Security page.
//! A provider's account signs in only the BMMS user it is linked to (by its subject):
//! linked by that person, signed in to BMMS, or made by a provider the operator lets make
//! users. The provider's sign-in stands for the password: the person's second factor,
//! where they have one or their role needs one, is still asked by BMMS.
//!
//! These are browser navigations, not calls from the app: a refusal is a short page in
//! words, with a way back, rather than JSON.

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use bmms_shared::api::{SignInStep, SsoLinkStart, SsoProvider};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::app::AppState;
use crate::audit::{self, Actor, Event};
use crate::auth::oidc::{self, Failed, Pending, Provider};
use crate::auth::signed_in::require_recent_proof;
use crate::auth::{password, users, SessionAuth, SignedIn, AUTH_KEY};
use crate::db::tenancy;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::auth::{client_address, fresh_session, next_step, Accepted, refusal_for, refuse_sign_in, session_auth};
use crate::routes::extract::{ApiPath, ApiQuery};

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
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    ApiPath(id): ApiPath<String>,
    Query(start): Query<Start>,
) -> Response {
    // Each start reads the provider's documents and keeps a session: one address cannot
    // make BMMS do it without end.
    if let Err(retry_after) = state.sign_in_start_limiter.check(client_address(&state, peer, &headers)) {
        return ApiError::TooManyRequests { code: "too_many_attempts", message: "Too many sign-in attempts.", retry_after }.into_response();
    }
    let provider = match provider(&state, &id) {
        Ok(provider) => provider,
        Err(page) => return page,
    };
    match begin(&state, &session, provider, &start, None).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(response) => response,
    }
}

/// Begins a flow with `provider`, kept in the session: the provider's address to go to.
async fn begin(state: &AppState, session: &Session, provider: &Provider, start: &Start, link_for: Option<uuid::Uuid>) -> Result<String, Response> {
    let return_to = if start.to.as_deref() == Some("desk") { "/desk/" } else { "/" };
    let begun = oidc::begin(provider, &redirect_uri(state, provider), return_to, link_for, chrono::Utc::now().timestamp()).await;
    let (url, pending) = begun.map_err(|error| {
        tracing::warn!(provider = %provider.id, %error, "an OIDC provider could not be reached");
        unreachable_page(provider)
    })?;
    session.insert(PENDING_KEY, &pending).await.map_err(|error| ApiError::Internal(error.into()).into_response())?;
    Ok(url)
}

/// `POST /api/v1/auth/oidc/{id}/link?to=desk`: begins linking the signed-in person's
/// account at the provider (after a fresh second factor, where they have one): the
/// address to send the browser to. A POST, with the session's CSRF token, so that no
/// other site can start a link in someone's browser.
pub async fn start_link(
    State(state): State<AppState>,
    signed_in: SignedIn,
    session: Session,
    ApiPath(id): ApiPath<String>,
    ApiQuery(start): ApiQuery<Start>,
) -> Result<Json<SsoLinkStart>, ApiError> {
    let caller = signed_in.require_member()?;
    signed_in.require_fresh_second_factor(&state).await?;
    let provider = state.settings.oidc_providers.iter().find(|p| p.id == id).ok_or_else(|| ApiError::not_found("BMMS has no such sign-in service."))?;
    let mut conn = state.db.pool().acquire().await?;
    require_recent_proof(&state, &mut conn, signed_in.auth()).await?;
    drop(conn);
    let url = begin(&state, &session, provider, &start, Some(caller.user_id.uuid())).await.map_err(|_| ApiError::Unavailable {
        message: "The sign-in service cannot be reached just now. Try again in a few minutes.",
        retry_after: std::time::Duration::from_secs(60),
    })?;
    Ok(Json(SsoLinkStart { url }))
}

/// `DELETE /api/v1/auth/oidc/{id}/link`: the person's account at the provider no longer
/// signs them in.
pub async fn unlink(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<String>) -> Result<Json<Vec<String>>, ApiError> {
    let caller = signed_in.require_member()?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    if !oidc::unlink(&mut tx, &id, caller.user_id.uuid()).await? {
        return Err(ApiError::not_found("Your account is not linked to that sign-in service."));
    }
    audit::append(&mut tx, Event { actor: &caller.actor(), action: "auth.sso_unlinked", subject: format!("user:{}", caller.user_id), details: json!({ "provider": id }) }).await?;
    let links = oidc::links_of(&mut tx, caller.user_id.uuid()).await?;
    tx.commit().await?;
    Ok(Json(links))
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
    let identity = match oidc::finish(provider, &redirect_uri(state, provider), &pending, &code).await {
        Ok(identity) => identity,
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
    if let Some(user) = pending.link_for {
        return link(state, session, provider, &identity, user, &pending.return_to).await;
    }
    let address = client_address(state, peer, headers);
    let mut conn = state.db.pool().acquire().await?;
    let linked = oidc::linked_user(&mut conn, &provider.id, &identity.subject).await?;
    drop(conn);
    let user = match linked {
        Some(id) => users::find_by_id(state.db.pool(), id).await?.ok_or_else(start_again)?,
        None => match (&provider.provision, identity.username.as_deref().map(users::normalize_username)) {
            (Some(provisioning), Some(username)) if users::find_by_username(state.db.pool(), &username).await?.is_none() => {
                provision(state, provider, provisioning, &username, &identity.subject).await?
            }
            _ => {
                tracing::info!(provider = %provider.id, "an OIDC account linked to no BMMS user");
                state.metrics.sign_in_failed("wrong_credentials");
                return Err(Refusal::Page(page(
                    StatusCode::FORBIDDEN,
                    &format!(
                        "Your {} account is not linked to a BMMS account yet. Sign in to BMMS with your username and password once, open Security, and press “Link {}”. No BMMS account? Ask your organization's administrator.",
                        provider.label, provider.label
                    ),
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
    let accepted = Accepted { session, user: &user, membership, address, first_factor: &first_factor };
    let step = next_step(state, tx, &accepted, auth).await?;
    let to = match step {
        SignInStep::SignedIn(_) => pending.return_to,
        // The app asks for the second factor (or its set-up) there.
        _ => format!("{}#signing-in", pending.return_to),
    };
    Ok(Redirect::to(&to).into_response())
}

/// The callback of a link: the provider's account becomes the signed-in person's, if this
/// session is still theirs and the account is nobody else's.
async fn link(state: &AppState, session: &Session, provider: &Provider, identity: &oidc::Identity, user: uuid::Uuid, return_to: &str) -> Result<Response, Refusal> {
    let auth: Option<SessionAuth> = session.get(AUTH_KEY).await.map_err(|e| ApiError::Internal(e.into()))?;
    let Some(auth) = auth.filter(|auth| auth.user_id.uuid() == user) else {
        return Err(start_again());
    };
    let mut tx = OrgTx::begin(&state.db, auth.org_id).await?;
    if !oidc::link(&mut tx, &provider.id, &identity.subject, user).await? {
        return Err(Refusal::Page(page(
            StatusCode::CONFLICT,
            &format!("This {} account is linked to another BMMS account already. Sign in at {} with your own account, then link again.", provider.label, provider.label),
        )));
    }
    let actor = Actor::user(user, &auth.username);
    let details = json!({ "provider": provider.id, "issuer": provider.issuer, "subject": identity.subject });
    audit::append(&mut tx, Event { actor: &actor, action: "auth.sso_linked", subject: format!("user:{user}"), details }).await?;
    tx.commit().await?;
    Ok(Redirect::to(return_to).into_response())
}

/// A first sign-in of an account linked to nobody, where the operator allows it: a new
/// user of the operator's organization and role, with a password nobody knows (they sign
/// in through the provider), linked to the account and audited there.
async fn provision(state: &AppState, provider: &Provider, provisioning: &oidc::Provisioning, username: &str, subject: &str) -> Result<users::UserRecord, Refusal> {
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
    let cannot = |why: &str| {
        tracing::error!(provider = %provider.id, "the OIDC provider cannot make users: {why}");
        Refusal::Page(page(StatusCode::FORBIDDEN, &format!("{} cannot make BMMS accounts as it is set up ({why}). Tell BMMS's operator.", provider.label)))
    };
    let org_id = org_id.ok_or_else(|| cannot("its organization is not in BMMS"))?;
    let unknown_password = password::hash(password::generate()).await?;
    let mut tx = OrgTx::begin(&state.db, org_id).await?;
    let kind = users::organization(&mut tx).await?.kind;
    if !bmms_shared::policy::grantable_roles(kind).contains(&provisioning.role) {
        return Err(cannot("its organization does not have that role"));
    }
    let created = crate::people::create(&mut tx, username, username, provisioning.role, &unknown_password).await;
    let id = created.map_err(|err| ApiError::unless_unique(err, || ApiError::client(StatusCode::CONFLICT, "try_again", "Someone took that username a moment ago. Start again.")))?;
    if !oidc::link(&mut tx, &provider.id, subject, id).await? {
        return Err(start_again());
    }
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

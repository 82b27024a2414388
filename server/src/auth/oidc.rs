//! Single sign-on through OpenID Connect (the `openidconnect` crate): the providers the
//! operator configured, the two halves of the authorization code flow with PKCE, and the
//! links between a provider's accounts (by subject) and BMMS users. The routes
//! (`routes::oidc`) keep the flow's secrets (state, nonce, PKCE verifier) in the
//! browser's session between the halves, and decide who is signed in.
//!
//! The provider's discovery document and keys are fetched at each half: sign-ins are
//! rare enough, and a provider that rotates its keys is followed at once.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    EndpointMaybeSet, EndpointNotSet, EndpointSet,
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    OAuth2TokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One provider, as the operator configures it (`BMMS_OIDC_PROVIDERS`, a JSON array).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// In addresses: `/api/v1/auth/oidc/{id}/start`. Letters, digits and dashes.
    pub id: String,
    /// On the sign-in button: "Sign in with {label}".
    pub label: String,
    /// The issuer, whose `/.well-known/openid-configuration` is read.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The claim whose value names a user the provider makes (`provision`):
    /// `preferred_username` (the default) or `sub`. Accounts are linked by subject alone.
    #[serde(default = "Provider::default_claim")]
    pub username_claim: UsernameClaim,
    /// Who is made a BMMS user on a first sign-in of an account linked to none; nobody
    /// when left out (the operator's choice: no self-provisioning).
    #[serde(default)]
    pub provision: Option<Provisioning>,
}

/// The claim matched to BMMS usernames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsernameClaim {
    PreferredUsername,
    Sub,
}

/// New users made on a first sign-in: one organization and one role, the operator's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provisioning {
    /// The organization's code, e.g. `MILG`.
    pub organization: String,
    pub role: bmms_shared::Role,
}

impl Provider {
    fn default_claim() -> UsernameClaim {
        UsernameClaim::PreferredUsername
    }

    /// Reads the operator's providers from a JSON file.
    pub fn load_all(path: &Path) -> anyhow::Result<Vec<Provider>> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read the OIDC providers file {}: {e}", path.display()))?;
        let providers: Vec<Provider> =
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("the OIDC providers file {} is not right: {e}", path.display()))?;
        for provider in &providers {
            let id_ok = !provider.id.is_empty() && provider.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            anyhow::ensure!(id_ok, "an OIDC provider's id is letters, digits and dashes: {:?}", provider.id);
            IssuerUrl::new(provider.issuer.clone()).map_err(|e| anyhow::anyhow!("OIDC provider {}: issuer: {e}", provider.id))?;
            if let Some(provision) = &provider.provision {
                anyhow::ensure!(
                    provision.role != bmms_shared::Role::SystemAdmin,
                    "OIDC provider {}: a provider cannot make system administrators",
                    provider.id
                );
            }
        }
        Ok(providers)
    }
}

/// What the first half keeps for the second, in the browser's session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where the app is, to return to: `/` or `/desk/`.
    pub return_to: String,
    /// Linking the provider's account to this signed-in user, rather than signing in.
    #[serde(default)]
    pub link_for: Option<uuid::Uuid>,
    /// Unix seconds.
    pub since: i64,
}

/// Why a sign-in through a provider did not work.
#[derive(Debug, thiserror::Error)]
pub enum Failed {
    #[error("the provider cannot be reached or answered wrongly: {0}")]
    Unreachable(String),
    #[error("the provider's answer did not check out: {0}")]
    NotAccepted(String),
}

fn http() -> Result<reqwest::Client, Failed> {
    // No redirects: the library's advice, so that a token request cannot be led elsewhere.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| Failed::Unreachable(e.to_string()))
}

/// A client of the provider as its discovery document describes it: the authorization
/// endpoint set, the token and user-info endpoints where the provider has them.
type ProviderClient = CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The provider's client for BMMS, from its discovery document (read now).
async fn client(provider: &Provider, redirect_uri: &str, http: &reqwest::Client) -> Result<ProviderClient, Failed> {
    let unreachable = |e: &dyn std::fmt::Display| Failed::Unreachable(e.to_string());
    let issuer = IssuerUrl::new(provider.issuer.clone()).map_err(|e| unreachable(&e))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http).await.map_err(|e| unreachable(&e))?;
    let secret = Some(ClientSecret::new(provider.client_secret.clone()));
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(provider.client_id.clone()), secret);
    Ok(client.set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| unreachable(&e))?))
}

/// The first half: where to send the browser, and what to keep for the second half
/// (`link_for`: the signed-in user whose link this is, if it is one).
pub async fn begin(provider: &Provider, redirect_uri: &str, return_to: &str, link_for: Option<uuid::Uuid>, now: i64) -> Result<(String, Pending), Failed> {
    let http = http()?;
    let client = client(provider, redirect_uri, &http).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .add_scope(Scope::new("profile".to_owned()));
    let (url, state, nonce) = request.url();
    let pending = Pending {
        provider: provider.id.clone(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        return_to: return_to.to_owned(),
        link_for,
        since: now,
    };
    Ok((url.to_string(), pending))
}

/// Who the provider signed in: its subject, and, for a provider that makes users, the
/// username it gives (the claim the operator chose; `None` when it gives none).
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub username: Option<String>,
}

/// The second half: the code exchanged (with the PKCE verifier) for an ID token, whose
/// signature, issuer, audience, expiry and nonce are checked.
pub async fn finish(provider: &Provider, redirect_uri: &str, pending: &Pending, code: &str) -> Result<Identity, Failed> {
    let http = http()?;
    let client = client(provider, redirect_uri, &http).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| Failed::Unreachable(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(&http)
        .await
        .map_err(|e| Failed::NotAccepted(format!("the code was refused: {e}")))?;
    let id_token = token.id_token().ok_or_else(|| Failed::NotAccepted("no ID token came with the access token".into()))?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce.clone()))
        .map_err(|e| Failed::NotAccepted(e.to_string()))?;
    let subject = claims.subject().clone();
    let mut identity = Identity { subject: subject.as_str().to_owned(), username: None };
    // The username names a user the provider makes; nothing else reads it.
    if provider.provision.is_none() {
        return Ok(identity);
    }
    identity.username = match provider.username_claim {
        UsernameClaim::Sub => Some(identity.subject.clone()),
        UsernameClaim::PreferredUsername => match claims.preferred_username() {
            Some(name) => Some(name.as_str().to_owned()),
            // Many providers keep profile claims out of the ID token: then they come from
            // the user-info endpoint, for the subject the ID token named (checked).
            None => match client.user_info(token.access_token().clone(), Some(subject)) {
                Ok(request) => {
                    let info: openidconnect::core::CoreUserInfoClaims =
                        request.request_async(&http).await.map_err(|e| Failed::NotAccepted(format!("the user-info endpoint: {e}")))?;
                    info.preferred_username().map(|name| name.as_str().to_owned())
                }
                Err(_) => None,
            },
        },
    };
    Ok(identity)
}

/// The user the provider's account `subject` is linked to.
pub async fn linked_user(conn: &mut sqlx::PgConnection, provider: &str, subject: &str) -> sqlx::Result<Option<uuid::Uuid>> {
    sqlx::query_scalar("update user_sso_identities set last_used_at = now() where provider = $1 and subject = $2 returning user_id")
        .bind(provider)
        .bind(subject)
        .fetch_optional(conn)
        .await
}

/// Links the provider's account `subject` to `user`, in place of the user's earlier
/// account at that provider; `false` when the account is another user's.
pub async fn link(conn: &mut sqlx::PgConnection, provider: &str, subject: &str, user: uuid::Uuid) -> sqlx::Result<bool> {
    // Links of one account, and of one user, are made one at a time (a row that is not
    // there yet cannot be locked).
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('sso account ' || $1 || ' ' || $2, 0)), pg_advisory_xact_lock(hashtextextended('sso user ' || $3::text, 0))")
        .bind(provider)
        .bind(subject)
        .bind(user)
        .execute(&mut *conn)
        .await?;
    let owner: Option<uuid::Uuid> = sqlx::query_scalar("select user_id from user_sso_identities where provider = $1 and subject = $2 for update")
        .bind(provider)
        .bind(subject)
        .fetch_optional(&mut *conn)
        .await?;
    if owner.is_some_and(|owner| owner != user) {
        return Ok(false);
    }
    sqlx::query("delete from user_sso_identities where user_id = $1 and provider = $2").bind(user).bind(provider).execute(&mut *conn).await?;
    sqlx::query("insert into user_sso_identities (provider, subject, user_id) values ($1, $2, $3)")
        .bind(provider)
        .bind(subject)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(true)
}

/// The providers (ids) the user's accounts are linked at.
pub async fn links_of(conn: &mut sqlx::PgConnection, user: uuid::Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("select provider from user_sso_identities where user_id = $1 order by provider").bind(user).fetch_all(conn).await
}

/// Unlinks the user's account at `provider`; `false` when there was none.
pub async fn unlink(conn: &mut sqlx::PgConnection, provider: &str, user: uuid::Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from user_sso_identities where user_id = $1 and provider = $2").bind(user).bind(provider).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

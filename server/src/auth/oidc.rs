//! Single sign-on through OpenID Connect (the `openidconnect` crate): the providers the
//! operator configured, and the two halves of the authorization code flow with PKCE.
//! The routes (`routes::oidc`) keep the flow's secrets (state, nonce, PKCE verifier) in
//! the browser's session between the halves, and decide who is signed in.
//!
//! The provider's discovery document and keys are fetched at each half: sign-ins are
//! rare enough, and a provider that rotates its keys is followed at once.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
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
    /// The ID token's claim whose value is the BMMS username: `preferred_username` (the
    /// default) or `sub`.
    #[serde(default = "Provider::default_claim")]
    pub username_claim: UsernameClaim,
    /// Who is made a BMMS user on a first sign-in with no matching account; none when
    /// left out (the operator's choice: no self-provisioning).
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

async fn metadata(provider: &Provider, http: &reqwest::Client) -> Result<CoreProviderMetadata, Failed> {
    let issuer = IssuerUrl::new(provider.issuer.clone()).map_err(|e| Failed::Unreachable(e.to_string()))?;
    CoreProviderMetadata::discover_async(issuer, http).await.map_err(|e| Failed::Unreachable(e.to_string()))
}

/// The first half: where to send the browser, and what to keep for the second half.
pub async fn begin(provider: &Provider, redirect_uri: &str, return_to: &str, now: i64) -> Result<(String, Pending), Failed> {
    let http = http()?;
    let client = CoreClient::from_provider_metadata(
        metadata(provider, &http).await?,
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(provider.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| Failed::Unreachable(e.to_string()))?);
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
        since: now,
    };
    Ok((url.to_string(), pending))
}

/// The second half: the code exchanged (with the PKCE verifier) for an ID token, whose
/// signature, issuer, audience, expiry and nonce are checked; the value of the claim
/// the operator chose.
pub async fn finish(provider: &Provider, redirect_uri: &str, pending: &Pending, code: &str) -> Result<String, Failed> {
    let http = http()?;
    let client = CoreClient::from_provider_metadata(
        metadata(provider, &http).await?,
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(provider.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| Failed::Unreachable(e.to_string()))?);
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
    let in_token = match provider.username_claim {
        UsernameClaim::Sub => Some(subject.as_str().to_owned()),
        UsernameClaim::PreferredUsername => claims.preferred_username().map(|name| name.as_str().to_owned()),
    };
    if let Some(value) = in_token {
        return Ok(value);
    }
    // Many providers keep profile claims out of the ID token: then they come from the
    // user-info endpoint, for the subject the ID token named (the library checks it).
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(token.access_token().clone(), Some(subject))
        .map_err(|e| Failed::NotAccepted(format!("no preferred_username in the ID token, and no user-info endpoint: {e}")))?
        .request_async(&http)
        .await
        .map_err(|e| Failed::NotAccepted(format!("the user-info endpoint: {e}")))?;
    info.preferred_username()
        .map(|name| name.as_str().to_owned())
        .ok_or_else(|| Failed::NotAccepted("neither the ID token nor the user info has a preferred_username".into()))
}

//! Sign-in, sign-out and who is signed in (server: `routes/auth.rs`,
//! `routes/organizations.rs`).

use crate::{OrgId, OrgKind, Role, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The organization a signed-in user acts for; also each entry of
/// `GET /api/v1/organizations` (a bare array) and `GET /api/v1/organizations/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationSummary {
    pub id: OrgId,
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
    /// The system administrator deactivated it: its people cannot sign in.
    #[serde(default)]
    pub deactivated: bool,
}

/// The answer to `POST /api/v1/auth/login` with the right password: signed in, or
/// halfway, with a second factor to give or to set up first. Every step carries
/// `csrf_token`, for the writes that finish the sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum SignInStep {
    SignedIn(Me),
    /// Next: `POST /api/v1/auth/second-factor` with a code from the authenticator app
    /// or a recovery code, or `…/second-factor/passkey` with one of the user's passkeys.
    SecondFactor {
        csrf_token: String,
        /// The user has an authenticator app (a recovery code works either way).
        #[serde(default)]
        has_app: bool,
        /// The user has a passkey.
        #[serde(default)]
        has_passkey: bool,
    },
    /// The role needs a second factor and the user has none: set one up first
    /// (`POST /api/v1/auth/second-factor/totp`, then `…/totp/confirm`).
    SetUpSecondFactor { csrf_token: String, role: Role },
}

/// `GET /api/v1/auth/oidc`: a sign-in service the operator configured, for a "Sign in
/// with {label}" link to `/api/v1/auth/oidc/{id}/start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoProvider {
    pub id: String,
    pub label: String,
}

/// `POST /api/v1/auth/oidc/{id}/link`: where to send the browser to link one's account
/// at the sign-in service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoLinkStart {
    pub url: String,
}

/// `POST /api/v1/auth/second-factor` and `…/totp/confirm`: a code from the authenticator
/// app (six digits) or a recovery code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorCode {
    pub code: String,
}

/// `GET /api/v1/auth/second-factor`: the user's second factors, for their Security page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondFactors {
    /// When the authenticator app in use was set up (RFC 3339), if one is.
    pub totp_since: Option<String>,
    pub recovery_codes_left: i64,
    /// The user's role must have a second factor (the operator's policy).
    pub required_by_role: bool,
    /// Seconds until sensitive actions ask for a code again (0: they ask now, if the
    /// user has a second factor).
    pub fresh_for_seconds: i64,
    /// The user's passkeys, oldest first.
    #[serde(default)]
    pub passkeys: Vec<PasskeySummary>,
    /// The sign-in services (ids) the user's accounts are linked at.
    #[serde(default)]
    pub linked_services: Vec<String>,
}

impl SecondFactors {
    /// The user has a second factor to give (an authenticator app or a passkey).
    pub fn any(&self) -> bool {
        self.totp_since.is_some() || !self.passkeys.is_empty()
    }
}

/// One of a user's passkeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeySummary {
    pub id: Uuid,
    /// The name its owner gave it ("Work laptop").
    pub name: String,
    /// RFC 3339.
    pub added_at: String,
    /// RFC 3339; `None` until it is first used.
    pub last_used_at: Option<String>,
    /// The passkey is copied to the owner's other devices (their password manager's
    /// backup), rather than held by this one device alone.
    pub synced: bool,
}

/// A passkey ceremony begun: `options` are for the browser, as
/// `PublicKeyCredential.parseCreationOptionsFromJSON` (adding) or
/// `…parseRequestOptionsFromJSON` (using) read them from their `publicKey`; `ceremony`
/// goes back with the browser's answer, within ten minutes, once.
/// From `POST /api/v1/auth/passkeys/registration` (adding one), `…/passkeys/challenge`
/// (a second factor) and `…/passkey-sign-in/challenge` (signing in with a passkey alone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    pub ceremony: Uuid,
    pub options: serde_json::Value,
}

/// `POST /api/v1/auth/passkeys`: the passkey the browser made, and its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPasskey {
    pub ceremony: Uuid,
    pub name: String,
    /// The browser's `PublicKeyCredential`, as its `toJSON()` gives it.
    pub credential: serde_json::Value,
}

/// `POST /api/v1/auth/second-factor/passkey` and `…/passkey-sign-in`: the browser's
/// answer to a challenge.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyAnswer {
    pub ceremony: Uuid,
    /// The browser's `PublicKeyCredential`, as its `toJSON()` gives it.
    pub credential: serde_json::Value,
}

/// `PUT /api/v1/auth/passkeys/{id}`: a new name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyName {
    pub name: String,
}

/// `POST /api/v1/auth/passkeys`: the passkey added; with the recovery codes, shown this
/// once, when it is the user's first second factor; `signed_in` when adding it finished
/// a sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyAdded {
    pub passkey: PasskeySummary,
    pub recovery_codes: Vec<String>,
    pub signed_in: Option<Me>,
}

/// `POST /api/v1/auth/second-factor/totp`: what to add to an authenticator app. The
/// QR code is drawn by the server (an SVG), so no outside service sees the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotpSetUp {
    pub otpauth_uri: String,
    pub qr_svg: String,
    /// The secret in base32, to type into an app that cannot scan.
    pub secret: String,
}

/// `POST /api/v1/auth/second-factor/totp/confirm` and `…/recovery-codes`: the recovery
/// codes, shown this once; `signed_in` when confirming finished a sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
    pub signed_in: Option<Me>,
}

/// `GET /api/v1/me`, also the answer to a successful login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub user: UserSummary,
    pub organization: OrganizationSummary,
    pub role: Role,
    /// Send this back in the `x-csrf-token` header on every write made with the session cookie.
    pub csrf_token: String,
}

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
}

/// `POST /api/v1/auth/logout`: `{"signed_out": true}` once the session is deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedOut {
    pub signed_out: bool,
}

//! Calls to the BMMS server, and the one reader of its answers: a failure comes back as
//! the sentence the server wrote for people (its `ErrorBody`), with the input field it is
//! about where there is one. The desk's calls (`crate::desk::api`) read answers here too.

use bmms_shared::api::{
    AssessmentQuery, AssessmentRow, Bdp, DeviceRegistration, ErrorBody, LoginRequest, Me, NewPasskey, Page, PasskeyAdded, PasskeyAnswer,
    PasskeyChallenge, PasskeyName, PasswordChosen, Pin, Pinned, PpaImplementation, RecoveryCodes, SecondFactorCode,
    SecondFactors, SetUpPassword, SignInStep, SignedOut, SsoLinkStart, SsoProvider, Standing, Submitted, TotpSetUp, CSRF_HEADER,
};
use bmms_shared::{DocId, OrgId};
use bmms_shared::sync::protocol::CONTENT_TYPE;
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::text::t;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The input the message is about, if any (only the desk's forms show it there).
    #[cfg_attr(not(feature = "desk"), allow(dead_code))]
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    /// No answer: the network or the server is down.
    pub fn unreachable() -> Self {
        Problem { field: None, message: t().cannot_reach_server.to_owned() }
    }
}

impl From<Problem> for String {
    fn from(problem: Problem) -> String {
        problem.message
    }
}

/// The answer's body as `T`, or why there is none: the server's `ErrorBody` for a
/// failure, "The server answered N." when a failure has no readable body.
pub async fn read<T: DeserializeOwned>(response: Response) -> Result<T, Problem> {
    if response.ok() {
        return response.json::<T>().await.map_err(|e| Problem { field: None, message: e.to_string() });
    }
    Err(problem(response).await)
}

/// The one reader of a failed answer.
pub(crate) async fn problem(response: Response) -> Problem {
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => {
            // A sensitive action wants a fresh second factor: the app asks for a code.
            if body.error == "second_factor_needed" {
                crate::pages::security::ask_step_up();
            }
            Problem { field: body.field, message: body.message }
        }
        Err(_) => Problem { field: None, message: format!("The server answered {status}.") },
    }
}

/// Signs in; the server sets the session cookie. With the right password the session is
/// signed in, or halfway: a second factor to give or to set up ([`SignInStep`]).
pub async fn login(request: &LoginRequest) -> Result<SignInStep, String> {
    let response = Request::post("/api/v1/auth/login")
        .json(request)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| Problem::unreachable())?;
    Ok(read(response).await?)
}

/// A POST of `body` as JSON with the session's CSRF token, answered with `T`.
pub async fn post<T: DeserializeOwned>(path: &str, csrf_token: &str, body: &impl serde::Serialize) -> Result<T, Problem> {
    let request = Request::post(path).header(CSRF_HEADER, csrf_token).json(body).map_err(|_| Problem::unreachable())?;
    read(request.send().await.map_err(|_| Problem::unreachable())?).await
}

/// Gives a second factor: finishes a sign-in halfway, or confirms it is the user before
/// a sensitive action.
pub async fn give_second_factor(csrf_token: &str, code: String) -> Result<Me, Problem> {
    post("/api/v1/auth/second-factor", csrf_token, &SecondFactorCode { code }).await
}

/// Starts setting up an authenticator app.
pub async fn start_totp(csrf_token: &str) -> Result<TotpSetUp, Problem> {
    post("/api/v1/auth/second-factor/totp", csrf_token, &()).await
}

/// Confirms the authenticator app being set up with a first code from it.
pub async fn confirm_totp(csrf_token: &str, code: String) -> Result<RecoveryCodes, Problem> {
    post("/api/v1/auth/second-factor/totp/confirm", csrf_token, &SecondFactorCode { code }).await
}

/// New recovery codes in place of the old ones.
pub async fn new_recovery_codes(csrf_token: &str) -> Result<RecoveryCodes, Problem> {
    post("/api/v1/auth/second-factor/recovery-codes", csrf_token, &()).await
}

/// The signed-in user's second factors.
pub async fn second_factors() -> Result<SecondFactors, Problem> {
    read(Request::get("/api/v1/auth/second-factor").send().await.map_err(|_| Problem::unreachable())?).await
}

/// Removes the authenticator app (and the recovery codes, unless a passkey is left).
pub async fn remove_second_factor(csrf_token: &str) -> Result<SecondFactors, Problem> {
    let request = Request::delete("/api/v1/auth/second-factor").header(CSRF_HEADER, csrf_token);
    read(request.send().await.map_err(|_| Problem::unreachable())?).await
}

/// Begins a sign-in with a passkey alone (no session yet, so no CSRF token).
pub async fn passkey_sign_in_challenge() -> Result<PasskeyChallenge, Problem> {
    post("/api/v1/auth/passkey-sign-in/challenge", "", &()).await
}

/// Signs in with the browser's answer; the server sets the session cookie.
pub async fn passkey_sign_in(answer: &PasskeyAnswer) -> Result<SignInStep, Problem> {
    post("/api/v1/auth/passkey-sign-in", "", answer).await
}

/// Begins giving a passkey as the second factor.
pub async fn passkey_challenge(csrf_token: &str) -> Result<PasskeyChallenge, Problem> {
    post("/api/v1/auth/passkeys/challenge", csrf_token, &()).await
}

/// Gives a passkey as the second factor: finishes a sign-in halfway, or confirms it is
/// the user before a sensitive action.
pub async fn give_passkey(csrf_token: &str, answer: &PasskeyAnswer) -> Result<Me, Problem> {
    post("/api/v1/auth/second-factor/passkey", csrf_token, answer).await
}

/// Begins adding a passkey.
pub async fn start_passkey_registration(csrf_token: &str) -> Result<PasskeyChallenge, Problem> {
    post("/api/v1/auth/passkeys/registration", csrf_token, &()).await
}

/// Adds the passkey the browser made.
pub async fn add_passkey(csrf_token: &str, passkey: &NewPasskey) -> Result<PasskeyAdded, Problem> {
    post("/api/v1/auth/passkeys", csrf_token, passkey).await
}

/// Renames one of the user's passkeys.
pub async fn rename_passkey(csrf_token: &str, id: uuid::Uuid, name: String) -> Result<SecondFactors, Problem> {
    let request = Request::put(&format!("/api/v1/auth/passkeys/{id}"))
        .header(CSRF_HEADER, csrf_token)
        .json(&PasskeyName { name })
        .map_err(|_| Problem::unreachable())?;
    read(request.send().await.map_err(|_| Problem::unreachable())?).await
}

/// Removes one of the user's passkeys.
pub async fn remove_passkey(csrf_token: &str, id: uuid::Uuid) -> Result<SecondFactors, Problem> {
    let request = Request::delete(&format!("/api/v1/auth/passkeys/{id}")).header(CSRF_HEADER, csrf_token);
    read(request.send().await.map_err(|_| Problem::unreachable())?).await
}

/// The sign-in services the operator configured (none is usual).
pub async fn sso_providers() -> Result<Vec<SsoProvider>, Problem> {
    read(Request::get("/api/v1/auth/oidc").send().await.map_err(|_| Problem::unreachable())?).await
}

/// Begins linking the signed-in person's account at a sign-in service: where to go.
pub async fn link_sso(csrf_token: &str, id: &str) -> Result<SsoLinkStart, Problem> {
    let to = if crate::browser::at_desk() { "desk" } else { "app" };
    post(&format!("/api/v1/auth/oidc/{id}/link?to={to}"), csrf_token, &()).await
}

/// Unlinks the person's account at a sign-in service: the services still linked.
pub async fn unlink_sso(csrf_token: &str, id: &str) -> Result<Vec<String>, Problem> {
    let request = Request::delete(&format!("/api/v1/auth/oidc/{id}/link")).header(CSRF_HEADER, csrf_token);
    read(request.send().await.map_err(|_| Problem::unreachable())?).await
}

/// Where this session's sign-in is, after a sign-in service sent the browser back.
pub async fn signing_in() -> Result<SignInStep, Problem> {
    read(Request::get("/api/v1/auth/signing-in").send().await.map_err(|_| Problem::unreachable())?).await
}

/// Chooses a password with a set-up link's token (no session: the link is the credential).
pub async fn choose_password(body: &SetUpPassword) -> Result<PasswordChosen, Problem> {
    let request = Request::post("/api/v1/auth/set-up").json(body).map_err(|e| Problem { field: None, message: e.to_string() })?;
    read(request.send().await.map_err(|_| Problem::unreachable())?).await
}

/// Who is signed in: `Ok(None)` when nobody is (or the session ended), `Err` when the
/// server cannot be reached.
pub async fn me() -> Result<Option<Me>, String> {
    let response = Request::get("/api/v1/me").send().await.map_err(|_| Problem::unreachable())?;
    if response.status() == 401 {
        return Ok(None);
    }
    Ok(Some(read(response).await?))
}

/// Signs out; the server deletes the session.
pub async fn logout(csrf_token: &str) -> Result<(), String> {
    let response = Request::post("/api/v1/auth/logout")
        .header(CSRF_HEADER, csrf_token)
        .send()
        .await
        .map_err(|_| Problem::unreachable())?;
    read::<SignedOut>(response).await?;
    Ok(())
}

/// Registers this device for the signed-in person.
pub async fn register_device(csrf_token: &str) -> Result<DeviceRegistration, String> {
    // One key for this page's registrations: a retry after a lost answer gets the device
    // the server already made, not a second one.
    thread_local! {
        static REGISTRATION_KEY: String = uuid::Uuid::new_v4().to_string();
    }
    let key = REGISTRATION_KEY.with(String::clone);
    let response = Request::post("/api/v1/devices")
        .header(CSRF_HEADER, csrf_token)
        .header("idempotency-key", &key)
        .send()
        .await
        .map_err(|_| Problem::unreachable())?;
    Ok(read(response).await?)
}

/// How one sync exchange ended.
pub enum SyncAnswer {
    /// The server's answer body.
    Answered(Vec<u8>),
    /// The session ended (or the device is not this person's): sign in again; nothing is lost.
    SignInAgain,
    /// The batch was too large for the way to the server (413): nothing was applied, and
    /// a smaller one may pass.
    TooLarge,
    /// The server refused the batch as a whole without applying anything.
    BatchRefused(String),
    /// No answer, or a server fault: retry the same batch later.
    Failed(String),
}

/// An exchange that has not finished by then is abandoned and retried: on a stalled 2G
/// connection the app would otherwise say "Syncing…" for ever.
const SYNC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// One sync exchange.
pub async fn sync(csrf_token: &str, body: &[u8]) -> SyncAnswer {
    let abort = web_sys::AbortController::new().ok();
    if let Some(abort) = abort.clone() {
        // Aborting an exchange that already finished does nothing.
        leptos::prelude::set_timeout(move || abort.abort(), SYNC_TIMEOUT);
    }
    let request = Request::post("/api/v1/sync")
        .header("content-type", CONTENT_TYPE)
        .header(CSRF_HEADER, csrf_token)
        .abort_signal(abort.as_ref().map(|a| a.signal()).as_ref())
        .body(js_sys::Uint8Array::from(body));
    let response = match request {
        Ok(request) => request.send().await,
        Err(err) => return SyncAnswer::Failed(err.to_string()),
    };
    let response = match response {
        Ok(response) => response,
        Err(_) => return SyncAnswer::Failed(Problem::unreachable().message),
    };
    match response.status() {
        200 => match response.binary().await {
            Ok(body) => SyncAnswer::Answered(body),
            Err(_) => SyncAnswer::Failed(Problem::unreachable().message),
        },
        401 | 403 => SyncAnswer::SignInAgain,
        413 => SyncAnswer::TooLarge,
        400..=499 => SyncAnswer::BatchRefused(problem(response).await.message),
        _ => SyncAnswer::Failed(problem(response).await.message),
    }
}

/// Where the organization's proposal stands with BPDA (online).
pub async fn proposal_standing(id: DocId) -> Result<Standing, Problem> {
    let response = Request::get(&format!("/api/v1/proposals/{id}/standing")).send().await.map_err(|_| Problem::unreachable())?;
    read(response).await
}

/// How a PPA is being carried out; `org` for OCM's analysts, who open any organization's.
pub async fn ppa_implementation(id: DocId, org: Option<OrgId>) -> Result<PpaImplementation, Problem> {
    let query = org.map(|org| format!("?org={org}")).unwrap_or_default();
    let response = Request::get(&format!("/api/v1/proposals/{id}/implementation{query}")).send().await.map_err(|_| Problem::unreachable())?;
    read(response).await
}

/// Submits a PPA proposal to BPDA (online: the server freezes the version it received).
pub async fn submit_proposal(csrf_token: &str, id: DocId) -> Result<Submitted, Problem> {
    let response = Request::post(&format!("/api/v1/proposals/{id}/submit"))
        .header(CSRF_HEADER, csrf_token)
        .send()
        .await
        .map_err(|_| Problem::unreachable())?;
    read(response).await
}

/// The development plan's framework, which a proposal is scored against.
pub async fn bdp() -> Result<Bdp, Problem> {
    let response = Request::get("/api/v1/bdp").send().await.map_err(|_| Problem::unreachable())?;
    read(response).await
}

/// The organization's assessments whose community's name holds `search` (online: the
/// server's records, beyond what this phone holds).
pub async fn search_assessments(search: &str) -> Result<Page<AssessmentRow>, Problem> {
    let query = AssessmentQuery { search: Some(search.to_owned()), limit: 10, ..AssessmentQuery::default() };
    let response = Request::get(&address("/api/v1/assessments", &query)).send().await.map_err(|_| Problem::unreachable())?;
    read(response).await
}

/// Keeps a record on this person's devices for 30 days (it comes at the next sync).
pub async fn pin(csrf_token: &str, id: DocId) -> Result<Pinned, Problem> {
    post(&format!("/api/v1/records/{id}/pin"), csrf_token, &Pin::default()).await
}

/// `path?key=value&...` for one of the API's query types: the fields it serializes (it
/// leaves out what is not set), encoded for an address; `path` alone when none is.
pub fn address(path: &str, query: &impl Serialize) -> String {
    let Ok(Value::Object(fields)) = serde_json::to_value(query) else { return path.to_owned() };
    let pairs: Vec<String> = fields
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| {
            let value = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            format!("{key}={}", String::from(js_sys::encode_uri_component(&value)))
        })
        .collect();
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

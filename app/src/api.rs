//! Calls to the BMMS server. Errors come back as the sentence the server wrote for people.

use bmms_shared::api::{ErrorBody, LoginRequest, Me, CSRF_HEADER};
use bmms_shared::sync::protocol::CONTENT_TYPE;
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;

use crate::text::t;

/// Signs in; the server sets the session cookie.
pub async fn login(request: &LoginRequest) -> Result<Me, String> {
    let response = Request::post("/api/v1/auth/login")
        .json(request)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| t().cannot_reach_server.to_owned())?;
    read(response).await
}

/// Who is signed in: `Ok(None)` when nobody is (or the session ended), `Err` when the
/// server cannot be reached.
pub async fn me() -> Result<Option<Me>, String> {
    let response = Request::get("/api/v1/me").send().await.map_err(|_| t().cannot_reach_server.to_owned())?;
    if response.status() == 401 {
        return Ok(None);
    }
    read(response).await.map(Some)
}

/// Signs out; the server deletes the session.
pub async fn logout(csrf_token: &str) -> Result<(), String> {
    let response = Request::post("/api/v1/auth/logout")
        .header(CSRF_HEADER, csrf_token)
        .send()
        .await
        .map_err(|_| t().cannot_reach_server.to_owned())?;
    read::<serde_json::Value>(response).await.map(|_| ())
}

/// The server's registration of this device.
#[derive(Debug, Deserialize)]
pub struct DeviceRegistration {
    pub device_id: Uuid,
    /// Hex of the Automerge actor id every change of this device must carry.
    pub actor: String,
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
        .map_err(|_| t().cannot_reach_server.to_owned())?;
    read(response).await
}

/// How one sync exchange ended.
pub enum SyncAnswer {
    /// The server's answer body.
    Answered(Vec<u8>),
    /// The session ended (or the device is not this person's): sign in again; nothing is lost.
    SignInAgain,
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
        Err(_) => return SyncAnswer::Failed(t().cannot_reach_server.to_owned()),
    };
    match response.status() {
        200 => match response.binary().await {
            Ok(body) => SyncAnswer::Answered(body),
            Err(_) => SyncAnswer::Failed(t().cannot_reach_server.to_owned()),
        },
        401 | 403 => SyncAnswer::SignInAgain,
        status @ 400..=499 => SyncAnswer::BatchRefused(message(response, status).await),
        status => SyncAnswer::Failed(message(response, status).await),
    }
}

async fn message(response: Response, status: u16) -> String {
    match response.json::<ErrorBody>().await {
        Ok(body) => body.message,
        Err(_) => format!("The server answered {status}."),
    }
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, String> {
    if response.ok() {
        return response.json::<T>().await.map_err(|e| e.to_string());
    }
    let status = response.status();
    Err(message(response, status).await)
}

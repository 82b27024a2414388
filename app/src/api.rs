//! Calls to the BMMS server. Errors come back as the sentence the server wrote for people.

use bmms_shared::api::{ErrorBody, LoginRequest, Me, CSRF_HEADER};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;

const OFFLINE: &str = "Cannot reach the BMMS server. Check your connection and try again.";

/// Signs in; the server sets the session cookie.
pub async fn login(request: &LoginRequest) -> Result<Me, String> {
    let response = Request::post("/api/v1/auth/login")
        .json(request)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| OFFLINE.to_owned())?;
    read(response).await
}

/// Who is signed in, or `None` when nobody is.
pub async fn me() -> Result<Option<Me>, String> {
    let response = Request::get("/api/v1/me").send().await.map_err(|_| OFFLINE.to_owned())?;
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
        .map_err(|_| OFFLINE.to_owned())?;
    read::<serde_json::Value>(response).await.map(|_| ())
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, String> {
    if response.ok() {
        return response.json::<T>().await.map_err(|e| e.to_string());
    }
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(body.message),
        Err(_) => Err(format!("The server answered {}.", response.status())),
    }
}

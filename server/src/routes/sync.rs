//! `POST /api/v1/devices` (register this device) and `POST /api/v1/sync` (one exchange).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bmms_shared::sync::protocol::{CONTENT_TYPE, MAX_REQUEST_BYTES};
use serde::Serialize;
use sha2::{Digest, Sha256};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;

/// A registered device: the id it sends with every exchange, and the Automerge actor id
/// every change it makes must carry.
#[derive(Debug, Serialize)]
pub struct DeviceRegistration {
    pub device_id: Uuid,
    /// Hex of the actor id's bytes.
    pub actor: String,
}

/// The header that makes a registration sent twice register one device.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// `POST /api/v1/devices`: a new device for the signed-in user. With an `Idempotency-Key`
/// header (the app sends one per page), the same key from the same user always names the
/// same device: a registration sent twice, or retried after a lost answer, registers one
/// device and answers with it each time.
pub async fn register_device(State(state): State<AppState>, signed_in: SignedIn, headers: HeaderMap) -> Result<Json<DeviceRegistration>, ApiError> {
    let device_id = match headers.get(IDEMPOTENCY_KEY) {
        None => Uuid::new_v4(),
        Some(key) => {
            let key = key.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 128).ok_or_else(|| {
                ApiError::bad_request("invalid_idempotency_key", "The Idempotency-Key header must be 1 to 128 visible characters.")
            })?;
            // Derived, so that nothing needs remembering: one key of one user, one device.
            let digest = Sha256::digest(format!("bmms-device:{}:{key}", signed_in.user_id()));
            Uuid::from_slice(&digest[..16]).map_err(|e| ApiError::Internal(e.into()))?
        }
    };
    let actor = Uuid::new_v4().as_bytes().to_vec();
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "insert into devices (org_id, id, user_id, actor) values ($1, $2, $3, $4) on conflict (org_id, id) do nothing returning id",
    )
    .bind(tx.org_id())
    .bind(device_id)
    .bind(signed_in.user_id())
    .bind(&actor)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        // Registered before with this key: the same device, as it was.
        let actor: Vec<u8> = sqlx::query_scalar("select actor from devices where id = $1 and user_id = $2")
            .bind(device_id)
            .bind(signed_in.user_id())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Json(DeviceRegistration { device_id, actor: hex::encode(actor) }));
    }
    audit::append(&mut tx, Event {
        actor: &signed_in.actor(),
        action: "device.register",
        subject: format!("device:{device_id}"),
        details: json!({}),
    })
    .await?;
    tx.commit().await?;
    Ok(Json(DeviceRegistration { device_id, actor: hex::encode(actor) }))
}

/// `POST /api/v1/sync`: a binary sync request in, a binary sync response out.
pub async fn sync(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some(CONTENT_TYPE) {
        return Err(ApiError::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Send the sync request with the header Content-Type: {CONTENT_TYPE}."),
        ));
    }
    let body = body.map_err(|_| {
        ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("The sync request is larger than {} MiB; the app sends it in smaller batches.", MAX_REQUEST_BYTES / (1024 * 1024)),
        )
    })?;
    let answer = crate::sync::apply::exchange(&state.db, &state.documents, &state.events, &state.limits, &signed_in, body).await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], answer).into_response())
}

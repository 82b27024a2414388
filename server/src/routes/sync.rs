//! `POST /api/v1/sync`: one exchange of the sync protocol (docs/sync-protocol.md). What it
//! does is told in `crate::sync::apply`; this route only checks the caller and the body.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bmms_shared::sync::protocol::{CONTENT_TYPE, MAX_REQUEST_BYTES};

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::ApiError;

/// `POST /api/v1/sync`: a binary sync request in, a binary sync response out.
pub async fn sync(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = signed_in.require_writer()?;
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
    let answer = crate::sync::apply::exchange(&state, &caller, body).await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], answer).into_response())
}

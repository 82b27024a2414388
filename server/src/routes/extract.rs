//! Extractors that turn axum's rejections into the API's JSON errors, each with a
//! sentence a person can act on.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::app::MAX_BODY_BYTES;
use crate::error::ApiError;

/// A JSON body. Wrong content type: 415; broken JSON: 400; wrong fields: 422; too big: 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    use std::error::Error;
    // The innermost cause is serde's own sentence, e.g. "unknown field `x`, expected ...".
    let detail = {
        let mut source: &dyn Error = &rejection;
        while let Some(next) = source.source() {
            source = next;
        }
        source.to_string()
    };
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON, with the header Content-Type: application/json.",
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(
            "malformed_json",
            format!("The body is not valid JSON: {detail}."),
        ),
        JsonRejection::JsonDataError(_) => ApiError::unprocessable(
            "invalid_body",
            format!("The body does not have the expected fields: {detail}."),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("The body is larger than the {} KiB this route accepts.", MAX_BODY_BYTES / 1024),
        ),
        _ => ApiError::bad_request("unreadable_body", format!("The body could not be read: {detail}.")),
    }
}

/// Path parameters; a malformed one (say, a bad UUID) is a 400 that names it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ApiError::bad_request(
                "invalid_path",
                format!("A part of the address is not valid: {}.", e.body_text().trim_start_matches("Invalid URL: ")),
            )),
            Err(other) => Err(ApiError::bad_request("invalid_path", other.body_text())),
        }
    }
}

//! The one error type of the HTTP API. Every failure leaves as
//! `{"error": code, "message": sentence}`; internal faults are logged here and answered
//! with a generic sentence, so no SQL, path or stack trace ever reaches a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bmms_shared::api::ErrorBody;
use std::time::Duration;

/// An API failure: a status, a stable code for programs and a sentence for people.
#[derive(Debug)]
pub enum ApiError {
    /// The client can fix it; `status` is always a 4xx.
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// 422 about one input field, named in the body so the screen can show it there.
    Field { field: String, message: String },
    /// 429 with `Retry-After` in whole seconds.
    TooManyRequests { retry_after: Duration },
    /// A fault of the server or its database: 500, logged with its cause chain.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        debug_assert!(status.is_client_error());
        ApiError::Client { status, code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Field { field: field.into(), message: message.into() }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::Internal(err.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        ApiError::Internal(err)
    }
}

/// The body every error response carries.
pub fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody { error: code.to_owned(), message: message.to_owned(), field: None };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Client { status, code, message } => error_body(status, code, &message),
            ApiError::Field { field, message } => {
                let body = ErrorBody { error: "invalid_field".into(), message, field: Some(field) };
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
            ApiError::TooManyRequests { retry_after } => {
                let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                let message = format!(
                    "Too many sign-in attempts. Wait {seconds} seconds and try again."
                );
                let mut response =
                    error_body(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", &message);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
            ApiError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed inside the server");
                internal_error_response()
            }
        }
    }
}

/// What a client sees of any internal fault, including a caught panic.
pub fn internal_error_response() -> Response {
    error_body(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Something went wrong on the server. It has been logged; try again in a moment.",
    )
}

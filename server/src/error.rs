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
    /// 429 with `Retry-After` in whole seconds; `message` is completed with "Wait N seconds
    /// and try again."
    TooManyRequests { code: &'static str, message: &'static str, retry_after: Duration },
    /// 503 with `Retry-After`: a part the server depends on (its database) is not answering
    /// just now; nothing was changed.
    Unavailable { message: &'static str, retry_after: Duration },
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
    /// A database that is out of reach for a moment (no free connection in time, a
    /// dropped connection) is a 503 the client can retry; anything else is a fault.
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %err, "the database is out of reach");
                ApiError::Unavailable {
                    message: "The server's database is busy or out of reach just now; nothing was changed.",
                    retry_after: Duration::from_secs(5),
                }
            }
            err => ApiError::Internal(err.into()),
        }
    }
}

impl ApiError {
    /// `err` as an answer, unless it is a unique violation: then `taken()`, the answer for
    /// a row that exists already (a second review, a call issued twice, an entry
    /// reversed already) that another request may have written a moment ago.
    pub fn unless_unique(err: sqlx::Error, taken: impl FnOnce() -> ApiError) -> ApiError {
        match err {
            sqlx::Error::Database(db) if db.is_unique_violation() => taken(),
            err => err.into(),
        }
    }

    /// PostgreSQL aborted the transaction to break a deadlock or a serialization
    /// conflict: running it again will most likely succeed (see [`crate::db::retry_once`]).
    pub fn is_transient_conflict(&self) -> bool {
        let ApiError::Internal(err) = self else { return false };
        err.chain().any(|cause| {
            let code = cause.downcast_ref::<sqlx::Error>().and_then(|e| e.as_database_error()).and_then(|e| e.code());
            matches!(code.as_deref(), Some("40P01" | "40001"))
        })
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
            ApiError::TooManyRequests { code, message, retry_after } => {
                retry_later(StatusCode::TOO_MANY_REQUESTS, code, message, retry_after)
            }
            ApiError::Unavailable { message, retry_after } => {
                retry_later(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message, retry_after)
            }
            ApiError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed inside the server");
                internal_error_response()
            }
        }
    }
}

/// An answer that asks the client to come back after `retry_after`.
fn retry_later(status: StatusCode, code: &str, message: &str, retry_after: Duration) -> Response {
    let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
    let message = format!("{message} Wait {seconds} seconds and try again.");
    let mut response = error_body(status, code, &message);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// What a client sees of any internal fault, including a caught panic.
pub fn internal_error_response() -> Response {
    error_body(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Something went wrong on the server. It has been logged; try again in a moment.",
    )
}

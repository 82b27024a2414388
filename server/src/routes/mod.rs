//! The HTTP routes, one file per resource. Everything under `/api` answers JSON, errors
//! included (see [`crate::error`]).

pub mod auth;
pub mod conflicts;
pub mod dashboard;
pub mod devices;
pub mod events;
pub mod exports;
pub mod extract;
pub mod health;
pub mod organizations;
pub mod records;
pub mod static_files;
pub mod sync;
pub mod tasks;

use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;
use crate::error::{error_body, ApiError};

/// Routes under `/api`.
pub fn api_router() -> Router<AppState> {
    let v1 = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/organizations", get(organizations::list))
        .route("/organizations/{id}", get(organizations::show))
        .route("/devices", post(sync::register_device).get(devices::health))
        .route("/assessments", get(records::list_assessments))
        .route("/assessments/export", get(exports::assessments))
        .route("/tasks", get(records::list_tasks).post(tasks::create))
        .route("/tasks/{id}/assign", post(tasks::assign))
        .route("/officers", get(tasks::progress))
        .route("/records/{id}", get(records::show))
        .route("/records/{id}/history", get(records::history))
        .route("/conflicts", get(conflicts::list))
        .route("/conflicts/resolve", post(conflicts::resolve_many))
        .route("/conflicts/{id}", get(conflicts::show))
        .route("/conflicts/{id}/resolve", post(conflicts::resolve))
        .route("/events", get(events::stream))
        .route("/dashboard", get(dashboard::show))
        .route("/dashboard/records", get(dashboard::records))
        .route(
            "/sync",
            post(sync::sync).layer(axum::extract::DefaultBodyLimit::max(bmms_shared::sync::protocol::MAX_REQUEST_BYTES)),
        );
    Router::new()
        .nest("/v1", v1)
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(same_origin_writes))
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("There is no such API route. The API is described in docs/api.md.")
}

async fn method_not_allowed() -> Response {
    error_body(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This API route does not accept that method.",
    )
}

/// Refuses writes sent by another site's page: a browser always names the page's origin
/// on cross-origin writes, and it must be our own. This is what protects sign-in, which
/// has no session (and so no CSRF token) yet.
async fn same_origin_writes(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .map(|(_, rest)| rest.trim_end_matches('/'));
            if host.is_none() || origin_host != host {
                return ApiError::forbidden(
                    "cross_origin",
                    "This request came from another website and was refused.",
                )
                .into_response();
            }
        }
    }
    next.run(request).await
}

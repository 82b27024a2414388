//! The built app (trunk's `dist/`): files by name, `index.html` for every other path so
//! that the app's own routes load, and cache headers that let a phone keep hashed files
//! forever while always asking again for the page and the service worker.

use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get_service, MethodRouter};
use std::path::Path;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// Serves `dist_dir`; an app route (a path without a file extension) gets `index.html`.
pub fn service(dist_dir: &Path) -> MethodRouter {
    let index = dist_dir.join("index.html");
    let app_route = move |request: Request| {
        let index = index.clone();
        async move {
            // A missing file (say, an asset of an older build) is a 404, never the page:
            // the page under a hashed name would be cached as that file for a year.
            let last = request.uri().path().rsplit('/').next().unwrap_or_default();
            if last.contains('.') {
                return (StatusCode::NOT_FOUND, "Not found").into_response();
            }
            match ServeFile::new(index).oneshot(request).await {
                Ok(response) => response.into_response(),
                Err(never) => match never {},
            }
        }
    };
    get_service(
        ServeDir::new(dist_dir)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(app_route.into_service()),
    )
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Sets `Cache-Control` by what was asked for.
pub async fn cache_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let policy = if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        "no-store"
    } else if response.status().is_success() && has_content_hash(&path) {
        IMMUTABLE
    } else {
        // index.html, sw.js, the manifest: revalidate every time so updates arrive.
        "no-cache"
    };
    // A route that chose its own policy (the dashboards' revalidation) keeps it.
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// Trunk names built files `name-<16 hex digits>.ext` (e.g. `app-9f86d081884c7d65_bg.wasm`);
/// such a name never changes content.
fn has_content_hash(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    file.contains('.') && file.match_indices('-').any(|(at, _)| {
        let hash = file.get(at + 1..at + 17).unwrap_or_default();
        hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::has_content_hash;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(has_content_hash("/app-9f86d081884c7d65_bg.wasm"));
        assert!(has_content_hash("/app-9f86d081884c7d65.js"));
        assert!(has_content_hash("/style-0123456789abcdef.css"));
        assert!(!has_content_hash("/index.html"));
        assert!(!has_content_hash("/sw.js"));
        assert!(!has_content_hash("/bmms-logo.svg"));
        assert!(!has_content_hash("/tasks/task-0123456789abcdef"), "an app route, not a file");
    }
}

//! The built app (trunk's `dist/`): files by name, `index.html` for every other path so
//! that the app's own routes load, and cache headers that let a phone keep hashed files
//! forever while always asking again for the page and the service worker.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};

/// Serves `dist_dir`, falling back to its `index.html`.
pub fn service(dist_dir: &Path) -> ServeDir<ServeFile> {
    ServeDir::new(dist_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(dist_dir.join("index.html")))
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
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// Trunk names built files `name-<16 hex digits>.ext` (e.g. `app-9f86d081884c7d65_bg.wasm`);
/// such a name never changes content.
fn has_content_hash(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    file.match_indices('-').any(|(at, _)| {
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
    }
}

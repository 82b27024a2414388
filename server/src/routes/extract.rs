//! Extractors that turn axum's rejections into the API's JSON errors, each with a
//! sentence a person can act on. They are also the edge where text the database cannot
//! hold is refused: a JSON body or an address's filters with a NUL or another control
//! character is a 4xx naming the field, before any handler sees it
//! (`bmms_shared::plain_text`).

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use bmms_shared::plain_text::{unusable_character, unusable_message};
use serde::de::DeserializeOwned;
use serde_json::Value;

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
        let axum::Json(value) = axum::Json::<Value>::from_request(req, state).await.map_err(json_rejection)?;
        if let Some((field, c)) = unusable_text_in(&value, String::new()) {
            return Err(ApiError::invalid_field(field.clone(), format!("{field} {}.", unusable_message(c))));
        }
        serde_json::from_value(value).map(ApiJson).map_err(|e| {
            ApiError::unprocessable("invalid_body", format!("The body does not have the expected fields: {e}."))
        })
    }
}

/// The first string (or key) of a JSON value with a character no field may hold, with
/// the path to it (`reason`, `ids[2]`).
fn unusable_text_in(value: &Value, path: String) -> Option<(String, char)> {
    match value {
        Value::String(s) => unusable_character(s).map(|c| (path_or_body(path), c)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| unusable_text_in(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            match unusable_character(key) {
                Some(c) => Some(("a field name".to_owned(), c)),
                None => unusable_text_in(item, at),
            }
        }),
        _ => None,
    }
}

fn path_or_body(path: String) -> String {
    if path.is_empty() {
        "the body".to_owned()
    } else {
        path
    }
}

/// The address's query (`?status=draft&limit=50`). Unknown or malformed filters: 400;
/// a filter with a character no field may hold: 422 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if let Some(c) = unusable_character(&name).or_else(|| unusable_character(&value)) {
                let shown: String = name.chars().filter(|c| !bmms_shared::plain_text::is_unusable(*c)).take(40).collect();
                return Err(ApiError::invalid_field(shown.clone(), format!("The filter {shown} {}.", unusable_message(c))));
            }
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid_query",
                format!("The address's filters are not valid: {}.", rejection.body_text().trim_end_matches('.')),
            )),
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

/// The paging of every list: `limit` rows (50 unless the address says, at most 200)
/// from `offset`; the query types of `bmms_shared::api` default `limit` to `api::DEFAULT_LIMIT`.
pub mod paging {
    use crate::error::ApiError;

    /// The `limit` and `offset` to use, or a 422 a person can act on.
    pub fn check(limit: i64, offset: i64) -> Result<(i64, i64), ApiError> {
        if !(1..=200).contains(&limit) || offset < 0 {
            return Err(ApiError::unprocessable("invalid_paging", "limit must be between 1 and 200, and offset 0 or more."));
        }
        Ok((limit, offset))
    }
}

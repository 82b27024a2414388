//! The answer of the export routes that offer CSV or JSON of one value: the format
//! asked for, checked, and the file with its name.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;

/// A file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// `format=` of the query: `csv` (also when not given) or `json`; 422 on `format` otherwise.
    pub fn asked(format: Option<&str>) -> Result<Format, ApiError> {
        match format.unwrap_or("csv") {
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(ApiError::invalid_field("format", "Export as csv or json.")),
        }
    }
}

/// `value` as a download named `<name>.csv` (written by `csv`) or `<name>.json`.
pub fn file<T: Serialize>(value: &T, format: Format, name: &str, csv: impl FnOnce(&T) -> anyhow::Result<Vec<u8>>) -> Result<Response, ApiError> {
    let (body, content_type, extension) = match format {
        Format::Csv => (csv(value).map_err(ApiError::Internal)?, "text/csv; charset=utf-8", "csv"),
        Format::Json => (serde_json::to_vec_pretty(value).map_err(|e| ApiError::Internal(e.into()))?, "application/json", "json"),
    };
    let disposition = format!("attachment; filename=\"{name}.{extension}\"");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|e| ApiError::Internal(e.into()))?),
    ];
    Ok((headers, body).into_response())
}

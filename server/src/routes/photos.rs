//! Photos of records (docs/sync-protocol.md, "Photos"): a device announces a photo by its
//! SHA-256, sends it in chunks that resume where the server stands, and the whole photo,
//! once it matches its name, goes to the blob store (`crate::photo_store`). Whoever may
//! read the organization's records may see its photos; OCM by drilling down.
//!
//! - `POST /api/v1/photos`: announce; answers how much the server holds.
//! - `PATCH /api/v1/photos/{sha256}`: one chunk, with `Upload-Offset` and `Chunk-Sha256`.
//! - `GET /api/v1/photos/{sha256}` (`?org=` for OCM): the photo.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bmms_shared::photos::{self, NewPhoto, PhotoProgress, CHECKSUM_HEADER, MAX_PHOTO_BYTES, MEDIA_TYPES, OFFSET_HEADER};
use bmms_shared::OrgId;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::db::{OrgTx, ReadTx};
use crate::error::ApiError;
use crate::routes::extract::{ApiJson, ApiPath, ApiQuery};

/// A chunk may be at most this large (the app sends `photos::CHUNK_BYTES`).
pub const MAX_CHUNK_BYTES: usize = 64 * 1024;
/// A person may have at most this many photos begun and not finished: each holds its
/// bytes so far in the database.
const MAX_UNFINISHED: i64 = 50;
/// A photo begun this long ago and still not finished is forgotten when its sender
/// announces one (their phone starts it again from 0 if it still has it).
const UNFINISHED_DAYS: i32 = 30;

/// The upload of one photo as the server holds it.
#[derive(sqlx::FromRow)]
struct Held {
    size: i64,
    received: i64,
    stored: bool,
}

impl Held {
    fn progress(&self) -> PhotoProgress {
        PhotoProgress { offset: if self.stored { self.size as u64 } else { self.received as u64 }, complete: self.stored }
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if photos::is_name(name) {
        Ok(())
    } else {
        Err(ApiError::not_found("There is no such photo: a photo is named by its SHA-256, 64 lowercase hex digits."))
    }
}

/// The upload of `name`, locked until the transaction ends (two chunks never interleave).
async fn held(tx: &mut OrgTx, name: &str) -> Result<Option<Held>, ApiError> {
    Ok(sqlx::query_as("select size, received, stored from photos where sha256 = $1 for update")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?)
}

/// `POST /api/v1/photos`: the device will send this photo; how much of it is here already.
pub async fn announce(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Result<ApiJson<NewPhoto>, ApiError>,
) -> Result<Json<PhotoProgress>, ApiError> {
    let caller = signed_in.require_writer()?;
    let ApiJson(photo) = body?;
    if !photos::is_name(&photo.sha256) {
        return Err(ApiError::invalid_field("sha256", "Name the photo by its SHA-256: 64 lowercase hex digits."));
    }
    if photo.size == 0 || photo.size > MAX_PHOTO_BYTES {
        return Err(ApiError::invalid_field("size", format!("A photo is at most {} MiB; the app shrinks photos before sending them.", MAX_PHOTO_BYTES / (1024 * 1024))));
    }
    if !MEDIA_TYPES.contains(&photo.media_type.as_str()) {
        return Err(ApiError::invalid_field("media_type", format!("A photo is one of: {}.", MEDIA_TYPES.join(", "))));
    }
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    sqlx::query("delete from photos where uploaded_by = $1 and not stored and created_at < now() - make_interval(days => $2)")
        .bind(caller.user_id)
        .bind(UNFINISHED_DAYS)
        .execute(&mut *tx)
        .await?;
    let unfinished: i64 = sqlx::query_scalar("select count(*) from photos where uploaded_by = $1 and not stored and sha256 <> $2")
        .bind(caller.user_id)
        .bind(&photo.sha256)
        .fetch_one(&mut *tx)
        .await?;
    if unfinished >= MAX_UNFINISHED {
        return Err(ApiError::unprocessable(
            "too_many_unfinished",
            format!("You have {unfinished} photos begun and not finished; finish sending those first."),
        ));
    }
    sqlx::query(
        "insert into photos (org_id, sha256, doc_id, size, media_type, uploaded_by) values ($1, $2, $3, $4, $5, $6)
         on conflict (org_id, sha256) do nothing",
    )
    .bind(tx.org_id())
    .bind(&photo.sha256)
    .bind(photo.record)
    .bind(photo.size as i64)
    .bind(&photo.media_type)
    .bind(caller.user_id)
    .execute(&mut *tx)
    .await?;
    let held = held(&mut tx, &photo.sha256).await?.ok_or_else(|| ApiError::not_found("The photo could not be found just after it was announced."))?;
    if !held.stored && held.size as u64 != photo.size {
        return Err(ApiError::invalid_field("size", format!("This photo was announced before with {} bytes; its name says it is those bytes.", held.size)));
    }
    if held.stored && !state.settings.photos.holds(tx.org_id(), &photo.sha256).await.map_err(|err| ApiError::Internal(err.into()))? {
        // Marked stored, yet the store lost it (restored from an older copy, say): the
        // device that still has it sends it again.
        tracing::warn!(photo = %photo.sha256, "a stored photo is missing from the blob store; its upload starts again");
        sqlx::query("update photos set stored = false, received = 0, stored_at = null where sha256 = $1")
            .bind(&photo.sha256)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Json(PhotoProgress { offset: 0, complete: false }));
    }
    let progress = if !held.stored && held.received == held.size { finish(&state, tx, &photo.sha256).await? } else {
        tx.commit().await?;
        held.progress()
    };
    Ok(Json(progress))
}

/// `PATCH /api/v1/photos/{sha256}`: the chunk that starts at `Upload-Offset`.
pub async fn chunk(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PhotoProgress>, ApiError> {
    let caller = signed_in.require_writer()?;
    check_name(&name)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let offset: u64 = header(OFFSET_HEADER)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::bad_request("offset_missing", format!("Say where the chunk starts in the header {OFFSET_HEADER}.")))?;
    let checksum = header(CHECKSUM_HEADER)
        .ok_or_else(|| ApiError::bad_request("checksum_missing", format!("Send the chunk's SHA-256, in hex, in the header {CHECKSUM_HEADER}.")))?;
    let body = body.map_err(|rejection| match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            ApiError::client(StatusCode::PAYLOAD_TOO_LARGE, "chunk_too_large", format!("A chunk is at most {} KiB.", MAX_CHUNK_BYTES / 1024))
        }
        // The link dropped while the chunk came: nothing of it is kept.
        _ => ApiError::bad_request("chunk_incomplete", "The chunk did not arrive whole; send it again."),
    })?;
    if body.is_empty() {
        return Err(ApiError::bad_request("chunk_empty", "The chunk is empty."));
    }
    if photos::name_of(&body) != checksum.to_ascii_lowercase() {
        return Err(ApiError::unprocessable("chunk_damaged", "The chunk did not arrive whole (its SHA-256 differs from the one sent); send it again."));
    }
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let held = held(&mut tx, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("This photo was not announced: announce it first (POST /api/v1/photos)."))?;
    if held.stored {
        tx.commit().await?;
        return Ok(Json(held.progress()));
    }
    if offset != held.received as u64 {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!("The server holds {} bytes of this photo; send from there.", held.received),
        ));
    }
    if offset + body.len() as u64 > held.size as u64 {
        return Err(ApiError::unprocessable("chunk_too_long", format!("The photo has {} bytes; this chunk goes past its end.", held.size)));
    }
    sqlx::query("insert into photo_chunks (org_id, sha256, start_byte, bytes) values ($1, $2, $3, $4)")
        .bind(tx.org_id())
        .bind(&name)
        .bind(offset as i64)
        .bind(body.as_ref())
        .execute(&mut *tx)
        .await?;
    sqlx::query("update photos set received = received + $2 where sha256 = $1").bind(&name).bind(body.len() as i64).execute(&mut *tx).await?;
    let progress = if offset + body.len() as u64 == held.size as u64 {
        finish(&state, tx, &name).await?
    } else {
        tx.commit().await?;
        PhotoProgress { offset: offset + body.len() as u64, complete: false }
    };
    Ok(Json(progress))
}

/// Every byte is here: checks the photo against its name and moves it to the blob store.
/// A photo that does not match starts again from nothing.
async fn finish(state: &AppState, mut tx: OrgTx, name: &str) -> Result<PhotoProgress, ApiError> {
    let chunks: Vec<Vec<u8>> =
        sqlx::query_scalar("select bytes from photo_chunks where sha256 = $1 order by start_byte").bind(name).fetch_all(&mut *tx).await?;
    let received = chunks.concat();
    sqlx::query("delete from photo_chunks where sha256 = $1").bind(name).execute(&mut *tx).await?;
    if photos::name_of(&received) != name {
        sqlx::query("update photos set received = 0 where sha256 = $1").bind(name).execute(&mut *tx).await?;
        tx.commit().await?;
        return Err(ApiError::unprocessable(
            "photo_damaged",
            "The photo's bytes do not match its name (its SHA-256); the server dropped them: send the photo again from the start.",
        ));
    }
    let size = received.len() as u64;
    state.settings.photos.put(tx.org_id(), name, received).await.map_err(|err| ApiError::Internal(err.into()))?;
    sqlx::query("update photos set stored = true, stored_at = now() where sha256 = $1").bind(name).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(PhotoProgress { offset: size, complete: true })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoQuery {
    /// The organization, for OCM (others see their own).
    pub org: Option<OrgId>,
}

/// `GET /api/v1/photos/{sha256}`: the photo, once it arrived whole.
pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<PhotoQuery>,
) -> Result<Response, ApiError> {
    let caller = signed_in.require_member()?;
    check_name(&name)?;
    let no_such = || ApiError::not_found("There is no such photo in this organization, or it has not arrived whole yet.");
    if caller.role.oversees_all() {
        signed_in.require_drill_down()?;
    }
    let org = caller
        .organization_to_open(query.org)
        .map_err(|_| no_such())?
        .ok_or_else(|| ApiError::invalid_field("org", "Say which organization's photo to open (org)."))?;
    let mut tx = ReadTx::organization(&state.db, org).await?;
    let media_type: Option<String> =
        sqlx::query_scalar("select media_type from photos where sha256 = $1 and stored").bind(&name).fetch_optional(&mut *tx).await?;
    tx.finish().await?;
    let media_type = media_type.ok_or_else(no_such)?;
    let bytes = state.settings.photos.get(org, &name).await.map_err(|err| ApiError::Internal(err.into()))?.ok_or_else(|| {
        tracing::warn!(photo = %name, org = %org, "a stored photo is missing from the blob store");
        no_such()
    })?;
    let content_type = HeaderValue::from_str(&media_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // The name is the content: the browser may keep it for good, for this person only.
    let cache = HeaderValue::from_static("private, max-age=31536000, immutable");
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache)], bytes).into_response())
}

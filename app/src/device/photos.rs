//! Photos taken on this device: shrunk (`crate::shrink`), kept in IndexedDB by name, added
//! to their record by name, and sent to the server apart from the record's changes, in
//! chunks that resume where the server stands (`bmms_shared::photos`).
//!
//! A photo goes out after the sync exchanges that carry the records, one at a time,
//! oldest first. A failure of the link or the server stops the round, and the next one
//! waits (2 s, doubling up to 5 minutes, as records do; "Sync now" skips the wait) and
//! resumes from what the server holds. A photo the server refuses, or whose bytes the
//! device lost, is passed over until the app starts again; it still counts as unsent, so
//! nobody else can sign in on the phone and clear it.

use bmms_shared::api::CSRF_HEADER;
use bmms_shared::photos::{self, Answered, Chunk, NewPhoto, NotSent, Unanswered, CHECKSUM_HEADER, OFFSET_HEADER};
use bmms_shared::DocId;
use gloo_net::http::Request;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use super::{Status, LOCAL};
use crate::api::{self, Problem};
use crate::storage::{PhotoEntry, Storage};
use crate::text::t;

thread_local! {
    /// The device's photos, oldest first.
    static PHOTOS: RefCell<Vec<PhotoEntry>> = const { RefCell::new(Vec::new()) };
    /// Photos the server refused since the app started: not tried again until it restarts.
    static REFUSED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    /// When the next round may start after a failed one, and the wait after the next failure.
    static BACKOFF: RefCell<(f64, f64)> = const { RefCell::new((0.0, FIRST_WAIT_MS)) };
    /// `blob:` addresses of photos shown since the app started, by name.
    static SHOWN: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// The wait after a first failed round; it doubles with each failure after that.
const FIRST_WAIT_MS: f64 = 2_000.0;
const LONGEST_WAIT_MS: f64 = 300_000.0;
/// A request that has not been answered in this long was lost with the link (a chunk
/// takes about 3 s on 2G).
const CHUNK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// What the device held when the app started.
pub(super) fn remember_stored(mut entries: Vec<PhotoEntry>) {
    entries.sort_by(|a, b| a.taken_at.total_cmp(&b.taken_at));
    PHOTOS.set(entries);
}

/// Photos the server does not have whole yet, refused ones included: the phone must keep
/// them.
pub fn unsent() -> usize {
    PHOTOS.with_borrow(|photos| photos.iter().filter(|p| !p.uploaded).count())
}

fn is_to_send(photo: &PhotoEntry, refused: &HashSet<String>) -> bool {
    !photo.uploaded && !refused.contains(&photo.name)
}

/// Photos to send: unsent, not refused.
fn to_send() -> Vec<PhotoEntry> {
    REFUSED.with_borrow(|refused| PHOTOS.with_borrow(|photos| photos.iter().filter(|p| is_to_send(p, refused)).cloned().collect()))
}

/// How many photos wait to be sent (refused ones not counted).
pub(super) fn to_send_count() -> usize {
    REFUSED.with_borrow(|refused| PHOTOS.with_borrow(|photos| photos.iter().filter(|p| is_to_send(p, refused)).count()))
}

/// How the server is told of each photo to send, oldest first (for the service worker).
pub(super) fn announcements() -> Vec<NewPhoto> {
    to_send().iter().map(PhotoEntry::announcement).collect()
}

/// Whether photos wait to be sent and the wait after a failed round is over (asked every
/// few seconds: nothing is copied).
pub fn due() -> bool {
    BACKOFF.with_borrow(|(next, _)| super::now_ms() >= *next)
        && REFUSED.with_borrow(|refused| PHOTOS.with_borrow(|photos| photos.iter().any(|p| is_to_send(p, refused))))
}

fn round_failed() {
    BACKOFF.with_borrow_mut(|(next, wait)| {
        *next = super::now_ms() + *wait;
        *wait = (*wait * 2.0).min(LONGEST_WAIT_MS);
    });
}

/// How many photos the device keeps, and their bytes.
pub fn held() -> (usize, u64) {
    PHOTOS.with_borrow(|photos| (photos.len(), photos.iter().map(|p| p.size).sum()))
}

/// How many photos the device keeps that the server has whole.
pub fn sent() -> usize {
    PHOTOS.with_borrow(|photos| photos.iter().filter(|p| p.uploaded).count())
}

/// Frees the phone of the photos the server has whole (their records then show them from
/// the server, online); returns how many.
pub async fn forget_sent() -> Result<usize, String> {
    let storage = storage().ok_or_else(|| t().sign_in_needs_network.to_owned())?;
    let names: Vec<String> = PHOTOS.with_borrow(|photos| photos.iter().filter(|p| p.uploaded).map(|p| p.name.clone()).collect());
    storage.forget_photos(&names).await.map_err(|err| format!("{} ({err})", t().local_storage_failed))?;
    PHOTOS.with_borrow_mut(|photos| photos.retain(|p| !p.uploaded));
    SHOWN.with_borrow_mut(|shown| {
        for name in &names {
            if let Some(url) = shown.remove(name) {
                let _ = web_sys::Url::revoke_object_url(&url);
            }
        }
    });
    Ok(names.len())
}

fn storage() -> Option<Storage> {
    LOCAL.with_borrow(|local| local.as_ref().map(|l| l.storage.clone()))
}

/// Takes `file` (from the camera or the gallery) as a photo of record `id`: shrinks it,
/// keeps it on the device and adds it to the record's `field`. Returns its size in bytes
/// once both are stored.
pub async fn take(status: Status, id: DocId, field: &'static str, file: web_sys::File) -> Result<u64, String> {
    let storage = storage().ok_or_else(|| t().sign_in_needs_network.to_owned())?;
    let shrunk = crate::shrink::shrink(&file).await.map_err(|err| format!("{} ({err})", t().photos.unreadable))?;
    let name = photos::name_of(&shrunk);
    // The same photo chosen again is kept once, as it stands (sent or not).
    let new = PHOTOS.with_borrow(|photos| !photos.iter().any(|p| p.name == name));
    if new {
        let entry = PhotoEntry {
            name: name.clone(),
            record: id,
            size: shrunk.len() as u64,
            media_type: "image/jpeg".into(),
            uploaded: false,
            taken_at: js_sys::Date::now(),
        };
        storage.save_photo(&entry, &shrunk).await.map_err(|err| format!("{} ({err})", t().local_storage_failed))?;
        PHOTOS.with_borrow_mut(|photos| photos.push(entry));
    }
    if let Err(message) = super::edit(status, id, |editor| editor.add_photo(field, &name)).await {
        // Not in its record (the record is full, say): not kept either, or it would be sent
        // and counted with no record to show it.
        if new {
            let _ = storage.forget_photos(std::slice::from_ref(&name)).await;
            PHOTOS.with_borrow_mut(|photos| photos.retain(|p| p.name != name));
        }
        return Err(message);
    }
    Ok(shrunk.len() as u64)
}

/// Where to show the photo `name` from: the device's copy, or the server's.
pub async fn address(name: &str) -> String {
    if let Some(shown) = SHOWN.with_borrow(|shown| shown.get(name).cloned()) {
        return shown;
    }
    let local = match storage() {
        Some(storage) => storage.photo(name).await.ok().flatten(),
        None => None,
    };
    match local.and_then(|bytes| crate::shrink::object_url(&bytes, "image/jpeg")) {
        Some(url) => {
            SHOWN.with_borrow_mut(|shown| shown.insert(name.to_owned(), url.clone()));
            url
        }
        None => format!("/api/v1/photos/{name}"),
    }
}

/// Sends the photos waiting, oldest first; stops at the first failure of the link or the
/// server. Unless `force`d, nothing is tried before the wait after a failed round is over.
pub(super) async fn send_waiting(status: Status, csrf_token: &str, force: bool) -> Result<(), String> {
    let Some(storage) = storage() else { return Ok(()) };
    if !force && !due() {
        return Ok(());
    }
    for entry in to_send() {
        let outcome = match storage.photo(&entry.name).await? {
            // Bytes that no longer match their name would be refused whole at the end.
            Some(bytes) if photos::name_of(&bytes) == entry.name => send(status, csrf_token, &entry, &bytes).await,
            _ => Err(NotSent::Refused(t().photos.lost.to_owned())),
        };
        status.photo_sending.set(None);
        match outcome {
            Ok(()) => {
                mark_uploaded(&storage, entry).await?;
                BACKOFF.set((0.0, FIRST_WAIT_MS));
            }
            Err(NotSent::Refused(message)) => {
                REFUSED.with_borrow_mut(|refused| refused.insert(entry.name.clone()));
                status.last_error.set(Some(message));
            }
            Err(NotSent::Failed(message)) => {
                round_failed();
                return Err(message);
            }
        }
        status.photos_waiting.set(unsent());
    }
    Ok(())
}

/// The server has the photo whole: so the device notes it.
async fn mark_uploaded(storage: &Storage, entry: PhotoEntry) -> Result<(), String> {
    let uploaded = PhotoEntry { uploaded: true, ..entry };
    storage.save_photo_entry(&uploaded).await?;
    PHOTOS.with_borrow_mut(|photos| photos.iter_mut().filter(|p| p.name == uploaded.name).for_each(|p| p.uploaded = true));
    Ok(())
}

/// The service worker sent these photos whole (`super::background`).
pub(super) async fn sent_elsewhere(storage: &Storage, names: &[String]) -> Result<(), String> {
    let entries: Vec<PhotoEntry> = PHOTOS.with_borrow(|photos| photos.iter().filter(|p| !p.uploaded && names.contains(&p.name)).cloned().collect());
    for entry in entries {
        mark_uploaded(storage, entry).await?;
    }
    Ok(())
}

impl PhotoEntry {
    /// How the server is told of this photo.
    pub(super) fn announcement(&self) -> NewPhoto {
        NewPhoto { sha256: self.name.clone(), size: self.size, media_type: self.media_type.clone(), record: self.record }
    }
}

/// One photo, over this page's HTTP (`bmms_shared::photos::send` decides what to send).
async fn send(status: Status, csrf_token: &str, entry: &PhotoEntry, bytes: &[u8]) -> Result<(), NotSent> {
    let exchange = |chunk: Option<&Chunk>| {
        // A request not answered in time was lost with the link.
        let abort = web_sys::AbortController::new().ok();
        if let Some(abort) = abort.clone() {
            leptos::prelude::set_timeout(move || abort.abort(), CHUNK_TIMEOUT);
        }
        let signal = abort.as_ref().map(|a| a.signal());
        let request = match chunk {
            None => Request::post("/api/v1/photos").header(CSRF_HEADER, csrf_token).abort_signal(signal.as_ref()).json(&entry.announcement()),
            Some(chunk) => Request::patch(&format!("/api/v1/photos/{}", entry.name))
                .header(CSRF_HEADER, csrf_token)
                .abort_signal(signal.as_ref())
                .header(OFFSET_HEADER, &chunk.offset.to_string())
                .header(CHECKSUM_HEADER, &chunk.checksum)
                .body(js_sys::Uint8Array::from(&bytes[chunk.range.clone()])),
        };
        answered(request)
    };
    let progress = |held| status.photo_sending.set(Some((held, entry.size)));
    photos::send(bytes, exchange, progress, t().photos.not_moving).await
}

/// Sends `request`; a failure says the answer's status, if any.
async fn answered(request: Result<Request, gloo_net::Error>) -> Answered {
    let unreachable = || Unanswered { message: Problem::unreachable().message, status: None };
    let response = request.map_err(|_| unreachable())?.send().await.map_err(|_| unreachable())?;
    let status = response.status();
    api::read(response).await.map_err(|problem| Unanswered { message: problem.message, status: Some(status) })
}

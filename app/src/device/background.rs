//! Sync with the app closed (`bmms_shared::sync::background`, docs/sync-protocol.md): what
//! this device leaves for its service worker, and what the worker brings back.
//!
//! The work is left when the page is hidden, and after a sync that could not send
//! everything. Its request is the whole outbox, encoded anew, so a large one (thousands
//! of edits waiting take a noticeable moment to encode on a phone) is written again at
//! most once a minute while the page is in view. What the worker brought back (the
//! answer to the work's request, the photos it sent) is taken at start and before each
//! sync of this window. Once this window has had an answer of its own, the work left is
//! outdated: it is left anew, or taken back when nothing waits.
//!
//! `leave_for_worker` and `take_brought_back_now` take the Web Lock `LOCK` themselves;
//! the other functions that read or write the work expect their caller to hold it (the
//! sync loop holds it for its exchanges). The worker holds it while it sends the request.

use bmms_shared::sync::background::{Work, LOCK};
use bmms_shared::BatchId;
use leptos::prelude::*;
use std::cell::Cell;
use uuid::Uuid;

use super::{persist, photos, read, write, Status, LOCAL};
use crate::storage::{Background, Storage};

/// What is left for the worker, as [`LEFT`] keeps it.
#[derive(Clone, Copy, PartialEq)]
enum Left {
    Nothing,
    /// Left when this many changes waited, this many of them sendable, and this many
    /// photos: written again only when that changes (an answer of this window's own
    /// leaves the work anew whatever these say).
    At { pending: usize, sendable: usize, photos: usize },
    /// Found in storage, left by an earlier run of the app.
    Earlier,
}

thread_local! {
    static LEFT: Cell<Left> = const { Cell::new(Left::Nothing) };
    /// When work was last written (`js_sys::Date::now()`), and its request's size.
    static WRITTEN: Cell<(f64, usize)> = const { Cell::new((f64::NEG_INFINITY, 0)) };
}

/// A request at least this large is written again at most every [`REWRITE_LARGE_MS`]
/// while the page is in view; smaller ones whenever what waits changed.
const LARGE_REQUEST_BYTES: usize = 64 * 1024;
const REWRITE_LARGE_MS: f64 = 60_000.0;

fn storage() -> Option<Storage> {
    LOCAL.with_borrow(|local| local.as_ref().map(|l| l.storage.clone()))
}

/// What waits to be sent now, as [`Left::At`] counts it.
fn waiting() -> Left {
    let (pending, sendable) = read(|client| (client.pending_count(), client.sendable_count())).unwrap_or((0, 0));
    Left::At { pending, sendable, photos: photos::to_send_count() }
}

/// Whether edits or photos wait that the worker could send.
fn anything_to_send() -> bool {
    matches!(waiting(), Left::At { sendable, photos, .. } if sendable + photos > 0)
}

/// Leaves what waits for the worker when the page is hidden (the officer switched apps,
/// locked the phone or closed BMMS).
pub async fn leave_for_worker(status: Status) {
    crate::browser::with_lock(LOCK, leave(status, crate::browser::is_hidden())).await;
}

/// Whether work is left for the worker (or was found in storage at start).
pub(super) fn is_left() -> bool {
    LEFT.get() != Left::Nothing
}

/// Takes what the worker brought back, at start (without holding up the lists).
pub(super) async fn take_brought_back_now(status: Status) {
    crate::browser::with_lock(LOCK, take_brought_back(status)).await;
}

/// Leaves what waits for the worker, if that changed since it was last left (a large
/// outbox, with the page in view, at most once a minute). With the page hidden or the
/// browser offline, the browser is asked to wake the worker when the network returns,
/// when the work was written or when `wake` says so: with the page in view, this window
/// syncs by itself.
pub(super) async fn leave(status: Status, wake: bool) {
    let Some(me) = status.me.get_untracked().filter(|me| me.role.does_field_work()) else { return };
    let Some(storage) = storage() else { return };
    let now = waiting();
    let mut written = false;
    let (written_at, size) = WRITTEN.get();
    let hold_back = size >= LARGE_REQUEST_BYTES && js_sys::Date::now() - written_at < REWRITE_LARGE_MS && !crate::browser::is_hidden();
    if LEFT.get() != now && anything_to_send() && !hold_back {
        take_brought_back(status).await;
        let request = read(|client| client.request_for_later(BatchId(Uuid::new_v4()))).flatten();
        let size = request.as_ref().map_or(0, Vec::len);
        let work = Work { csrf_token: me.csrf_token, photos: photos::announcements() };
        if storage.leave_for_background(Some((&work, request))).await.is_err() {
            return;
        }
        LEFT.set(waiting());
        WRITTEN.set((js_sys::Date::now(), size));
        status.left_for_background.set(true);
        written = true;
    }
    let worth_waking = !crate::browser::is_online() || crate::browser::is_hidden();
    if (written || wake) && LEFT.get() != Left::Nothing && worth_waking {
        crate::browser::request_background_sync();
    }
}

/// This window had an answer of its own: the work left is outdated, and is left anew if
/// something still waits.
pub(super) async fn leave_anew(status: Status) {
    if LEFT.get() == Left::Nothing {
        return;
    }
    forget(status).await;
    if anything_to_send() {
        leave(status, false).await;
    }
}

/// This window has sent everything: the work left for the worker is taken back.
pub(super) async fn all_sent(status: Status) {
    if LEFT.get() != Left::Nothing && !anything_to_send() {
        take_brought_back(status).await;
        forget(status).await;
    }
}

/// Deletes the work left and what the worker brought back.
async fn forget(status: Status) {
    let Some(storage) = storage() else { return };
    if storage.leave_for_background(None).await.is_ok() {
        LEFT.set(Left::Nothing);
        status.left_for_background.set(false);
    }
}

/// Takes the server's answer to the request the worker sent, if it did (the edits it
/// acknowledged leave the outbox, and others' news is in, as after a sync of this
/// window), and the photos it sent count as sent. The work is done then, and forgotten;
/// work left and not yet done stays.
pub(super) async fn take_brought_back(status: Status) {
    let Some(storage) = storage() else { return };
    let Ok(Background { work, request, answer, photos_sent }) = storage.background().await else { return };
    if work.is_some() && LEFT.get() == Left::Nothing {
        LEFT.set(Left::Earlier);
        status.left_for_background.set(true);
    }
    if answer.is_none() && photos_sent.is_empty() {
        return;
    }
    if let Err(message) = photos::sent_elsewhere(&storage, &photos_sent).await {
        status.last_error.set(Some(message));
    }
    if let (Some(request), Some(answer)) = (request, answer) {
        // The lock ensures the answer is to the request as the device stands (this window
        // took no answer since it was left); the client checks the cursor all the same.
        let taken = write(|client| client.take_answer_for(&request, &answer)).and_then(Result::ok).flatten();
        if taken.is_some() {
            let when = crate::browser::local_time_now();
            match persist(status, Some(&when)).await {
                Ok(()) => status.last_sync.set(Some(when)),
                Err(message) => status.last_error.set(Some(message)),
            }
        }
    }
    status.changed();
    forget(status).await;
}

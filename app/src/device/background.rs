//! Sync with the app closed (`bmms_shared::sync::background`, docs/sync-protocol.md): what
//! this device leaves for its service worker, and what the worker brings back.
//!
//! The work is left when a sync could not send everything, when the page is hidden, and
//! while offline with new edits. What the worker brought back (the answer to the work's
//! request, the photos it sent) is taken at start and before each sync of this window.
//! Once this window has sent everything itself, the work is taken back.

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
    /// Left at this revision of the records, with this many photos to send: written again
    /// only when that changes.
    At(u64, usize),
    /// Found in storage at start, left by an earlier run of the app.
    Earlier,
}

thread_local! {
    static LEFT: Cell<Left> = const { Cell::new(Left::Nothing) };
}

fn storage() -> Option<Storage> {
    LOCAL.with_borrow(|local| local.as_ref().map(|l| l.storage.clone()))
}

/// Whether edits or photos wait that the worker could send.
fn anything_to_send() -> bool {
    read(|client| client.has_unsent()).unwrap_or(false) || photos::unsent() > 0
}

/// Leaves what waits to be sent for the worker (if it changed since it was last left).
/// With the page hidden or the browser offline, the browser is asked to wake the worker
/// when the network returns: with the page in view, this window syncs by itself.
pub async fn leave(status: Status) {
    let Some(me) = status.me.get_untracked().filter(|me| me.role.does_field_work()) else { return };
    let now = Left::At(status.revision.get_untracked(), photos::unsent());
    if LEFT.get() != now && anything_to_send() {
        let Some(storage) = storage() else { return };
        let left = crate::browser::with_lock(LOCK, async {
            take_brought_back(status, &storage).await?;
            let request = read(|client| client.request_for_later(BatchId(Uuid::new_v4()))).flatten();
            let work = Work { csrf_token: me.csrf_token, photos: photos::announcements() };
            storage.leave_for_background(Some((&work, request))).await
        })
        .await;
        if left.is_err() {
            return;
        }
        LEFT.set(Left::At(status.revision.get_untracked(), photos::unsent()));
        status.left_for_background.set(true);
    }
    if LEFT.get() != Left::Nothing && (!crate::browser::is_online() || crate::browser::is_hidden()) {
        crate::browser::request_background_sync();
    }
}

/// Takes what the worker brought back, if work was left (at start: always). What it sent
/// counts as sent, and the work it answered is done.
pub(super) async fn take_brought_back_now(status: Status) {
    if LEFT.get() == Left::Nothing && status.loaded.get_untracked() {
        return;
    }
    let Some(storage) = storage() else { return };
    match crate::browser::with_lock(LOCK, take_brought_back(status, &storage)).await {
        Ok(_) => {}
        Err(message) => status.last_error.set(Some(message)),
    }
}

/// This window has sent everything: the work left for the worker is taken back.
pub(super) async fn all_sent(status: Status) {
    if LEFT.get() == Left::Nothing || anything_to_send() {
        return;
    }
    let Some(storage) = storage() else { return };
    let taken = crate::browser::with_lock(LOCK, async {
        take_brought_back(status, &storage).await?;
        storage.leave_for_background(None).await
    })
    .await;
    if taken.is_ok() {
        LEFT.set(Left::Nothing);
        status.left_for_background.set(false);
    }
}

/// Takes the server's answer to the request the worker sent, if it did (the edits it
/// acknowledged leave the outbox, and others' news is in, as after a sync of this
/// window), and the photos it sent count as sent. Whatever it brought back, the work is
/// done then, and is forgotten; work left and not yet done stays.
async fn take_brought_back(status: Status, storage: &Storage) -> Result<(), String> {
    let Background { work, request, answer, photos_sent } = storage.background().await?;
    if work.is_some() && LEFT.get() == Left::Nothing {
        LEFT.set(Left::Earlier);
        status.left_for_background.set(true);
    }
    if answer.is_none() && photos_sent.is_empty() {
        return Ok(());
    }
    photos::sent_elsewhere(storage, &photos_sent).await?;
    status.photos_waiting.set(photos::unsent());
    if let (Some(request), Some(answer)) = (request, answer) {
        // An answer to a request the device has moved on from changes nothing (the edits
        // it acknowledged are sent again, and acknowledged again).
        let taken = write(|client| client.take_answer_for(&request, &answer)).and_then(Result::ok).flatten();
        if taken.is_some() {
            let when = crate::browser::local_time_now();
            persist(status, Some(&when)).await?;
            status.last_sync.set(Some(when));
        }
    }
    storage.leave_for_background(None).await?;
    LEFT.set(Left::Nothing);
    status.left_for_background.set(false);
    Ok(())
}

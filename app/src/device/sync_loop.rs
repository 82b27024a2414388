//! The sync loop: when to sync, and one sync exchange with the server. Each exchange
//! takes the next request from the shared `SyncClient`, posts it, hands the answer (or the
//! failure) back to the client, and stores what changed before saying "synced".

use bmms_shared::sync::client::SyncClient;
use leptos::prelude::*;
use leptos::task::spawn_local;
use bmms_shared::BatchId;
use uuid::Uuid;

use super::{background, now_ms, persist, read, write, Status};
use bmms_shared::sync::background::LOCK;
use crate::api::{self, SyncAnswer};

/// How one exchange ended, for the status the officer sees.
enum Exchange {
    /// Answered; this many changes were acknowledged or refused.
    Done(usize),
    /// Too large for the way to the server: a smaller batch goes next.
    Smaller,
    /// The session ended: ask the officer to sign in again; everything stays queued.
    SignInAgain,
    Failed(String),
}

/// Polls for others' changes this often while the app is open.
const POLL_MS: f64 = 60_000.0;
/// At most this many exchanges in one sync. A backlog goes on for as long as each
/// exchange moves it (a week offline can take dozens of batches, more behind a proxy that
/// takes less than the server); one that moves nothing waits for the next tick.
const MAX_EXCHANGES_IN_A_ROW: usize = 200;

/// Starts a sync shortly, without waiting for it.
pub(super) fn soon_sync(status: Status) {
    if status.online.get_untracked() {
        spawn_local(async move { sync_now(status, false).await });
    }
}

/// Called every few seconds: syncs when edits wait or an exchange failed (the client's
/// backoff decides when its retry is due), or to fetch news once a minute.
pub fn tick(status: Status) {
    // The browser's word on the network wins over whatever an exchange last concluded
    // (an answer can arrive just after the network went).
    let online = crate::browser::is_online();
    if online != status.online.get_untracked() {
        if online {
            return came_online(status);
        }
        status.online.set(false);
    }
    // A failed exchange stays in flight until it is answered, edits or not: without this a
    // failed first sync would wait for the next poll.
    let waiting = read(|client| client.has_unsent() || client.is_in_flight()).unwrap_or(false) || super::photos::due();
    let due = now_ms() - status.last_poll_ms.get_untracked() >= POLL_MS;
    if status.online.get_untracked() && (waiting || due) {
        spawn_local(async move { sync_now(status, false).await });
    }
}

/// The browser is online again: sync at once, whatever the backoff said.
pub fn came_online(status: Status) {
    status.online.set(true);
    spawn_local(async move { sync_now(status, true).await });
}

/// One sync: the device's changes up, the server's news down, in one exchange (more only
/// when edits were made while it ran), then the photos. `force` skips the backoff wait.
///
/// The records' part holds the lock the service worker takes to send what the app left it
/// (`background`): what the worker brought back is taken first, and once this window has
/// had an answer, what was left for the worker is outdated and is left anew.
pub async fn sync_now(status: Status, force: bool) {
    if status.syncing.get_untracked() || status.session_expired.get_untracked() {
        return;
    }
    let Some(csrf_token) = status.me.get_untracked().map(|me| me.csrf_token) else { return };
    if force {
        write(SyncClient::retry_now);
    }
    status.syncing.set(true);
    status.last_poll_ms.set(now_ms());
    // How long a sync takes, for the field figures (e2e/bench/field.mjs).
    let started = crate::browser::now();
    crate::browser::with_lock(LOCK, async {
        if background::is_left() {
            background::take_brought_back(status).await;
        }
        if exchanges(status, &csrf_token).await {
            background::leave_anew(status).await;
        }
    })
    .await;
    // Photos after the records: a record names its photos, and the desk shows a photo
    // that has not arrived yet as on its way.
    if status.last_error.get_untracked().is_none() && !status.session_expired.get_untracked() {
        if let Err(message) = super::photos::send_waiting(status, &csrf_token, force).await {
            status.last_error.set(Some(message));
        }
    }
    status.photo_sending.set(None);
    let finished = status.last_error.get_untracked().is_none();
    if finished {
        crate::browser::measure_since("bmms-sync", started);
    }
    crate::browser::with_lock(LOCK, async {
        match finished {
            true => background::all_sent(status).await,
            // What could not go out goes to the service worker, for when the app is closed.
            false => background::leave(status, false).await,
        }
    })
    .await;
    status.syncing.set(false);
    status.changed();
}

/// The exchanges of one sync, until nothing is left to send or one fails; returns
/// whether any was answered.
async fn exchanges(status: Status, csrf_token: &str) -> bool {
    let mut answered = false;
    // The progress the officer sees: edits sent of those waiting when the sync began.
    let backlog = read(SyncClient::sendable_count).unwrap_or(0);
    for _ in 0..MAX_EXCHANGES_IN_A_ROW {
        let request = write(|client| client.next_request(now_ms() as u64, BatchId(Uuid::new_v4()))).flatten();
        let Some((_, body)) = request else { break };
        let answer = api::sync(csrf_token, &body).await;
        let now = now_ms() as u64;
        let outcome = write(|client| match answer {
            SyncAnswer::Answered(body) => match client.on_response(&body) {
                Ok(summary) => Exchange::Done(summary.acknowledged + summary.rejected),
                Err(err) => {
                    client.on_failure(now);
                    Exchange::Failed(err.to_string())
                }
            },
            SyncAnswer::SignInAgain => {
                client.on_failure(now);
                Exchange::SignInAgain
            }
            SyncAnswer::TooLarge => {
                client.on_too_large(now);
                Exchange::Smaller
            }
            SyncAnswer::BatchRefused(message) => {
                client.on_refused(now);
                Exchange::Failed(message)
            }
            SyncAnswer::Failed(message) => {
                client.on_failure(now);
                Exchange::Failed(message)
            }
        });
        match outcome {
            Some(Exchange::Done(moved)) => {
                answered = true;
                let when = crate::browser::local_time_now();
                if let Err(err) = persist(status, Some(&when)).await {
                    status.last_error.set(Some(err));
                    break;
                }
                status.last_sync.set(Some(when));
                status.last_error.set(None);
                // Not simply `true`: the network may have gone while the answer came.
                status.online.set(crate::browser::is_online());
                let left = read(SyncClient::sendable_count).unwrap_or(0);
                if left == 0 || moved == 0 {
                    break;
                }
                status.sending.set(Some((backlog.saturating_sub(left), backlog.max(left))));
            }
            Some(Exchange::Smaller) => {
                // A record too large to send alone is now marked refused: stored so.
                if let Err(err) = persist(status, None).await {
                    status.last_error.set(Some(err));
                    break;
                }
            }
            Some(Exchange::SignInAgain) => {
                status.session_expired.set(true);
                break;
            }
            Some(Exchange::Failed(message)) => {
                status.last_error.set(Some(message));
                break;
            }
            None => break,
        }
    }
    status.sending.set(None);
    answered
}

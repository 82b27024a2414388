//! Sync with the app closed (docs/sync-protocol.md, "Sync with the app closed"): what the
//! app leaves in its IndexedDB for the service worker, which sends it when the browser
//! wakes it (Background Sync, Periodic Background Sync) and no window of BMMS is in view.
//!
//! The worker only moves bytes. The app writes, in the `device` store, one request of its
//! outbox under [`REQUEST_KEY`] (an ordinary sync request: the same batch id means the
//! same effect, invariant 2) and the rest of its [`Work`] under [`WORK_KEY`] (JSON: the
//! worker has no need of the sync codec). The worker posts the request and keeps the
//! server's answer under [`ANSWER_KEY`]; the app takes that answer as the
//! answer to its own request the next time it runs ([`SyncClient::take_answer_for`]),
//! so nothing goes out twice. The worker lists the photos it sent whole under
//! [`PHOTOS_SENT_KEY`]. The worker holds the Web Lock [`LOCK`] while it sends the
//! request and keeps its answer; the app holds it for its own exchanges and whenever it
//! reads or writes these keys, so the answer kept always answers the request as the
//! device stands.
//!
//! [`SyncClient::take_answer_for`]: super::client::SyncClient::take_answer_for

use serde::{Deserialize, Serialize};

use crate::photos::NewPhoto;

/// The app's IndexedDB database, and the stores the worker reads.
pub const DATABASE: &str = "bmms";
pub const DEVICE_STORE: &str = "device";
pub const PHOTO_STORE: &str = "photos";
/// The key, in the device store, of the [`Work`] left for the worker.
pub const WORK_KEY: &str = "background_work";
/// The key, in the device store, of the sync request left for the worker (its bytes).
pub const REQUEST_KEY: &str = "background_request";
/// The key, in the device store, of the server's answer to the work's request (its bytes).
pub const ANSWER_KEY: &str = "background_answer";
/// The key, in the device store, of the names of the photos the worker sent whole (a JSON
/// array of strings).
pub const PHOTOS_SENT_KEY: &str = "background_photos_sent";
/// The Web Lock of the hand-off (see above).
pub const LOCK: &str = "bmms-background";
/// The tag of the app's Background Sync and Periodic Background Sync registrations.
pub const SYNC_TAG: &str = "bmms-outbox";

/// What the app leaves for the worker besides the request (stored as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Work {
    /// The signed-in officer's CSRF token (the session cookie goes with the worker's requests).
    pub csrf_token: String,
    /// The photos the server does not have whole yet, oldest first.
    pub photos: Vec<NewPhoto>,
}

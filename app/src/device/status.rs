//! What the screens show about the device and its sync.

use bmms_shared::api::Me;
use leptos::prelude::*;

use super::{photos, read};

/// What the screens show about the device and its sync; cheap to copy.
#[derive(Clone, Copy)]
pub struct Status {
    /// Goes up whenever a record changes, so lists and forms read again.
    pub revision: RwSignal<u64>,
    pub me: RwSignal<Option<Me>>,
    /// The device storage has been read.
    pub loaded: RwSignal<bool>,
    /// Edits waiting to be sent.
    pub pending: RwSignal<usize>,
    /// Edits the server refused, kept until the officer corrects their record.
    pub refused: RwSignal<usize>,
    pub syncing: RwSignal<bool>,
    /// While a backlog goes out over several exchanges: edits sent so far, and of how many.
    pub sending: RwSignal<Option<(usize, usize)>>,
    /// Photos taken here that the server does not have whole yet.
    pub photos_waiting: RwSignal<usize>,
    /// While a photo goes out: its bytes the server holds, and of how many.
    pub photo_sending: RwSignal<Option<(u64, u64)>>,
    /// What waits is left for the service worker, to send with the app closed.
    pub left_for_background: RwSignal<bool>,
    pub online: RwSignal<bool>,
    pub last_sync: RwSignal<Option<String>>,
    pub last_error: RwSignal<Option<String>>,
    /// The session ended while edits wait: the officer is asked to sign in again.
    pub session_expired: RwSignal<bool>,
    /// A new service worker waits to take over.
    pub update_ready: RwSignal<bool>,
    /// BMMS is open in another window or tab, which works on the device's records.
    pub other_window: RwSignal<bool>,
    pub(super) last_poll_ms: RwSignal<f64>,
}

impl Status {
    pub fn new() -> Self {
        Status {
            revision: RwSignal::new(0),
            me: RwSignal::new(None),
            loaded: RwSignal::new(false),
            pending: RwSignal::new(0),
            refused: RwSignal::new(0),
            syncing: RwSignal::new(false),
            sending: RwSignal::new(None),
            photos_waiting: RwSignal::new(0),
            photo_sending: RwSignal::new(None),
            left_for_background: RwSignal::new(false),
            online: RwSignal::new(crate::browser::is_online()),
            last_sync: RwSignal::new(None),
            last_error: RwSignal::new(None),
            session_expired: RwSignal::new(false),
            update_ready: RwSignal::new(false),
            other_window: RwSignal::new(false),
            last_poll_ms: RwSignal::new(0.0),
        }
    }

    pub(super) fn changed(&self) {
        let (pending, refused) = read(|client| {
            let refused = client.refused_count();
            (client.pending_count() - refused, refused)
        })
        .unwrap_or((0, 0));
        self.pending.set(pending);
        self.refused.set(refused);
        self.photos_waiting.set(photos::unsent());
        self.revision.update(|r| *r += 1);
    }
}

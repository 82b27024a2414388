//! This device: its records and outbox (the shared sans-IO `SyncClient`), its storage,
//! and the sync loop that moves bytes between them and the server.
//!
//! The client and the storage are browser objects that cannot live in Leptos signals, so
//! they sit in one thread-local; components read them through [`read`] and learn of
//! changes through the `revision` signal of [`Status`].
//!
//! When sync runs: at start, when the browser says it is online again, a few seconds
//! after every edit, every minute while the app is open (to fetch others' changes), on
//! "Sync now", and when the service worker relays a Background Sync to an open window
//! (the sync client lives in the page, so with the app closed nothing is sent until it is
//! opened again). Failures back off (2 s doubling to 5 min, in the shared client); "Sync
//! now" and coming online skip the wait.

use automerge::ActorId;
use bmms_shared::api::Me;
use bmms_shared::records::{FieldError, RecordEditor, RecordKind};
use bmms_shared::sync::client::{StoredRecord, SyncClient};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::collections::HashMap;
use uuid::Uuid;

use crate::api::{self, SyncAnswer};
use crate::storage::{Identity, Storage};
use crate::text::t;

/// Polls for others' changes this often while the app is open.
const POLL_MS: f64 = 60_000.0;
/// At most this many exchanges in a row (edits made during one go out in the next).
const MAX_EXCHANGES_IN_A_ROW: usize = 3;

struct Local {
    storage: Storage,
    /// Stored records this build could not read (kept in storage, never overwritten).
    unreadable_records: usize,
    identity: Option<Identity>,
    client: Option<SyncClient>,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
    /// How often each record was written since the app started: lists cache what they
    /// show of a record until this changes.
    static VERSIONS: RefCell<HashMap<Uuid, u64>> = RefCell::new(HashMap::new());
}

/// Changes whenever the record (its document, changes, refusal or conflicts) changes.
pub fn record_version(id: Uuid) -> u64 {
    VERSIONS.with_borrow(|versions| versions.get(&id).copied().unwrap_or(0))
}

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
    pub online: RwSignal<bool>,
    pub last_sync: RwSignal<Option<String>>,
    pub last_error: RwSignal<Option<String>>,
    /// The session ended while edits wait: the officer is asked to sign in again.
    pub session_expired: RwSignal<bool>,
    /// A new service worker waits to take over.
    pub update_ready: RwSignal<bool>,
    /// BMMS is open in another window or tab, which works on the device's records.
    pub other_window: RwSignal<bool>,
    last_poll_ms: RwSignal<f64>,
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
            online: RwSignal::new(crate::browser::is_online()),
            last_sync: RwSignal::new(None),
            last_error: RwSignal::new(None),
            session_expired: RwSignal::new(false),
            update_ready: RwSignal::new(false),
            other_window: RwSignal::new(false),
            last_poll_ms: RwSignal::new(0.0),
        }
    }

    fn changed(&self) {
        let (pending, refused) = read(|client| {
            let refused = client.outbox().values().flatten().filter(|change| change.rejected.is_some()).count();
            (client.pending_count() - refused, refused)
        })
        .unwrap_or((0, 0));
        self.pending.set(pending);
        self.refused.set(refused);
        self.revision.update(|r| *r += 1);
    }
}

/// Reads the device's records; `None` before a device exists (nobody signed in yet).
pub fn read<R>(f: impl FnOnce(&SyncClient) -> R) -> Option<R> {
    LOCAL.with_borrow(|local| local.as_ref().and_then(|l| l.client.as_ref()).map(f))
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Opens the device's storage and shows what it holds, then asks the server who is
/// signed in. Works with no network: the last signed-in person and their records open.
pub async fn start(status: Status) {
    if !crate::browser::hold_device_lock().await {
        status.other_window.set(true);
        return;
    }
    let storage = match Storage::open().await {
        Ok(storage) => storage,
        Err(err) => {
            status.last_error.set(Some(format!("{} ({err})", t().local_storage_failed)));
            status.loaded.set(true);
            return;
        }
    };
    let loaded = storage.load().await.unwrap_or_else(|err| {
        status.last_error.set(Some(format!("{} ({err})", t().local_storage_failed)));
        crate::storage::Loaded { identity: None, me: None, last_sync: None, records: vec![], unreadable: 0 }
    });
    let client = loaded.identity.as_ref().and_then(|identity| {
        SyncClient::restore(identity.device_id, ActorId::from(identity.actor.clone()), identity.cursor, loaded.records)
            .map_err(|err| status.last_error.set(Some(err.to_string())))
            .ok()
    });
    LOCAL.set(Some(Local { storage, unreadable_records: loaded.unreadable, identity: loaded.identity, client }));
    // Ask the browser, once per start, to keep the device's data when space runs short.
    spawn_local(async {
        let _ = crate::browser::storage_info().await;
    });
    status.me.set(loaded.me);
    status.last_sync.set(loaded.last_sync);
    status.changed();
    status.loaded.set(true);
    // The screen shows the device's records from the next frame on.
    request_animation_frame(|| crate::browser::measure_since("bmms-interactive", 0.0));

    match api::me().await {
        Ok(Some(me)) => signed_in(status, me).await,
        Ok(None) => {
            // Signed out on the server (or the session ended): keep showing the records
            // and ask for a new sign-in before the next sync.
            if status.me.get_untracked().is_some() {
                status.session_expired.set(true);
            }
        }
        Err(message) => {
            status.online.set(false);
            if status.me.get_untracked().is_none() {
                status.last_error.set(Some(message));
            }
        }
    }
}

/// Someone signed in (or their session was found): make this device theirs and sync.
pub async fn signed_in(status: Status, me: Me) {
    let Some((storage, identity, restored)) =
        LOCAL.with_borrow(|local| local.as_ref().map(|l| (l.storage.clone(), l.identity.clone(), l.client.is_some())))
    else {
        // The device's storage could not be opened; start() already said so.
        return;
    };
    if let Some(identity) = &identity {
        if identity.user_id != me.user.id {
            let pending = read(|c| c.pending_count()).unwrap_or(0);
            // A device whose records could not all be read may hold edits it cannot count.
            let unreadable = !restored || LOCAL.with_borrow(|l| l.as_ref().is_some_and(|l| l.unreadable_records > 0));
            if pending > 0 || unreadable {
                // Their edits must go out under their name: this person may not take over.
                let _ = api::logout(&me.csrf_token).await;
                status.last_error.set(Some((t().other_user_has_edits)(&identity.display_name, pending.max(1))));
                status.me.set(None);
                return;
            }
            let _ = storage.clear_device().await;
            LOCAL.with_borrow_mut(|local| {
                if let Some(local) = local.as_mut() {
                    local.identity = None;
                    local.client = None;
                }
            });
        }
    }
    let _ = storage.save_me(Some(&me)).await;
    status.me.set(Some(me.clone()));
    status.session_expired.set(false);
    status.last_error.set(None);
    if LOCAL.with_borrow(|l| l.as_ref().is_some_and(|l| l.identity.is_none())) {
        match api::register_device(&me.csrf_token).await {
            Ok(registration) => {
                let actor = hex::decode(&registration.actor).unwrap_or_default();
                let identity = Identity {
                    device_id: registration.device_id,
                    actor: actor.clone(),
                    user_id: me.user.id,
                    display_name: me.user.display_name.clone(),
                    cursor: 0,
                };
                let client = SyncClient::new(registration.device_id, ActorId::from(actor));
                if let Err(err) = storage.save(vec![], &identity, None).await {
                    status.last_error.set(Some(format!("{} ({err})", t().local_storage_failed)));
                    return;
                }
                LOCAL.with_borrow_mut(|local| {
                    if let Some(local) = local.as_mut() {
                        local.identity = Some(identity);
                        local.client = Some(client);
                    }
                });
            }
            Err(message) => {
                status.last_error.set(Some(message));
                return;
            }
        }
    }
    status.changed();
    sync_now(status, true).await;
}

/// Signs out, after the caller has warned about unsynced edits. The records stay on the
/// device for the same person's next sign-in.
pub async fn sign_out(status: Status) -> Result<(), String> {
    if let Some(me) = status.me.get_untracked() {
        match api::logout(&me.csrf_token).await {
            // Offline: the session ends on the server by itself; forget it here anyway.
            Ok(()) | Err(_) => {}
        }
    }
    let storage = LOCAL.with_borrow(|l| l.as_ref().map(|l| l.storage.clone()));
    if let Some(storage) = storage {
        storage.save_me(None).await?;
    }
    status.me.set(None);
    status.session_expired.set(false);
    Ok(())
}

/// What changed in `client` since the last save, ready to write.
fn unsaved_records(client: &mut SyncClient) -> Vec<StoredRecord> {
    let (ids, _) = client.take_unsaved();
    ids.into_iter().filter_map(|id| client.stored_record(id)).collect()
}

/// Writes what changed to the device's storage; the UI may say "saved" once this returns.
/// The records are encoded at once (no borrow is held across the write), and IndexedDB
/// commits transactions in the order they were opened, so writes never overtake.
async fn persist(status: Status, last_sync: Option<&str>) -> Result<(), String> {
    let work = LOCAL.with_borrow_mut(|local| {
        let local = local.as_mut()?;
        let identity = Identity { cursor: local.client.as_ref()?.cursor(), ..local.identity.clone()? };
        let records = unsaved_records(local.client.as_mut()?);
        Some((local.storage.clone(), identity, records))
    });
    let Some((storage, identity, records)) = work else { return Ok(()) };
    VERSIONS.with_borrow_mut(|versions| {
        for record in &records {
            *versions.entry(record.doc_id).or_default() += 1;
        }
    });
    // The screens see the new state at once (a second tap on a checklist starts from the
    // first one), while "saved" waits for the write below.
    status.changed();
    let ids: Vec<Uuid> = records.iter().map(|r| r.doc_id).collect();
    let result = storage.save(records, &identity, last_sync).await;
    if result.is_err() {
        // Written again with the next save, so the stored cursor never runs ahead of them.
        LOCAL.with_borrow_mut(|l| l.as_mut().and_then(|l| l.client.as_mut()).map(|c| c.mark_unsaved(ids)));
    }
    result.map_err(|err| format!("{} ({err})", t().local_storage_failed))
}

/// Creates a record on this device; returns its id once it is stored.
pub async fn create(status: Status, kind: RecordKind) -> Result<Uuid, String> {
    let id = Uuid::new_v4();
    LOCAL
        .with_borrow_mut(|local| local.as_mut().and_then(|l| l.client.as_mut()).map(|c| c.create(id, kind)))
        .ok_or_else(|| t().sign_in_needs_network.to_owned())?;
    persist(status, None).await?;
    soon_sync(status);
    Ok(id)
}

/// Edits a record through the schema-checked editor; returns once the edit is stored.
pub async fn edit(
    status: Status,
    doc_id: Uuid,
    edit: impl FnOnce(&mut RecordEditor<'_>) -> Result<(), FieldError>,
) -> Result<(), String> {
    let started = crate::browser::now();
    LOCAL
        .with_borrow_mut(|local| {
            let client = local.as_mut().and_then(|l| l.client.as_mut()).ok_or_else(|| t().sign_in_needs_network.to_owned())?;
            client.edit(doc_id, edit).map_err(|e| e.to_string())
        })?;
    persist(status, None).await?;
    crate::browser::measure_since("bmms-save", started);
    soon_sync(status);
    Ok(())
}

/// Every unsynced edit, as a file's bytes (`None`: nothing to export).
pub fn export_unsynced() -> Option<Vec<u8>> {
    let records = LOCAL.with_borrow_mut(|local| local.as_mut()?.client.as_mut().map(|c| c.export_unsynced()))?;
    (!records.is_empty()).then(|| bmms_shared::sync::protocol::encode(&records))
}

/// Takes back a file written by [`export_unsynced`]; returns how many edits it added.
pub async fn import_unsynced(status: Status, file: &[u8]) -> Result<usize, String> {
    let records: Vec<StoredRecord> =
        bmms_shared::sync::protocol::decode(file).map_err(|_| t().import_failed.to_owned())?;
    let added = LOCAL
        .with_borrow_mut(|local| {
            let client = local.as_mut()?.client.as_mut()?;
            Some(client.import_unsynced(records).map_err(|_| t().import_failed.to_owned()))
        })
        .ok_or_else(|| t().sign_in_needs_network.to_owned())??;
    persist(status, None).await?;
    soon_sync(status);
    Ok(added)
}

/// Starts a sync shortly, without waiting for it.
fn soon_sync(status: Status) {
    if status.online.get_untracked() {
        spawn_local(async move { sync_now(status, false).await });
    }
}

/// Called every few seconds: syncs when edits wait, or to fetch news once a minute.
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
    let waiting = read(|c| c.outbox().values().flatten().any(|change| change.rejected.is_none())).unwrap_or(false);
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
/// when edits were made while it ran). `force` skips the backoff wait.
pub async fn sync_now(status: Status, force: bool) {
    if status.syncing.get_untracked() || status.session_expired.get_untracked() {
        return;
    }
    let Some(csrf_token) = status.me.get_untracked().map(|me| me.csrf_token) else { return };
    if force {
        LOCAL.with_borrow_mut(|l| l.as_mut().and_then(|l| l.client.as_mut()).map(SyncClient::retry_now));
    }
    status.syncing.set(true);
    status.last_poll_ms.set(now_ms());
    for _ in 0..MAX_EXCHANGES_IN_A_ROW {
        let request = LOCAL.with_borrow_mut(|local| {
            let client = local.as_mut()?.client.as_mut()?;
            client.next_request(now_ms() as u64, Uuid::new_v4())
        });
        let Some((_, body)) = request else { break };
        let answer = api::sync(&csrf_token, &body).await;
        let now = now_ms() as u64;
        let outcome = LOCAL.with_borrow_mut(|local| {
            let client = local.as_mut().and_then(|l| l.client.as_mut())?;
            Some(match answer {
                SyncAnswer::Answered(body) => match client.on_response(&body) {
                    Ok(_) => Ok(()),
                    Err(err) => {
                        client.on_failure(now);
                        Err(err.to_string())
                    }
                },
                SyncAnswer::SignInAgain => {
                    client.on_failure(now);
                    Err(String::new())
                }
                SyncAnswer::BatchRefused(message) => {
                    client.on_refused(now);
                    Err(message)
                }
                SyncAnswer::Failed(message) => {
                    client.on_failure(now);
                    Err(message)
                }
            })
        });
        match outcome {
            Some(Ok(())) => {
                let when = crate::browser::local_time_now();
                if let Err(err) = persist(status, Some(&when)).await {
                    status.last_error.set(Some(err));
                    break;
                }
                status.last_sync.set(Some(when));
                status.last_error.set(None);
                // Not simply `true`: the network may have gone while the answer came.
                status.online.set(crate::browser::is_online());
                let more = read(|c| c.outbox().values().flatten().any(|change| change.rejected.is_none())).unwrap_or(false);
                if !more {
                    break;
                }
            }
            Some(Err(message)) if message.is_empty() => {
                status.session_expired.set(true);
                break;
            }
            Some(Err(message)) => {
                status.last_error.set(Some(message));
                break;
            }
            None => break,
        }
    }
    status.syncing.set(false);
    status.changed();
}

//! This device: its records and outbox (the shared sans-IO `SyncClient`), its storage,
//! and the sync loop that moves bytes between them and the server.
//!
//! The client and the storage are browser objects that cannot live in Leptos signals, so
//! they sit in one thread-local; components read them through [`read`] and learn of
//! changes through the `revision` signal of [`Status`].
//!
//! When sync runs: at start, when the browser says it is online again, a few seconds
//! after every edit, every minute while the app is open (to fetch others' changes), on
//! "Sync now", and when the service worker relays a Background Sync to a window in view.
//! With the app closed, the service worker sends what the app left it (`background`).
//! Failures back off (2 s doubling to 5 min, in the shared client); "Sync now" and coming
//! online skip the wait.

use automerge::ActorId;
use bmms_shared::api::Me;
use bmms_shared::records::{FieldError, RecordEditor, RecordKind};
use bmms_shared::sync::client::{StoredRecord, SyncClient};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::collections::HashMap;
use bmms_shared::DocId;
use uuid::Uuid;

use crate::api;
use crate::storage::{Identity, Storage};
use crate::text::t;

pub mod background;
pub mod photos;
mod status;
pub mod summary;
mod sync_loop;
pub use status::Status;
pub use sync_loop::{came_online, sync_now, tick};
use sync_loop::soon_sync;

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
    static VERSIONS: RefCell<HashMap<DocId, u64>> = RefCell::new(HashMap::new());
}

/// Changes whenever the record (its document, changes, refusal or conflicts) changes.
pub fn record_version(id: DocId) -> u64 {
    VERSIONS.with_borrow(|versions| versions.get(&id).copied().unwrap_or(0))
}

/// Reads the device's records; `None` before a device exists (nobody signed in yet).
pub fn read<R>(f: impl FnOnce(&SyncClient) -> R) -> Option<R> {
    LOCAL.with_borrow(|local| local.as_ref().and_then(|l| l.client.as_ref()).map(f))
}

/// Changes the device's records; `None` before a device exists.
fn write<R>(f: impl FnOnce(&mut SyncClient) -> R) -> Option<R> {
    LOCAL.with_borrow_mut(|local| local.as_mut().and_then(|l| l.client.as_mut()).map(f))
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Opens the device's storage and shows what it holds, then asks the server who is
/// signed in. Works with no network: the last signed-in person and their records open.
pub async fn start(status: Status) {
    // Where a cold start's time goes (scripts/bench-app reports these marks).
    crate::browser::measure_since("bmms-started", 0.0);
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
        crate::storage::Loaded { identity: None, cursor_protocol: 1, scope_version: 0, me: None, last_sync: None, records: vec![], summaries: vec![], unreadable: 0, photos: vec![] }
    });
    crate::browser::measure_since("bmms-storage-read", 0.0);
    let client = loaded.identity.as_ref().and_then(|identity| {
        // Read with a protocol older than the newest kind, the cursor may have passed
        // documents of kinds that app was not sent: from the start once more, which sends
        // them (`Loaded::cursor_protocol`). A field officer's device that updates from
        // protocol 2 needs no such thing: its first scoped answer is complete.
        let cursor = if loaded.cursor_protocol < RecordKind::newest_since() { 0 } else { identity.cursor };
        SyncClient::restore(identity.device_id, ActorId::from(identity.actor.clone()), cursor, loaded.records)
            // An app of protocol 2 (a rollback) left the scope version as it was while the
            // server forgot removals it could not act on: from 0, the next answer is complete.
            .map(|client| client.with_scope_version(if loaded.cursor_protocol >= 3 { loaded.scope_version } else { 0 }))
            .map_err(|err| status.last_error.set(Some(err.to_string())))
            .ok()
    });
    summary::remember_stored(loaded.summaries);
    photos::remember_stored(loaded.photos);
    crate::browser::measure_since("bmms-restored", 0.0);
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
    // What the service worker sent while the app was closed counts as sent (it may be
    // sending still: the lists do not wait for it).
    spawn_local(background::take_brought_back_now(status));

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
            // Photos not yet sent are edits too.
            let pending = read(|c| c.pending_count()).unwrap_or(0) + photos::unsent();
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
            summary::remember_stored(vec![]);
            photos::remember_stored(vec![]);
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
    if !me.role.does_field_work() {
        // OCM, BPDA and MFBM work online at the desk: no device to register, nothing to sync.
        return;
    }
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
                if let Err(err) = storage.save(vec![], vec![], &[], Some((&identity, 0)), None).await {
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
    #[cfg(feature = "desk")]
    crate::desk::live::Live::stop();
    status.me.set(None);
    status.session_expired.set(false);
    Ok(())
}

/// What changed in `client` since the last save, ready to write.
struct Unsaved {
    records: Vec<StoredRecord>,
    summaries: Vec<summary::Summary>,
    /// Records that left the device's scope.
    removed: Vec<DocId>,
    cursor_moved: bool,
}

fn unsaved_records(client: &mut SyncClient) -> Unsaved {
    let (ids, cursor_moved) = client.take_unsaved();
    let summaries = summary::to_store(client, &ids);
    let records = ids.into_iter().filter_map(|id| client.stored_record(id)).collect();
    Unsaved { records, summaries, removed: client.take_removed(), cursor_moved }
}

/// Writes what changed to the device's storage; the UI may say "saved" once this returns.
/// The records are encoded at once (no borrow is held across the write), and IndexedDB
/// commits transactions in the order they were opened, so writes never overtake.
async fn persist(status: Status, last_sync: Option<&str>) -> Result<(), String> {
    let work = LOCAL.with_borrow_mut(|local| {
        let local = local.as_mut()?;
        let client = local.client.as_mut()?;
        let identity = Identity { cursor: client.cursor(), ..local.identity.clone()? };
        let scope_version = client.scope_version();
        let unsaved = unsaved_records(client);
        // An edit leaves the identity and cursor as stored: one write fewer per save.
        let identity = (unsaved.cursor_moved || last_sync.is_some()).then_some((identity, scope_version));
        Some((local.storage.clone(), identity, unsaved))
    });
    let Some((storage, identity, Unsaved { records, summaries, removed, .. })) = work else { return Ok(()) };
    VERSIONS.with_borrow_mut(|versions| {
        for record in &records {
            *versions.entry(record.doc_id).or_default() += 1;
        }
    });
    // The screens see the new state at once (a second tap on a checklist starts from the
    // first one), while "saved" waits for the write below.
    status.changed();
    let ids: Vec<DocId> = records.iter().map(|r| r.doc_id).collect();
    let identity_ref = identity.as_ref().map(|(identity, version)| (identity, *version));
    let result = storage.save(records, summaries.clone(), &removed, identity_ref, last_sync).await;
    match result {
        Ok(()) => summary::written(summaries, &removed),
        // Written again with the next save, so the stored cursor never runs ahead of them.
        Err(_) => {
            write(|client| {
                client.mark_unsaved(ids);
                client.mark_removed(removed);
            });
        }
    }
    result.map_err(|err| format!("{} ({err})", t().local_storage_failed))
}

/// Creates a record on this device; returns its id once it is stored.
pub async fn create(status: Status, kind: RecordKind) -> Result<DocId, String> {
    let id = DocId(Uuid::new_v4());
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
    doc_id: DocId,
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
    let records = write(SyncClient::export_unsynced)?;
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

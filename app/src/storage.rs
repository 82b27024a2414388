//! The device's own storage: IndexedDB, through rexie. Three object stores:
//! - `records`: one entry per record, keyed by its id: the document, its unsynced changes
//!   and its open conflicts (a `StoredRecord`, encoded like a sync message);
//! - `summaries`: per record, the few fields its list shows (a `Summary`), so that lists
//!   open without loading every document (since version 2);
//! - `photos`: the bytes of each photo taken on the device, by name (since version 3);
//! - `photo_list`: per photo, its record, size and whether the server has it whole (a
//!   `PhotoEntry`), so the app knows its photos without reading their bytes;
//! - `device`: this device's identity and sync cursor (`identity`), the sync protocol the
//!   cursor was read with (`cursor_protocol`), the scope version taken with it
//!   (`scope_version`, docs/sync-protocol.md "Sync scope"), the signed-in person as last seen (`me`, so
//!   the app opens offline), the time of the last sync, and what the service worker is to
//!   send with the app closed and what it brought back (`bmms_shared::sync::background`).
//!
//! Every write waits for the transaction to complete before it returns: the app says
//! "saved" only after that.
//!
//! Upgrades: `VERSION` goes up by one with each change of stores; the builder then
//! creates the stores this build lists. Stored values carry their own format (the sync
//! codec's version byte), so a newer app reads what an older one wrote.

use bmms_shared::api::Me;
use bmms_shared::sync::client::StoredRecord;
use bmms_shared::sync::background::{self, Work};
use bmms_shared::sync::protocol;
use crate::device::summary::Summary;
use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use bmms_shared::{DeviceId, DocId, UserId};
use wasm_bindgen::JsValue;

// The service worker reads the database too (`bmms_shared::sync::background`).
const NAME: &str = background::DATABASE;
const VERSION: u32 = 3;
const RECORDS: &str = "records";
const PHOTOS: &str = background::PHOTO_STORE;
const PHOTO_LIST: &str = "photo_list";
const SUMMARIES: &str = "summaries";
const DEVICE: &str = background::DEVICE_STORE;
/// The key, in `device`, of the protocol the stored cursor was read with.
const CURSOR_PROTOCOL: &str = "cursor_protocol";
/// The key, in `device`, of the scope version taken with the stored cursor.
const SCOPE_VERSION: &str = "scope_version";

/// Who this device is to the server, and how far it has read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub device_id: DeviceId,
    pub actor: Vec<u8>,
    /// The person the device was registered for: its changes are theirs.
    pub user_id: UserId,
    pub display_name: String,
    pub cursor: u64,
}

/// A photo taken on this device (its bytes are kept apart, in `photos`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoEntry {
    /// Its name: the SHA-256 of its bytes (`bmms_shared::photos`).
    pub name: String,
    /// The record it was taken for.
    pub record: DocId,
    pub size: u64,
    pub media_type: String,
    /// The server has it whole.
    pub uploaded: bool,
    /// When it was taken (milliseconds since 1970), the order photos are sent in.
    pub taken_at: f64,
}

/// What the app left for the service worker, and what the worker brought back.
pub struct Background {
    pub work: Option<Work>,
    /// The sync request left with the work.
    pub request: Option<Vec<u8>>,
    /// The server's answer to that request.
    pub answer: Option<Vec<u8>>,
    /// The photos the worker sent whole.
    pub photos_sent: Vec<String>,
}

/// The open database.
#[derive(Clone)]
pub struct Storage {
    db: Rc<Rexie>,
}

/// What was on the device when the app started.
pub struct Loaded {
    pub identity: Option<Identity>,
    /// The sync protocol the stored cursor was read with (1 when the app that stored it
    /// did not say). A newer protocol may carry record kinds the server withheld from the
    /// older app, so an app that finds an older one reads the log again from the start,
    /// once. Kept beside the identity, not in it: the identity's stored layout (postcard,
    /// field by field) must not change, or an older app's identity would not read.
    pub cursor_protocol: u8,
    /// Written with the cursor, beside the identity for the same reason (0 when missing).
    pub scope_version: u64,
    pub me: Option<Me>,
    pub last_sync: Option<String>,
    pub records: Vec<StoredRecord>,
    /// What the lists show of the records (none yet for records stored by version 1).
    pub summaries: Vec<Summary>,
    /// Stored records this build could not read; they stay in storage.
    pub unreadable: usize,
    pub photos: Vec<PhotoEntry>,
}

fn failed(err: impl std::fmt::Debug) -> String {
    format!("{err:?}")
}

impl Storage {
    pub async fn open() -> Result<Storage, String> {
        let db = Rexie::builder(NAME)
            .version(VERSION)
            .add_object_store(ObjectStore::new(RECORDS))
            .add_object_store(ObjectStore::new(DEVICE))
            .add_object_store(ObjectStore::new(SUMMARIES))
            .add_object_store(ObjectStore::new(PHOTOS))
            .add_object_store(ObjectStore::new(PHOTO_LIST))
            .build()
            .await
            .map_err(failed)?;
        Ok(Storage { db: Rc::new(db) })
    }

    /// Everything the device keeps.
    pub async fn load(&self) -> Result<Loaded, String> {
        let tx = self.db.transaction(&[RECORDS, DEVICE, SUMMARIES, PHOTO_LIST], TransactionMode::ReadOnly).map_err(failed)?;
        let device = tx.store(DEVICE).map_err(failed)?;
        let identity = device
            .get(JsValue::from_str("identity"))
            .await
            .map_err(failed)?
            .and_then(|v| protocol::decode(&js_sys::Uint8Array::new(&v).to_vec()).ok());
        let cursor_protocol = device
            .get(JsValue::from_str(CURSOR_PROTOCOL))
            .await
            .map_err(failed)?
            .and_then(|v| v.as_f64())
            .map_or(1, |n| n as u8);
        let scope_version =
            device.get(JsValue::from_str(SCOPE_VERSION)).await.map_err(failed)?.and_then(|v| v.as_f64()).map_or(0, |n| n as u64);
        let me = device
            .get(JsValue::from_str("me"))
            .await
            .map_err(failed)?
            .and_then(|v| v.as_string())
            .and_then(|json| serde_json::from_str(&json).ok());
        let last_sync = device.get(JsValue::from_str("last_sync")).await.map_err(failed)?.and_then(|v| v.as_string());
        let stored = tx.store(RECORDS).map_err(failed)?.get_all(None, None).await.map_err(failed)?;
        let total = stored.len();
        // A record this build cannot read is left in storage, not deleted.
        let records: Vec<StoredRecord> =
            stored.into_iter().filter_map(|v| protocol::decode(&js_sys::Uint8Array::new(&v).to_vec()).ok()).collect();
        let summaries = tx.store(SUMMARIES).map_err(failed)?.get_all(None, None).await.map_err(failed)?;
        let summaries =
            summaries.into_iter().filter_map(|v| protocol::decode(&js_sys::Uint8Array::new(&v).to_vec()).ok()).collect();
        let photos = tx.store(PHOTO_LIST).map_err(failed)?.get_all(None, None).await.map_err(failed)?;
        let photos = photos.into_iter().filter_map(|v| protocol::decode(&js_sys::Uint8Array::new(&v).to_vec()).ok()).collect();
        Ok(Loaded { identity, cursor_protocol, scope_version, me, last_sync, unreadable: total - records.len(), records, summaries, photos })
    }

    /// Writes `records` (what changed since the last save) with their new `summaries`,
    /// deletes the `removed` ones (they left the device's scope), and writes the identity
    /// with its cursor and scope version when given, in one transaction; returns once it
    /// is on disk.
    pub async fn save(
        &self,
        records: Vec<StoredRecord>,
        summaries: Vec<Summary>,
        removed: &[DocId],
        identity: Option<(&Identity, u64)>,
        last_sync: Option<&str>,
    ) -> Result<(), String> {
        let records: Vec<(JsValue, Option<JsValue>)> = records
            .into_iter()
            .map(|record| (bytes(&protocol::encode_uncompressed(&record)), Some(JsValue::from_str(&record.doc_id.to_string()))))
            .collect();
        let summaries: Vec<(JsValue, Option<JsValue>)> = summaries
            .into_iter()
            .map(|summary| (bytes(&protocol::encode_uncompressed(&summary)), Some(JsValue::from_str(&summary.doc_id.to_string()))))
            .collect();
        let tx = self.db.transaction(&[RECORDS, DEVICE, SUMMARIES], TransactionMode::ReadWrite).map_err(failed)?;
        // Deletions first: a record both removed and written (it came back) is kept.
        for doc_id in removed {
            let key = JsValue::from_str(&doc_id.to_string());
            tx.store(RECORDS).map_err(failed)?.delete(key.clone()).await.map_err(failed)?;
            tx.store(SUMMARIES).map_err(failed)?.delete(key).await.map_err(failed)?;
        }
        tx.store(RECORDS).map_err(failed)?.put_all(records.into_iter()).await.map_err(failed)?;
        if !summaries.is_empty() {
            tx.store(SUMMARIES).map_err(failed)?.put_all(summaries.into_iter()).await.map_err(failed)?;
        }
        let device = tx.store(DEVICE).map_err(failed)?;
        if let Some((identity, scope_version)) = identity {
            device.put(&bytes(&protocol::encode_as(protocol::STORAGE_VERSION, identity)), Some(&JsValue::from_str("identity"))).await.map_err(failed)?;
            let current = JsValue::from_f64(protocol::PROTOCOL_VERSION.into());
            device.put(&current, Some(&JsValue::from_str(CURSOR_PROTOCOL))).await.map_err(failed)?;
            device.put(&JsValue::from_f64(scope_version as f64), Some(&JsValue::from_str(SCOPE_VERSION))).await.map_err(failed)?;
        }
        if let Some(when) = last_sync {
            device.put(&JsValue::from_str(when), Some(&JsValue::from_str("last_sync"))).await.map_err(failed)?;
        }
        committed(tx).await
    }

    /// Remembers who is signed in, so that the app opens offline.
    pub async fn save_me(&self, me: Option<&Me>) -> Result<(), String> {
        let tx = self.db.transaction(&[DEVICE], TransactionMode::ReadWrite).map_err(failed)?;
        let device = tx.store(DEVICE).map_err(failed)?;
        match me {
            Some(me) => {
                let json = serde_json::to_string(me).map_err(failed)?;
                device.put(&JsValue::from_str(&json), Some(&JsValue::from_str("me"))).await.map_err(failed)?;
            }
            None => device.delete(JsValue::from_str("me")).await.map_err(failed)?,
        }
        committed(tx).await
    }

    /// Keeps a photo taken on the device: its bytes and its entry, in one transaction.
    pub async fn save_photo(&self, entry: &PhotoEntry, photo: &[u8]) -> Result<(), String> {
        let tx = self.db.transaction(&[PHOTOS, PHOTO_LIST], TransactionMode::ReadWrite).map_err(failed)?;
        let key = JsValue::from_str(&entry.name);
        tx.store(PHOTOS).map_err(failed)?.put(&bytes(photo), Some(&key)).await.map_err(failed)?;
        tx.store(PHOTO_LIST).map_err(failed)?.put(&bytes(&protocol::encode_uncompressed(entry)), Some(&key)).await.map_err(failed)?;
        committed(tx).await
    }

    /// Writes a photo's entry again (it was uploaded).
    pub async fn save_photo_entry(&self, entry: &PhotoEntry) -> Result<(), String> {
        let tx = self.db.transaction(&[PHOTO_LIST], TransactionMode::ReadWrite).map_err(failed)?;
        let key = JsValue::from_str(&entry.name);
        tx.store(PHOTO_LIST).map_err(failed)?.put(&bytes(&protocol::encode_uncompressed(entry)), Some(&key)).await.map_err(failed)?;
        committed(tx).await
    }

    /// Forgets the photos `names`: their bytes and their entries, in one transaction.
    pub async fn forget_photos(&self, names: &[String]) -> Result<(), String> {
        let tx = self.db.transaction(&[PHOTOS, PHOTO_LIST], TransactionMode::ReadWrite).map_err(failed)?;
        for name in names {
            tx.store(PHOTOS).map_err(failed)?.delete(JsValue::from_str(name)).await.map_err(failed)?;
            tx.store(PHOTO_LIST).map_err(failed)?.delete(JsValue::from_str(name)).await.map_err(failed)?;
        }
        committed(tx).await
    }

    /// The bytes of the photo `name`, if the device has them.
    pub async fn photo(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let tx = self.db.transaction(&[PHOTOS], TransactionMode::ReadOnly).map_err(failed)?;
        let found = tx.store(PHOTOS).map_err(failed)?.get(JsValue::from_str(name)).await.map_err(failed)?;
        Ok(found.map(|v| js_sys::Uint8Array::new(&v).to_vec()))
    }

    /// Leaves `work` and the sync `request` for the service worker (`None`: nothing), and
    /// forgets what the worker brought back, which answered an older request.
    pub async fn leave_for_background(&self, work: Option<(&Work, Option<Vec<u8>>)>) -> Result<(), String> {
        let tx = self.db.transaction(&[DEVICE], TransactionMode::ReadWrite).map_err(failed)?;
        let device = tx.store(DEVICE).map_err(failed)?;
        for key in [background::WORK_KEY, background::REQUEST_KEY, background::ANSWER_KEY, background::PHOTOS_SENT_KEY] {
            device.delete(JsValue::from_str(key)).await.map_err(failed)?;
        }
        if let Some((work, request)) = work {
            let json = serde_json::to_string(work).map_err(failed)?;
            device.put(&JsValue::from_str(&json), Some(&JsValue::from_str(background::WORK_KEY))).await.map_err(failed)?;
            if let Some(request) = request {
                device.put(&bytes(&request), Some(&JsValue::from_str(background::REQUEST_KEY))).await.map_err(failed)?;
            }
        }
        committed(tx).await
    }

    /// What is left for the service worker, and what it brought back.
    pub async fn background(&self) -> Result<Background, String> {
        let tx = self.db.transaction(&[DEVICE], TransactionMode::ReadOnly).map_err(failed)?;
        let device = tx.store(DEVICE).map_err(failed)?;
        let mut found = Vec::new();
        for key in [background::WORK_KEY, background::REQUEST_KEY, background::ANSWER_KEY, background::PHOTOS_SENT_KEY] {
            found.push(device.get(JsValue::from_str(key)).await.map_err(failed)?);
        }
        let [work, request, answer, photos_sent] = <[Option<JsValue>; 4]>::try_from(found).map_err(failed)?;
        let json = |v: Option<JsValue>| v.and_then(|v| v.as_string());
        let bytes = |v: Option<JsValue>| v.map(|v| js_sys::Uint8Array::new(&v).to_vec());
        Ok(Background {
            work: json(work).and_then(|json| serde_json::from_str(&json).ok()),
            request: bytes(request),
            answer: bytes(answer),
            photos_sent: json(photos_sent).and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default(),
        })
    }

    /// Forgets every record and the device's identity (only ever with nothing unsynced).
    pub async fn clear_device(&self) -> Result<(), String> {
        let tx = self.db.transaction(&[RECORDS, DEVICE, SUMMARIES, PHOTOS, PHOTO_LIST], TransactionMode::ReadWrite).map_err(failed)?;
        tx.store(PHOTOS).map_err(failed)?.clear().await.map_err(failed)?;
        tx.store(PHOTO_LIST).map_err(failed)?.clear().await.map_err(failed)?;
        tx.store(RECORDS).map_err(failed)?.clear().await.map_err(failed)?;
        tx.store(SUMMARIES).map_err(failed)?.clear().await.map_err(failed)?;
        tx.store(DEVICE).map_err(failed)?.clear().await.map_err(failed)?;
        committed(tx).await
    }
}

fn bytes(data: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(data).into()
}

async fn committed(tx: rexie::Transaction) -> Result<(), String> {
    let result = tx.done().await.map_err(failed)?;
    if result.is_committed() {
        Ok(())
    } else {
        Err("the browser did not commit the write".to_owned())
    }
}

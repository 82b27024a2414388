//! Sync with the app closed (`bmms_shared::sync::background`, docs/sync-protocol.md): when
//! the browser wakes the worker (Background Sync, Periodic Background Sync) and no window
//! of BMMS is in view, `public/sw.js` calls these. The worker sends what the app left in
//! IndexedDB: one sync request, whose answer it keeps for the app to take, and the photos,
//! chunk by chunk. It decides nothing about records: the app's sync client does that.
//!
//! An error tells the browser that the sync failed, and it tries again later.

use bmms_shared::api::CSRF_HEADER;
use bmms_shared::photos::{self, Answered, Chunk, NotSent, PhotoProgress, Unanswered, CHECKSUM_HEADER, OFFSET_HEADER};
use bmms_shared::sync::background::{ANSWER_KEY, DATABASE, DEVICE_STORE, PHOTOS_SENT_KEY, PHOTO_STORE, REQUEST_KEY, WORK_KEY};
use bmms_shared::sync::protocol::CONTENT_TYPE;
use js_sys::{Array, Reflect, Uint8Array, JSON};
use rexie::{Rexie, TransactionMode};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, Response};

/// A request not answered in this long was lost with the link: the app waits for the
/// request of its outbox to be answered (it may be opened meanwhile), and a browser gives
/// a Background Sync event a few minutes at most.
const TIMEOUT_MS: i32 = 120_000;

/// Sends the sync request the app left, unless its answer is already kept; keeps the
/// answer for the app. `public/sw.js` holds the Web Lock `background::LOCK` meanwhile.
#[wasm_bindgen]
pub async fn send_records() -> Result<(), JsValue> {
    let db = open().await?;
    let Some(work) = work(&db).await? else { return Ok(()) };
    let Some(request) = read(&db, DEVICE_STORE, REQUEST_KEY).await? else { return Ok(()) };
    if read(&db, DEVICE_STORE, ANSWER_KEY).await?.is_some() {
        return Ok(());
    }
    let request = Uint8Array::new(&request).to_vec();
    let headers = [("content-type", CONTENT_TYPE), (CSRF_HEADER, work.csrf_token.as_str())];
    let response = fetch("POST", "/api/v1/sync", &headers, Some(&request)).await?;
    match response.status() {
        200 => {
            let answer = Uint8Array::new(&JsFuture::from(response.array_buffer()?).await?);
            let tx = db.transaction(&[DEVICE_STORE], TransactionMode::ReadWrite).map_err(failed)?;
            tx.store(DEVICE_STORE).map_err(failed)?.put(&answer, Some(&JsValue::from_str(ANSWER_KEY))).await.map_err(failed)?;
            tx.done().await.map_err(failed)?;
            Ok(())
        }
        // Refused (the session ended, the batch too large…): the app, which sends the same
        // edits itself when opened, learns why then.
        400..=499 => Ok(()),
        status => Err(JsValue::from_str(&format!("the server answered {status}"))),
    }
}

/// The names of the photos the app left to send, oldest first. `public/sw.js` sends them
/// one at a time with [`send_photo`], and stops when a window of BMMS comes into view
/// (which then sends them itself).
#[wasm_bindgen]
pub async fn photos_to_send() -> Result<js_sys::Array, JsValue> {
    let db = open().await?;
    let names = work(&db).await?.map(|work| work.photos.iter().filter_map(name_of).map(JsValue::from).collect());
    Ok(names.unwrap_or_default())
}

/// Sends the photo `name` the app left, from where the server stands.
#[wasm_bindgen]
pub async fn send_photo(name: String) -> Result<(), JsValue> {
    let db = open().await?;
    let Some(work) = work(&db).await? else { return Ok(()) };
    let Some(photo) = work.photos.iter().find(|p| name_of(p).as_deref() == Some(&name)) else { return Ok(()) };
    let Some(bytes) = read(&db, PHOTO_STORE, &name).await? else { return Ok(()) };
    let bytes = Uint8Array::new(&bytes).to_vec();
    let announcement = JSON::stringify(photo)?.as_string().unwrap_or_default();
    let exchange = |chunk: Option<&Chunk>| exchange(&work.csrf_token, &name, &announcement, &bytes, chunk.cloned());
    match photos::send(&bytes, exchange, |_| {}, "the photo is not getting through").await {
        Ok(()) => sent_whole(&db, &name).await,
        // Refused: the app, which announces it again, learns why.
        Err(NotSent::Refused(_)) => Ok(()),
        Err(NotSent::Failed(message)) => Err(JsValue::from_str(&message)),
    }
}

/// Adds `name` to the photos the app is to count as sent.
async fn sent_whole(db: &Rexie, name: &str) -> Result<(), JsValue> {
    let tx = db.transaction(&[DEVICE_STORE], TransactionMode::ReadWrite).map_err(failed)?;
    let device = tx.store(DEVICE_STORE).map_err(failed)?;
    let key = JsValue::from_str(PHOTOS_SENT_KEY);
    let listed = device.get(key.clone()).await.map_err(failed)?.and_then(|v| v.as_string());
    let names = listed.and_then(|json| JSON::parse(&json).ok()).and_then(|v| v.dyn_into::<Array>().ok()).unwrap_or_default();
    names.push(&JsValue::from_str(name));
    device.put(&JSON::stringify(&names)?.into(), Some(&key)).await.map_err(failed)?;
    tx.done().await.map_err(failed)?;
    Ok(())
}

/// One request of a photo's upload: its announcement, or a chunk.
async fn exchange(csrf_token: &str, name: &str, announcement: &str, bytes: &[u8], chunk: Option<Chunk>) -> Answered {
    let unreachable = |_| Unanswered { message: "the server cannot be reached".into(), status: None };
    let response = match chunk {
        None => {
            let headers = [("content-type", "application/json"), (CSRF_HEADER, csrf_token)];
            fetch("POST", "/api/v1/photos", &headers, Some(announcement.as_bytes())).await
        }
        Some(chunk) => {
            let offset = chunk.offset.to_string();
            let headers = [(CSRF_HEADER, csrf_token), (OFFSET_HEADER, offset.as_str()), (CHECKSUM_HEADER, chunk.checksum.as_str())];
            fetch("PATCH", &format!("/api/v1/photos/{name}"), &headers, Some(&bytes[chunk.range])).await
        }
    }
    .map_err(unreachable)?;
    let text = JsFuture::from(response.text().map_err(unreachable)?).await.map_err(unreachable)?.as_string().unwrap_or_default();
    if response.ok() {
        // `photos::PhotoProgress`.
        let progress = JSON::parse(&text).ok().and_then(|p| Some(PhotoProgress { offset: field(&p, "offset").as_f64()? as u64, complete: field(&p, "complete").as_bool()? }));
        progress.ok_or(Unanswered { message: text, status: None })
    } else {
        Err(Unanswered { message: text, status: Some(response.status()) })
    }
}

/// The app's database as it stands (never upgraded here: the app owns its stores).
async fn open() -> Result<Rexie, JsValue> {
    Rexie::builder(DATABASE).build().await.map_err(failed)
}

/// The work the app left (`background::Work`, as JSON), if any.
struct LeftWork {
    csrf_token: String,
    /// Each photo's announcement (`photos::NewPhoto`), as the app wrote it.
    photos: Vec<JsValue>,
}

/// The work the app left, if any. Read with the browser's own JSON, which costs the
/// worker's code nothing (serde_json, with the formatting of errors, made the worker's
/// wasm 55 KB as served instead of 40); `background::Work` and `photos::NewPhoto` name
/// the fields.
async fn work(db: &Rexie) -> Result<Option<LeftWork>, JsValue> {
    let Some(json) = read(db, DEVICE_STORE, WORK_KEY).await?.and_then(|v| v.as_string()) else { return Ok(None) };
    let work = JSON::parse(&json)?;
    let Some(csrf_token) = field(&work, "csrf_token").as_string() else { return Ok(None) };
    let photos = field(&work, "photos").dyn_into::<Array>().map(|a| a.to_vec()).unwrap_or_default();
    Ok(Some(LeftWork { csrf_token, photos }))
}

/// A photo's name, from its announcement.
fn name_of(photo: &JsValue) -> Option<String> {
    field(photo, "sha256").as_string()
}

fn field(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// The value under `key` in `store`; none when the store is not there (yet).
async fn read(db: &Rexie, store: &str, key: &str) -> Result<Option<JsValue>, JsValue> {
    if !db.store_names().iter().any(|name| name == store) {
        return Ok(None);
    }
    let tx = db.transaction(&[store], TransactionMode::ReadOnly).map_err(failed)?;
    tx.store(store).map_err(failed)?.get(JsValue::from_str(key)).await.map_err(failed)
}

/// A request to the server that gives up after [`TIMEOUT_MS`].
async fn fetch(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Result<Response, JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    let abort = AbortController::new()?;
    init.set_signal(Some(&abort.signal()));
    let give_up = Closure::once_into_js(move || abort.abort());
    super::scope().set_timeout_with_callback_and_timeout_and_arguments_0(give_up.unchecked_ref(), TIMEOUT_MS)?;
    let sent = Headers::new()?;
    for (name, value) in headers {
        sent.set(name, value)?;
    }
    init.set_headers(&sent);
    if let Some(body) = body {
        init.set_body(&Uint8Array::from(body));
    }
    let request = Request::new_with_str_and_init(path, &init)?;
    super::wait(super::scope().fetch_with_request(&request)).await
}

/// What the browser's storage said is not worth its formatting code here: the browser
/// retries the sync, and the app, when opened, reads the same storage and says more.
fn failed(_: rexie::Error) -> JsValue {
    JsValue::from_str("the device's storage could not be read")
}

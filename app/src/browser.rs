//! The browser APIs the app uses beyond the DOM: network state, storage persistence and
//! quota, the position, files in and out, and the service worker's "update ready".

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

fn window() -> web_sys::Window {
    web_sys::window().expect("the app runs in a window")
}

pub fn is_online() -> bool {
    window().navigator().on_line()
}

/// The current time as the officer reads it.
pub fn local_time_now() -> String {
    js_sys::Date::new_0().to_locale_string("default", &JsValue::UNDEFINED).into()
}

/// Today in the device's time zone, `YYYY-MM-DD`.
pub fn today() -> String {
    let now = js_sys::Date::new_0();
    format!("{:04}-{:02}-{:02}", now.get_full_year(), now.get_month() + 1, now.get_date())
}

/// This year, in the device's time zone.
pub fn this_year() -> i32 {
    js_sys::Date::new_0().get_full_year() as i32
}

/// The date `days` from today, `YYYY-MM-DD`.
pub fn in_days(days: u32) -> String {
    let date = js_sys::Date::new_0();
    date.set_date(date.get_date() + days);
    format!("{:04}-{:02}-{:02}", date.get_full_year(), date.get_month() + 1, date.get_date())
}

/// How the browser keeps the app's data.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageInfo {
    /// `Some(true)`: kept even when space runs short.
    pub persistent: Option<bool>,
    pub used_mb: Option<f64>,
    pub quota_mb: Option<f64>,
}

/// Asks the browser to keep the app's data (it may say no), and how much is used.
pub async fn storage_info() -> StorageInfo {
    let storage = window().navigator().storage();
    let persistent = match storage.persist() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()),
        Err(_) => None,
    };
    let (mut used_mb, mut quota_mb) = (None, None);
    if let Ok(promise) = storage.estimate() {
        if let Ok(estimate) = JsFuture::from(promise).await {
            let number = |key: &str| Reflect::get(&estimate, &JsValue::from_str(key)).ok().and_then(|v| v.as_f64());
            used_mb = number("usage").map(|b| b / 1_000_000.0);
            quota_mb = number("quota").map(|b| b / 1_000_000.0);
        }
    }
    StorageInfo { persistent, used_mb, quota_mb }
}

/// A position from the device's GPS.
#[derive(Clone, Copy, Debug)]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: f64,
}

/// Reads the position (high accuracy, up to 30 s).
pub async fn position() -> Result<Position, String> {
    let geolocation = window().navigator().geolocation().map_err(|_| "this browser has no GPS access".to_owned())?;
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move |position: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &position);
        });
        let fail = Closure::once_into_js(move |error: JsValue| {
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        let options = web_sys::PositionOptions::new();
        options.set_enable_high_accuracy(true);
        options.set_timeout(30_000);
        let _ = geolocation.get_current_position_with_error_callback_and_options(
            ok.unchecked_ref(),
            Some(fail.unchecked_ref()),
            &options,
        );
    });
    match JsFuture::from(promise).await {
        Ok(position) => {
            let position: web_sys::Position = position.unchecked_into();
            let coords = position.coords();
            Ok(Position { latitude: coords.latitude(), longitude: coords.longitude(), accuracy_m: coords.accuracy() })
        }
        Err(error) => Err(Reflect::get(&error, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "the position could not be read".to_owned())),
    }
}

/// Offers `bytes` to the user as a file download named `name`.
pub fn download(name: &str, bytes: &[u8]) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let link: web_sys::HtmlAnchorElement = window().document().expect("a document").create_element("a")?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}

/// The bytes of the first file chosen in `input`.
pub async fn read_chosen_file(input: &web_sys::HtmlInputElement) -> Option<Vec<u8>> {
    let file = input.files()?.get(0)?;
    let buffer = JsFuture::from(file.array_buffer()).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Calls `on_ready` when a new version of the app waits to take over; `public/register-sw.js`
/// announces it with the `bmms-update-ready` event.
pub fn on_update_ready(on_ready: impl Fn() + 'static) {
    let handler = Closure::<dyn Fn()>::new(on_ready);
    let _ = window().add_event_listener_with_callback("bmms-update-ready", handler.as_ref().unchecked_ref());
    handler.forget();
    // The event may have fired before the app started.
    if Reflect::get(&window(), &JsValue::from_str("bmmsUpdateReady")).ok().and_then(|v| v.as_bool()) == Some(true) {
        let _ = window().dispatch_event(&web_sys::Event::new("bmms-update-ready").expect("an event"));
    }
}

/// Calls `on_sync` when the service worker relays a Background Sync (`bmms-sync` event).
pub fn on_background_sync(on_sync: impl Fn() + 'static) {
    let handler = Closure::<dyn Fn()>::new(on_sync);
    let _ = window().add_event_listener_with_callback("bmms-sync", handler.as_ref().unchecked_ref());
    handler.forget();
}

/// Asks the browser to wake the app for a sync when the network returns, where it can.
pub fn request_background_sync() {
    if let Ok(register) = Reflect::get(&window(), &JsValue::from_str("bmmsRequestBackgroundSync")) {
        if let Some(register) = register.dyn_ref::<js_sys::Function>() {
            let _ = register.call0(&JsValue::NULL);
        }
    }
}

/// Lets the waiting version take over; the page reloads into it.
pub fn apply_update() {
    if let Ok(apply) = Reflect::get(&window(), &JsValue::from_str("bmmsApplyUpdate")) {
        if let Some(apply) = apply.dyn_ref::<js_sys::Function>() {
            let _ = apply.call0(&JsValue::NULL);
        }
    }
}

/// Asks the officer to confirm `question`.
pub fn confirm(question: &str) -> bool {
    window().confirm_with_message(question).unwrap_or(false)
}

/// `performance.now()`.
pub fn now() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or_default()
}

/// Records how long something took, from `started` (a [`now`]) until now, as a
/// `performance.measure` named `name`: the benchmarks (scripts/bench-app) read these.
pub fn measure_since(name: &str, started: f64) {
    let Some(performance) = window().performance() else { return };
    let options = js_sys::Object::new();
    let _ = Reflect::set(&options, &JsValue::from_str("start"), &JsValue::from_f64(started));
    if let Ok(measure) = Reflect::get(&performance, &JsValue::from_str("measure")) {
        if let Some(measure) = measure.dyn_ref::<js_sys::Function>() {
            let _ = measure.call2(&performance, &JsValue::from_str(name), &options);
        }
    }
}

/// Whether the page is hidden (another app or tab in front, the phone locked).
pub fn is_hidden() -> bool {
    window().document().is_some_and(|d| d.hidden())
}

/// Calls `on_hidden` whenever the page is hidden (the officer switched apps or locked the phone).
pub fn on_hidden(on_hidden: impl Fn() + 'static) {
    let document = window().document().expect("a document");
    let watched = document.clone();
    let handler = Closure::<dyn Fn()>::new(move || {
        if watched.hidden() {
            on_hidden();
        }
    });
    let _ = document.add_event_listener_with_callback("visibilitychange", handler.as_ref().unchecked_ref());
    handler.forget();
}

/// Leaves the focused field, which saves what was typed in it (its `change` event).
pub fn leave_focused_field() {
    let focused = window().document().and_then(|d| d.active_element());
    if let Some(element) = focused.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = element.blur();
    }
}

/// The browser's Web Locks (`navigator.locks` and its `request`), where it has them.
fn web_locks() -> Option<(JsValue, js_sys::Function)> {
    let locks = Reflect::get(&window().navigator(), &JsValue::from_str("locks")).ok().filter(|l| !l.is_undefined())?;
    let request = Reflect::get(&locks, &JsValue::from_str("request")).ok()?.dyn_into::<js_sys::Function>().ok()?;
    Some((locks, request))
}

/// Takes this device's lock (Web Locks) for as long as the page lives: only one window
/// or tab may work on the device's records at a time, or a stale one could overwrite what
/// another saved. `false`: another window holds it. Browsers without Web Locks get `true`.
pub async fn hold_device_lock() -> bool {
    let Some((locks, request)) = web_locks() else { return true };
    let granted = Promise::new(&mut |resolve, _reject| {
        let on_lock = Closure::once_into_js(move |lock: JsValue| -> JsValue {
            let held = !lock.is_null();
            let _ = resolve.call1(&JsValue::NULL, &JsValue::from_bool(held));
            // The lock is held until the promise returned here settles: never, while the page lives.
            if held {
                Promise::new(&mut |_, _| {}).into()
            } else {
                JsValue::UNDEFINED
            }
        });
        let options = js_sys::Object::new();
        let _ = Reflect::set(&options, &JsValue::from_str("ifAvailable"), &JsValue::TRUE);
        let _ = request.call3(&locks, &JsValue::from_str("bmms-device"), &options, &on_lock);
    });
    JsFuture::from(granted).await.ok().and_then(|v| v.as_bool()).unwrap_or(true)
}

/// Runs `work` holding the Web Lock `name`, once whoever holds it (the service worker,
/// say) lets it go. Browsers without Web Locks run it at once.
pub async fn with_lock<T>(name: &str, work: impl std::future::Future<Output = T>) -> T {
    let Some((locks, request)) = web_locks() else { return work.await };
    // The lock is held until `released` settles, which `release` does once `work` is done.
    let mut release = None;
    let released = Promise::new(&mut |resolve, _| release = Some(resolve));
    let granted = Promise::new(&mut |resolve, _| {
        let released = released.clone();
        let on_grant = resolve.clone();
        let on_lock = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
            let _ = on_grant.call0(&JsValue::NULL);
            released.into()
        });
        if request.call2(&locks, &JsValue::from_str(name), &on_lock).is_err() {
            // No lock to be had here: the work runs without it rather than never.
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(granted).await;
    let result = work.await;
    if let Some(release) = release {
        let _ = release.call0(&JsValue::NULL);
    }
    result
}

/// Whether this browser can wake the service worker to sync with BMMS closed (Background
/// Sync: Chromium-based browsers).
pub fn syncs_in_background() -> bool {
    let registration = Reflect::get(&js_sys::global(), &JsValue::from_str("ServiceWorkerRegistration")).ok();
    let prototype = registration.and_then(|r| Reflect::get(&r, &JsValue::from_str("prototype")).ok()).filter(|p| p.is_object());
    prototype.is_some_and(|p| Reflect::has(&p, &JsValue::from_str("sync")).unwrap_or(false))
}

/// A value this browser keeps for the site between sessions (small settings only; records
/// live in IndexedDB). None when storage is refused.
pub fn remembered(key: &str) -> Option<String> {
    web_sys::window()?.local_storage().ok()??.get_item(key).ok()?
}

/// Keeps `value` under `key` (see [`remembered`]); a refusal is not worth an error.
pub fn remember(key: &str, value: &str) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.set_item(key, value);
    }
}

/// Whether this page is the desk (`/desk/`) rather than the officer app.
pub fn at_desk() -> bool {
    web_sys::window().and_then(|w| w.location().pathname().ok()).is_some_and(|path| path.starts_with("/desk"))
}

/// Whether the address ends in `hash`; if so, it is taken out of the address (a reload
/// does not act on it again).
pub fn take_hash(hash: &str) -> bool {
    let Some(window) = web_sys::window() else { return false };
    if window.location().hash().ok().as_deref() != Some(hash) {
        return false;
    }
    if let Ok(history) = window.history() {
        let path = window.location().pathname().unwrap_or_else(|_| "/".into());
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&path));
    }
    true
}

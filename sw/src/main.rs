//! The service worker's logic, called from `public/sw.js`:
//! - `install` puts every file of this build's app shell (listed in `/shell.json` by
//!   scripts/build-app) into a cache named after the build;
//! - `activate` deletes the caches of older builds;
//! - `respond` answers page loads from the network when it can and from the cache when
//!   it cannot, and answers the (content-hashed, immutable) assets from the cache first;
//! - `background` sends what the app left to send, with the app closed.

use js_sys::{Array, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Request, RequestCache, RequestInit, Response, ServiceWorkerGlobalScope};

mod background;

const CACHE_PREFIX: &str = "bmms-shell-";

fn main() {}

fn scope() -> ServiceWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

async fn wait<T: JsCast>(promise: Promise) -> Result<T, JsValue> {
    JsFuture::from(promise).await?.dyn_into::<T>()
}

/// Caches every file of build `build`'s shell; the new worker waits until all are in.
#[wasm_bindgen]
pub async fn install(build: String) -> Result<(), JsValue> {
    let scope = scope();
    let init = RequestInit::new();
    init.set_cache(RequestCache::NoStore);
    let listing: Response = wait(scope.fetch_with_str_and_init("/shell.json", &init)).await?;
    if !listing.ok() {
        return Err(JsValue::from_str("the shell listing /shell.json is missing"));
    }
    let listing = JSON::parse(&JsFuture::from(listing.text()?).await?.as_string().unwrap_or_default())?;
    let files: Array = Reflect::get(&listing, &JsValue::from_str("files"))?.dyn_into()?;
    let cache: Cache = wait(scope.caches()?.open(&format!("{CACHE_PREFIX}{build}"))).await?;
    JsFuture::from(cache.add_all_with_str_sequence(&files)).await?;
    Ok(())
}

/// Deletes the shells of other builds once this one is in charge.
#[wasm_bindgen]
pub async fn activate(build: String) -> Result<(), JsValue> {
    let caches = scope().caches()?;
    let names: Array = wait(caches.keys()).await?;
    let current = format!("{CACHE_PREFIX}{build}");
    for name in names.iter().filter_map(|n| n.as_string()) {
        if name.starts_with(CACHE_PREFIX) && name != current {
            JsFuture::from(caches.delete(&name)).await?;
        }
    }
    Ok(())
}

/// Answers a same-origin GET that is not an API call.
#[wasm_bindgen]
pub async fn respond(request: Request) -> Result<Response, JsValue> {
    let scope = scope();
    let caches = scope.caches()?;
    if request.mode() == web_sys::RequestMode::Navigate {
        // A page: the freshest one when online; the cached shell (the app routes itself)
        // when not.
        return match wait::<Response>(scope.fetch_with_request(&request)).await {
            Ok(response) => Ok(response),
            Err(offline) => match cached(&caches, &JsValue::from_str("/")).await? {
                Some(shell) => Ok(shell),
                None => Err(offline),
            },
        };
    }
    if let Some(response) = cached(&caches, request.as_ref()).await? {
        return Ok(response);
    }
    wait(scope.fetch_with_request(&request)).await
}

async fn cached(caches: &web_sys::CacheStorage, key: &JsValue) -> Result<Option<Response>, JsValue> {
    let found = match key.as_string() {
        Some(url) => JsFuture::from(caches.match_with_str(&url)).await?,
        None => JsFuture::from(caches.match_with_request(key.unchecked_ref())).await?,
    };
    Ok(found.dyn_into::<Response>().ok())
}

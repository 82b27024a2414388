// The BMMS service worker. Its logic is Rust (sw/, built by trunk as bmms-sw.js and
// bmms-sw_bg.wasm); this file only connects it to the browser. A service worker must add
// its listeners during this first, synchronous evaluation, while the wasm loads
// asynchronously, so every listener waits for `started`.
//
// scripts/build-app replaces the build id below, so that each new build of the app is a
// new service worker to the browser, which then installs the new shell beside the old.
const BUILD = "__BMMS_BUILD__";

importScripts("/bmms-sw.js");
// The worker's own fetches bypass its fetch handler, so with no network its wasm must come
// from this build's shell cache (a browser restart offline would otherwise leave it
// without logic); only this build's, never an older one's next to this script.
const started = caches
  .open(`bmms-shell-${BUILD}`)
  .then((cache) => cache.match("/bmms-sw_bg.wasm"))
  .catch(() => undefined)
  .then((cached) => wasm_bindgen({ module_or_path: cached ?? "/bmms-sw_bg.wasm" }));

self.addEventListener("install", (event) => {
  event.waitUntil(started.then(() => wasm_bindgen.install(BUILD)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(started.then(() => wasm_bindgen.activate(BUILD)));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  // API calls, the desk build (online only) and other origins go to the network untouched.
  if (event.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")
      || url.pathname.startsWith("/desk/")) {
    return;
  }
  // Should the worker's wasm fail to start, pages still load from the network.
  event.respondWith(started.then(() => wasm_bindgen.respond(event.request), () => fetch(event.request)));
});

// The officer chose to update: this waiting version takes over (the page then reloads).
self.addEventListener("message", (event) => {
  if (event.data?.type === "skip-waiting") self.skipWaiting();
});

// Background Sync (the network is back) and Periodic Background Sync (now and then, on an
// installed app). A window of BMMS in view syncs itself: the worker only wakes it.
// Otherwise the worker sends what the app left for it (sw/src/background.rs): the
// request of its outbox, holding the lock the app takes for its own exchanges, then the
// photos, one at a time, until a window comes into view.
async function windowsInView() {
  const windows = await self.clients.matchAll({ type: "window" });
  return windows.filter((client) => client.visibilityState === "visible");
}

async function syncInBackground() {
  const inView = await windowsInView();
  if (inView.length > 0) {
    for (const client of inView) client.postMessage({ type: "sync" });
    return;
  }
  await started;
  const send = () => wasm_bindgen.send_records();
  await (navigator.locks ? navigator.locks.request("bmms-background", send) : send());
  for (const name of await wasm_bindgen.photos_to_send()) {
    if ((await windowsInView()).length > 0) return;
    await wasm_bindgen.send_photo(name);
  }
}

for (const type of ["sync", "periodicsync"]) {
  self.addEventListener(type, (event) => {
    if (event.tag === "bmms-outbox") event.waitUntil(syncInBackground());
  });
}

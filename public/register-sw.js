// Installs the service worker, which keeps the app shell so BMMS opens with no network,
// and connects it to the app (app/src/browser.rs):
// - a new version waits until the officer chooses to update: `bmms-update-ready` is
//   dispatched on window (and window.bmmsUpdateReady set), and window.bmmsApplyUpdate()
//   lets it take over and reloads. Edits live in IndexedDB, so an update loses none.
// - window.bmmsRequestBackgroundSync() asks the browser, where it has Background Sync, to
//   wake the service worker when the network returns, and, where it has Periodic
//   Background Sync (an installed app), now and then too. The worker then tells the window
//   in view, which receives `bmms-sync` and syncs, or with none in view sends what the
//   app left for it (sw/src/background.rs).
if ("serviceWorker" in navigator) {
  let reloadOnChange = false;
  const announce = () => {
    window.bmmsUpdateReady = true;
    window.dispatchEvent(new Event("bmms-update-ready"));
  };
  window.addEventListener("load", async () => {
    let registration;
    try {
      registration = await navigator.serviceWorker.register("/sw.js");
    } catch (err) {
      console.warn("BMMS could not install its offline support:", err);
      return;
    }
    // Only a worker that would replace a running one waits; the very first one starts at once.
    if (registration.waiting && navigator.serviceWorker.controller) announce();
    registration.addEventListener("updatefound", () => {
      const incoming = registration.installing;
      incoming?.addEventListener("statechange", () => {
        if (incoming.state === "installed" && navigator.serviceWorker.controller) announce();
      });
    });
    window.bmmsApplyUpdate = () => {
      if (!registration.waiting) return;
      reloadOnChange = true;
      registration.waiting.postMessage({ type: "skip-waiting" });
    };
    window.bmmsRequestBackgroundSync = () => {
      registration.sync?.register("bmms-outbox").catch(() => {});
      // The browser decides how often (and whether: it asks for an installed app); twelve
      // hours at the least keeps a phone's battery.
      registration.periodicSync?.register("bmms-outbox", { minInterval: 12 * 60 * 60 * 1000 }).catch(() => {});
    };
  });
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloadOnChange) window.location.reload();
  });
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "sync") window.dispatchEvent(new Event("bmms-sync"));
  });
}

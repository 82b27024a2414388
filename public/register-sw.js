// Installs the service worker, which keeps the app shell so BMMS opens with no network.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch((err) => {
      console.warn("BMMS could not install its offline support:", err);
    });
  });
}

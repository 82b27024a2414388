// Sync with the app closed (issue 18): an officer edits an assessment and takes a photo
// where the server cannot be reached, and closes BMMS. When the network returns, the
// browser wakes the service worker (Background Sync; here through the DevTools protocol,
// which dispatches the same event), and the worker sends the edit and the photo with no
// window of BMMS open. Opened again, even with the server out of reach, the app counts the
// edit and the photo as sent: it took the answer the worker kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld, launchProfile, firstVisit, eventually, reverseProxy } from "./harness.mjs";
import { setField, assessAt, cameraPhoto, openTab, syncNow } from "./pages.mjs";

const world = testWorld();

const LAMITAN = ["Basilan", "City of Lamitan", "Arco", "1900702001"];

/** A reverse proxy on loopback in front of `upstream`; while `down`, calls to the API
 * fail as with no signal (the connection drops), and the app's own files still load. */
async function patchyProxy(upstream) {
  // The size of each sync request's body that reached the server, in order.
  const state = { down: false, syncs: [] };
  const proxy = await reverseProxy(upstream, (incoming, body) => {
    if (state.down && incoming.url.startsWith("/api/")) {
      incoming.socket.destroy();
      return true;
    }
    if (incoming.url.startsWith("/api/v1/sync")) state.syncs.push(body.length);
    return false;
  });
  return { ...proxy, state };
}

/** Dispatches the Background Sync event `tag` to the service worker of `origin`, as the
 * browser does when the network returns. */
async function wakeServiceWorker(context, origin, tag) {
  const blank = await context.newPage();
  const devtools = await context.newCDPSession(blank);
  const registered = new Promise((resolve) => devtools.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
    const ours = registrations.find((r) => r.scopeURL.startsWith(origin) && !r.isDeleted);
    if (ours) resolve(ours.registrationId);
  }));
  await devtools.send("ServiceWorker.enable");
  const registrationId = await registered;
  await devtools.send("ServiceWorker.dispatchSyncEvent", { origin, registrationId, tag, lastChance: false });
  return blank;
}

test("edits and photos left on a closed app go out when the network returns, and count as sent when it opens", async () => {
  const password = world.bmms.createUser("MILG", "rahima.officer", "field_officer", "Rahima Officer");
  const proxy = await patchyProxy(world.bmms.url);
  const context = await launchProfile(world.newProfileDir());
  try {
    let page = await firstVisit(context, proxy.url, "rahima.officer", password);
    const photo = await cameraPhoto(page, 800, 600);
    proxy.state.down = true;
    await assessAt(page, LAMITAN);
    await setField(page, "Households", "47");
    const photos = page.locator("fieldset.photos");
    await photos.getByLabel("Take a photo").setInputFiles({ name: "IMG_0002.jpg", mimeType: "image/jpeg", buffer: photo });
    await photos.getByRole("status").filter({ hasText: "Photo saved on this phone" }).waitFor();
    await page.getByRole("button", { name: "Sync now" }).click();
    // The sync failed; the app says the edits go out by themselves, once it has left them
    // for the service worker.
    await page.locator("#when-sent").filter({ hasText: "even with BMMS closed" }).waitFor();

    const blank = await context.newPage();
    await page.close();
    proxy.state.down = false;
    const syncsBefore = proxy.state.syncs.length;
    await (await wakeServiceWorker(context, proxy.url, "bmms-outbox")).close();

    // Their supervisor's view of the organization.
    const supervisor = world.bmms.createUser("MILG", "omar.supervisor", "supervisor", "Omar Supervisor");
    const api = await world.bmms.apiAs("omar.supervisor", supervisor);
    const [sent] = await eventually(async () => {
      const rows = await api("/api/v1/assessments/export?format=json");
      return rows.length > 0 && rows;
    }, "the assessment reached the server");
    assert.equal(proxy.state.syncs.length, syncsBefore + 1, "the worker sent the edits in one exchange");
    const carried = proxy.state.syncs[syncsBefore];
    assert.ok(carried >= 200, `the worker's request carried the edits (${carried} bytes)`);
    assert.equal(sent.households, 47);
    assert.equal(sent.photos.length, 1, "the record names its photo");
    const photoPath = sent.photos[0].slice(sent.photos[0].indexOf("/api/v1/photos/"));
    await eventually(async () => (await api.status(photoPath)) === 200, "the photo reached the server whole");

    // Opened again with the server out of reach: the edits count as sent all the same.
    proxy.state.down = true;
    page = await context.newPage();
    await page.goto(proxy.url);
    await page.getByRole("heading", { name: /Signed in as/ }).waitFor();
    await openTab(page, "Assessments");
    await page.locator("ul.records li").filter({ hasText: "Arco" }).locator(".badge.synced").waitFor();
    await page.locator("#pending").filter({ hasText: "Everything is synced." }).waitFor();
    await page.locator("#photos-waiting").waitFor({ state: "detached" });
    assert.equal(await page.locator("#when-sent").count(), 0, "nothing is said to wait");

    // With the server back, nothing goes out again: the next sync only asks for news.
    proxy.state.down = false;
    const reopened = proxy.state.syncs.length;
    await syncNow(page);
    const after = proxy.state.syncs.slice(reopened);
    assert.ok(after.length > 0 && after.every((bytes) => bytes < 200), `sync bodies after reopening: ${after.join(", ")} bytes`);
    await blank.close();
  } finally {
    await context.close();
    proxy.close();
  }
});

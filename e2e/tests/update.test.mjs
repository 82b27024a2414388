// A new version of the app arrives while the officer has edits that have not synced:
// the new service worker waits, the app says an update is ready, and after updating
// the edits are still on the device and sync.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBmms, launchProfile, firstVisit, artifacts } from "./harness.mjs";

let bmms;
const dist = mkdtempSync(join(tmpdir(), "bmms-e2e-dist-"));
const profile = mkdtempSync(join(tmpdir(), "bmms-e2e-profile-"));

before(async () => {
  // A copy of the built app, so that a "new version" can be published during the test.
  cpSync("../dist", dist, { recursive: true });
  bmms = await startBmms({ distDir: dist });
});

after(async () => {
  await bmms?.stop();
  rmSync(dist, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
});

/** Publishes a new build: a service worker with another build id. */
function publishNewVersion() {
  const sw = readFileSync(join(dist, "sw.js"), "utf8");
  writeFileSync(join(dist, "sw.js"), sw.replace(/const BUILD = "([^"]+)"/, 'const BUILD = "$1-next"'));
  rmSync(join(dist, "sw.js.br"), { force: true });
  rmSync(join(dist, "sw.js.gz"), { force: true });
}

test("an update that arrives while edits wait loses none of them", async () => {
  const password = bmms.createUser("MILG", "nasser.officer", "field_officer", "Nasser Ampatuan");
  const context = await launchProfile(profile);
  const page = await firstVisit(context, bmms.url, "nasser.officer", password);

  // The server cannot be reached for sync (a captive portal, say): edits stay on the device.
  await page.route("**/api/v1/sync", (route) => route.abort());
  await page.getByRole("navigation").getByRole("button", { name: "Assessments", exact: true }).click();
  await page.getByRole("button", { name: "New assessment" }).click();
  const community = page.getByLabel("Community (barangay)", { exact: true });
  await community.fill("Datu Piang");
  await community.press("Tab");
  await page.getByText("Saved on this device.").waitFor();
  await page.locator("#pending").filter({ hasText: "waiting to sync" }).waitFor();

  publishNewVersion();
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await page.getByRole("status").filter({ hasText: "A new version of BMMS is ready" }).waitFor();
  await page.screenshot({ path: `${artifacts}update-ready.png` });
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Update now" }).click()]);

  await page.getByRole("heading", { name: "Signed in as Nasser Ampatuan" }).waitFor();
  const waiting = await page.evaluate(async () => Boolean((await navigator.serviceWorker.getRegistration()).waiting));
  assert.equal(waiting, false, "the new version took over");
  const shells = await page.evaluate(() => caches.keys());
  assert.equal(shells.length, 1, `one shell cache: ${shells}`);
  assert.match(shells[0], /-next$/, "the new version's shell is the one kept");
  await page.getByRole("navigation").getByRole("button", { name: "Assessments", exact: true }).click();
  assert.match(await page.getByRole("button", { name: /Datu Piang/ }).innerText(), /waiting to sync/);

  await page.unroute("**/api/v1/sync");
  await page.getByRole("button", { name: "Sync now" }).click();
  await page.locator("#pending").filter({ hasText: "Everything is synced." }).waitFor();
  const api = await bmms.apiAs("nasser.officer", password);
  const assessments = (await api("/api/v1/assessments")).items.filter((a) => a.community === "Datu Piang");
  assert.equal(assessments.length, 1);
  await context.close();
});

// The field officer's day with no signal: sign in once online, then capture and edit with
// the network gone, across a reload and a browser restart, and see it all reach the
// server, once, when the signal returns, without a tap. Also: a session that ends while
// offline, and a record the server refuses that the officer fixes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld, launchProfile, firstVisit, artifacts } from "./harness.mjs";
import { synced, setField, goOffline, openTab } from "./pages.mjs";

const world = testWorld();
const newProfileDir = () => world.newProfileDir();

test("edits made offline survive a reload and a browser restart, then sync once by themselves", async () => {
  const password = world.bmms.createUser("MILG", "amina.officer", "field_officer", "Amina Datu");
  // Her supervisor hands her a task at the desk, to be worked on offline.
  const supervisorPassword = world.bmms.createUser("MILG", "omar.supervisor", "supervisor", "Omar Supervisor");
  const desk = await world.bmms.apiAs("omar.supervisor", supervisorPassword);
  await desk("/api/v1/tasks", {
    title: "Check the Tamontaka water system", ppa: "Water for all", site: "Tamontaka", due_date: "2030-01-31",
    assignee: "amina.officer",
  });
  const dir = newProfileDir();
  let context = await launchProfile(dir);
  let page = await firstVisit(context, world.bmms.url, "amina.officer", password);
  await openTab(page, "Tasks");
  assert.equal(await page.getByRole("button", { name: "New task" }).count(), 0, "only a supervisor creates tasks");
  await page.getByRole("button", { name: /Check the Tamontaka water system/ }).waitFor();

  await goOffline(context, page);
  await openTab(page, "Assessments");
  await page.getByRole("button", { name: "New assessment" }).click();
  await setField(page, "Community (barangay)", "Tamontaka");
  await setField(page, "Municipality", "Cotabato City");
  await setField(page, "Households", "120");
  await page.locator("#pending").filter({ hasText: "waiting to sync" }).waitFor();

  await openTab(page, "Tasks");
  await page.getByRole("button", { name: /Check the Tamontaka water system/ }).click();
  await setField(page, "Progress (%)", "50");
  await setField(page, "Status", "in_progress");
  await page.screenshot({ path: `${artifacts}offline-task.png` });

  // A reload with no network: the app and the edits are there.
  await page.reload();
  await openTab(page, "Assessments");
  const assessment = page.getByRole("button", { name: /Tamontaka/ });
  await assessment.waitFor();
  assert.match(await assessment.innerText(), /Saved on this device, waiting to sync/);
  assert.match(await page.locator("#network").innerText(), /Offline/);

  // The browser is closed and opened again on the same profile, still offline.
  await context.close();
  context = await launchProfile(dir);
  await context.setOffline(true);
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(world.bmms.url);
  await page.getByRole("heading", { name: "Signed in as Amina Datu" }).waitFor();
  await openTab(page, "Assessments");
  await page.getByRole("button", { name: /Tamontaka/ }).click();
  assert.equal(await page.getByLabel("Households", { exact: true }).inputValue(), "120");
  await page.screenshot({ path: `${artifacts}offline-assessment.png` });

  // The signal returns: everything goes out with no click.
  await context.setOffline(false);
  await synced(page);
  assert.match(await page.locator("h1").innerText(), /Synced/);

  const api = await world.bmms.apiAs("amina.officer", password);
  const assessments = await api("/api/v1/assessments");
  assert.equal(assessments.total, 1);
  assert.equal(assessments.items[0].community, "Tamontaka");
  assert.equal(assessments.items[0].municipality, "Cotabato City");
  assert.equal(assessments.items[0].households, 120);
  const tasks = await api("/api/v1/tasks");
  assert.equal(tasks.total, 1);
  assert.equal(tasks.items[0].title, "Check the Tamontaka water system");
  assert.equal(tasks.items[0].progress_percent, 50);
  assert.equal(tasks.items[0].status, "in_progress");
  await context.close();
});

test("a session that ends while offline keeps the edits, which sync after signing in again", async () => {
  let password = world.bmms.createUser("MILG", "bai.officer", "field_officer", "Bai Sarip");
  const context = await launchProfile(newProfileDir());
  const page = await firstVisit(context, world.bmms.url, "bai.officer", password);

  await goOffline(context, page);
  await openTab(page, "Assessments");
  await page.getByRole("button", { name: "New assessment" }).click();
  await setField(page, "Community (barangay)", "Rominimbang");
  // Meanwhile the session ends on the server (here: an administrator resets the password).
  password = world.bmms.resetPassword("bai.officer");

  await context.setOffline(false);
  const again = page.locator("#sign-in-again");
  await again.getByRole("alert").filter({ hasText: "Your session has ended" }).waitFor();
  assert.match(await page.locator("#pending").innerText(), /waiting to sync/);
  await again.getByLabel("Password").fill(password);
  await again.getByRole("button", { name: "Sign in", exact: true }).click();
  await synced(page);

  const api = await world.bmms.apiAs("bai.officer", password);
  const assessments = (await api("/api/v1/assessments")).items.filter((a) => a.community === "Rominimbang");
  assert.equal(assessments.length, 1);
  await context.close();
});

test("a record the server refuses shows why, and goes through once the officer fixes it", async () => {
  const password = world.bmms.createUser("MILG", "omar.officer", "field_officer", "Omar Ali");
  const context = await launchProfile(newProfileDir());
  const page = await firstVisit(context, world.bmms.url, "omar.officer", password);

  await openTab(page, "Assessments");
  await page.getByRole("button", { name: "New assessment" }).click();
  await setField(page, "Community (barangay)", "Kalanganan");
  // Only a supervisor may validate an assessment: the app does not offer it to an officer,
  // and the server refuses it from an app that does (an older build, say), with the reason.
  const status = page.getByLabel("Status", { exact: true });
  assert.equal(await status.locator("option[value=validated]").isDisabled(), true, "the app does not offer it");
  const saves = await page.evaluate(() => performance.getEntriesByName("bmms-save").length);
  await status.evaluate((select) => {
    select.value = "validated";
    select.dispatchEvent(new Event("change", { bubbles: true }));
  });
  await page.waitForFunction((n) => performance.getEntriesByName("bmms-save").length > n, saves);
  await page.locator("#refusal-reason").filter({ hasText: "Only a supervisor can mark an assessment validated" }).waitFor();
  assert.match(await page.locator("h1").innerText(), /Refused by the server/);
  await page.screenshot({ path: `${artifacts}refused-record.png` });

  await setField(page, "Status", "submitted");
  await synced(page);
  assert.match(await page.locator("h1").innerText(), /Synced/);
  const api = await world.bmms.apiAs("omar.officer", password);
  const assessments = (await api("/api/v1/assessments")).items.filter((a) => a.community === "Kalanganan");
  assert.equal(assessments.length, 1);
  assert.equal(assessments[0].status, "submitted");
  await context.close();
});

test("a second window of the app on the same device stays out of the records", async () => {
  const password = world.bmms.createUser("MILG", "farida.officer", "field_officer", "Farida Usman");
  const context = await launchProfile(newProfileDir());
  const page = await firstVisit(context, world.bmms.url, "farida.officer", password);

  const second = await context.newPage();
  await second.goto(world.bmms.url);
  await second.getByRole("alert").filter({ hasText: "BMMS is already open in another window" }).waitFor();
  assert.equal(await second.getByRole("button", { name: "New assessment" }).count(), 0);

  // Once the first window is closed, the other one works after a reload.
  await page.close();
  await second.reload();
  await second.getByRole("heading", { name: "Signed in as Farida Usman" }).waitFor();
  await context.close();
});

test("records kept by the previous version of the app's storage open after the upgrade", async () => {
  const password = world.bmms.createUser("MILG", "hadji.officer", "field_officer", "Hadji Lim");
  const context = await launchProfile(newProfileDir());
  const page = await firstVisit(context, world.bmms.url, "hadji.officer", password);
  await goOffline(context, page);
  await openTab(page, "Assessments");
  await page.getByRole("button", { name: "New assessment" }).click();
  await setField(page, "Community (barangay)", "Kakar");

  // Away from the app (its connection closes), the device's storage is put back as
  // version 1 of the app kept it: the same records and device entries, no summaries, and
  // no note of the sync protocol its cursor was read with (an app of protocol 1 kept none:
  // this one then reads the change log again, with the same identity and outbox).
  await page.goto(`${world.bmms.url}/manifest.webmanifest`);
  await page.evaluate(async () => {
    const request = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    const open = (version, upgrade) => {
      const r = indexedDB.open("bmms", version);
      if (upgrade) r.onupgradeneeded = () => upgrade(r.result);
      return request(r);
    };
    const current = await open();
    const kept = {};
    for (const store of ["records", "device"]) {
      const tx = current.transaction(store);
      kept[store] = { keys: await request(tx.objectStore(store).getAllKeys()), values: await request(tx.objectStore(store).getAll()) };
      const at = kept[store].keys.indexOf("cursor_protocol");
      if (at >= 0) {
        kept[store].keys.splice(at, 1);
        kept[store].values.splice(at, 1);
      }
    }
    current.close();
    await request(indexedDB.deleteDatabase("bmms"));
    const old = await open(1, (db) => { db.createObjectStore("records"); db.createObjectStore("device"); });
    const tx = old.transaction(["records", "device"], "readwrite");
    for (const [store, { keys, values }] of Object.entries(kept)) {
      keys.forEach((key, i) => tx.objectStore(store).put(values[i], key));
    }
    await new Promise((resolve) => { tx.oncomplete = resolve; });
    old.close();
  });

  await page.goto(world.bmms.url);
  await page.getByRole("heading", { name: "Signed in as Hadji Lim" }).waitFor();
  await openTab(page, "Assessments");
  const record = page.getByRole("button", { name: /Kakar/ });
  await record.waitFor();
  assert.match(await record.innerText(), /Saved on this device, waiting to sync/);
  await context.setOffline(false);
  await synced(page);
  const api = await world.bmms.apiAs("hadji.officer", password);
  assert.equal((await api("/api/v1/assessments")).items.filter((a) => a.community === "Kakar").length, 1);
  await context.close();
});

// A field officer signs in, sees who they are, and signs out; the app opens again with
// the server gone, from what the service worker kept.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBmms, launchBrowser, launchProfile, artifacts } from "./harness.mjs";

let bmms;
let browser;

before(async () => {
  bmms = await startBmms();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await bmms?.stop();
});

test("an officer signs in, sees their organization and role, and signs out", async () => {
  const password = bmms.createUser("MILG", "amina.officer", "field_officer", "Amina Datu");
  const page = await browser.newPage();
  await page.goto(bmms.url);

  await page.getByLabel("Username").fill("amina.officer");
  await page.getByLabel("Password").fill("not her password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "The username or password is not correct." }).waitFor();

  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Signed in as Amina Datu" }).waitFor();
  assert.match(await page.locator("#organization").innerText(), /MILG — Ministry of the Interior and Local Government/);
  assert.equal(await page.locator("#role").innerText(), "Field officer");
  await page.screenshot({ path: `${artifacts}signed-in.png` });

  // The session survives a reload: it lives on the server, not in the page.
  await page.reload();
  await page.getByRole("heading", { name: "Signed in as Amina Datu" }).waitFor();

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
  await page.reload();
  await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
  await page.close();
});

test("Chromium finds the app installable", async () => {
  // A real profile: Chromium never offers to install from an incognito context.
  const profile = mkdtempSync(join(tmpdir(), "bmms-e2e-profile-"));
  const context = await launchProfile(profile);
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(bmms.url);
  await page.evaluate(() => navigator.serviceWorker.ready);
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  assert.deepEqual(installabilityErrors, []);
  const { url } = await cdp.send("Page.getAppManifest");
  assert.match(url, /\/manifest\.webmanifest$/);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
});

test("after one visit the app opens with the server unreachable", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(bmms.url);
  await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
  // Wait until the service worker has cached the shell and controls the page.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  assert.equal(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), true);

  await bmms.stop();
  await page.reload();
  await page.locator("header.bar").filter({ hasText: "BMMS" }).waitFor();
  await page.getByRole("alert").filter({ hasText: "Cannot reach the BMMS server" }).waitFor();
  await page.screenshot({ path: `${artifacts}offline-shell.png` });
  await context.close();
});

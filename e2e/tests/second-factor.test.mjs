// Second factors as people meet them, with the operator's default policy: an
// organization's administrator is walked through setting up an authenticator app at
// their first sign-in, saves their recovery codes, signs in with a code afterwards, and
// is asked to confirm it is them before a sensitive action once their last code is
// older than 15 minutes. The authenticator app is otpauth's TOTP, fed the key the
// screen shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { testWorld, docImages } from "./harness.mjs";
import { synced, setField, goOffline, openTab, authenticator, setUpAuthenticatorApp } from "./pages.mjs";

const world = testWorld({ desktop: true, mfaRoles: "default" });

/** Makes every session's last second factor an hour old, as if the person had worked on. */
function anHourLater() {
  const sql = "update sessions set data = jsonb_set(data, '{auth,second_factor_at}', to_jsonb(extract(epoch from now())::bigint - 3600)) where data ? 'auth'";
  execFileSync("psql", [world.bmms.env.DATABASE_URL, "-q", "-c", sql]);
}

test("an administrator sets up an authenticator app, signs in with it, and confirms it is them before an export", async () => {
  const password = world.bmms.createUser("MOH", "hamid.head", "org_admin", "Hamid Head");
  const context = await world.desktop.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${world.bmms.url}/desk/`);
  await page.getByLabel("Username").fill("hamid.head");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();

  // Walked through setting up: the QR code drawn by BMMS, and the key to type instead.
  await page.getByRole("heading", { name: "Set up a second factor" }).waitFor();
  await page.locator(".qr svg").waitFor();
  await page.screenshot({ path: `${docImages}second-factor-set-up.png` });
  const phone = authenticator(await page.locator("#totp-secret").innerText());
  await page.getByLabel("Then type the six-digit code the app shows:").fill("000000");
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByRole("alert").filter({ hasText: "That is not the code the app shows now" }).waitFor();
  await page.getByLabel("Then type the six-digit code the app shows:").fill(phone.code());
  await page.getByRole("button", { name: "Confirm" }).click();

  // Ten recovery codes, shown this once.
  await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
  const recoveryCodes = await page.locator("#recovery-codes code").allInnerTexts();
  assert.equal(recoveryCodes.length, 10);
  await page.getByRole("button", { name: "I have saved them: continue" }).click();
  await page.getByRole("heading", { name: "Signed in as Hamid Head" }).waitFor();

  await page.getByRole("button", { name: "Security" }).click();
  await page.locator("#second-factor-state").filter({ hasText: "Authenticator app set up on" }).waitFor();
  assert.equal(await page.locator("#codes-left").innerText(), "Recovery codes left: 10.");

  // An hour on, new recovery codes (a sensitive action) first ask for a code: a recovery code does.
  anHourLater();
  await page.getByRole("button", { name: "New recovery codes" }).click();
  const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
  await dialog.waitFor();
  await dialog.getByLabel("Code").fill(recoveryCodes[0].toUpperCase());
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await page.locator("#step-up-done").waitFor();
  await dialog.waitFor({ state: "detached" });
  await page.getByRole("button", { name: "New recovery codes" }).click();
  await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
  const renewed = await page.locator("#recovery-codes code").allInnerTexts();
  assert.equal(renewed.length, 10);
  assert.ok(!renewed.includes(recoveryCodes[1]), "the old codes are replaced");
  await page.getByRole("button", { name: "I have saved them: continue" }).click();

  // An export of the whole records table asks too, and downloads once confirmed.
  anHourLater();
  await page.getByRole("button", { name: "Records" }).click();
  await page.getByRole("link", { name: "CSV", exact: true }).click();
  await dialog.waitFor();
  await dialog.getByLabel("Code").fill(renewed[0]);
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await page.locator("#step-up-done").waitFor();
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "CSV", exact: true }).click();
  assert.match((await download).suggestedFilename(), /\.csv$/);

  // Signing in again: the password, then a code from the app.
  await page.getByRole("button", { name: "Home" }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Username").fill("hamid.head");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator("#second-factor").waitFor();
  await page.getByLabel("Code").fill(recoveryCodes[0]);
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByRole("alert").filter({ hasText: "used already" }).waitFor();
  await page.getByLabel("Code").fill(phone.code());
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByRole("heading", { name: "Signed in as Hamid Head" }).waitFor();
  await context.close();
});

test("an officer who chose an authenticator app and whose session ended offline signs in with a code, and the edits sync", async () => {
  // A field officer's role needs no second factor; this one set one up on the Security tab.
  const { context, page, password } = await world.officerPhone("MILG", "bai.officer", "Bai Sarip");
  await openTab(page, "Security");
  await page.locator("#second-factor-state").filter({ hasText: "No authenticator app is set up" }).waitFor();
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  const { phone } = await setUpAuthenticatorApp(page);
  await page.locator("#second-factor-state").filter({ hasText: "Authenticator app set up on" }).waitFor();

  await goOffline(context, page);
  await openTab(page, "Assessments");
  await page.getByRole("button", { name: "New assessment" }).click();
  await setField(page, "Community (barangay)", "Tapayan");
  // Meanwhile the session ends on the server (an administrator resets the password).
  const newPassword = world.bmms.resetPassword("bai.officer");
  assert.notEqual(newPassword, password);

  await context.setOffline(false);
  const again = page.locator("#sign-in-again");
  await again.getByRole("alert").filter({ hasText: "Your session has ended" }).waitFor();
  await again.getByLabel("Password").fill(newPassword);
  await again.getByRole("button", { name: "Sign in", exact: true }).click();
  await again.getByLabel("Code").fill(phone.code());
  await again.getByRole("button", { name: "Confirm" }).click();
  await synced(page);

  // The assessment reached the server, every change of it under Bai's name.
  const rows = execFileSync("psql", [world.bmms.env.DATABASE_URL, "-tA", "-c",
    `select distinct u.username from change_log c join users u on u.id = c.user_id
     join mana_assessments a on a.org_id = c.org_id and a.id = c.doc_id where a.community = 'Tapayan'`], { encoding: "utf8" });
  assert.equal(rows.trim(), "bai.officer");
  await context.close();
});

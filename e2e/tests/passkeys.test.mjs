// Passkeys as people meet them, with Chromium's virtual authenticator (DevTools'
// WebAuthn domain) standing in for a laptop's screen lock: an organization's
// administrator adds a passkey as the second factor their role needs at first sign-in,
// signs in with the passkey alone (no username), signs in with password and passkey,
// confirms it is them with the passkey before a sensitive action, renames it, cannot
// remove their only second factor, and once it is removed the passkey signs nobody in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { testWorld, docImages } from "./harness.mjs";
import { setUpAuthenticatorApp } from "./pages.mjs";

const world = testWorld({ desktop: true, mfaRoles: "default" });

/** Makes every session's last second factor an hour old, as if the person had worked on. */
function anHourLater() {
  const sql = "update sessions set data = jsonb_set(data, '{auth,second_factor_at}', to_jsonb(extract(epoch from now())::bigint - 3600)) where data ? 'auth'";
  execFileSync("psql", [world.bmms.env.DATABASE_URL, "-q", "-c", sql]);
}

/** A passkey store like a laptop's, whose screen lock verifies its owner at once. */
async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials };
}

test("an administrator adds a passkey at first sign-in, signs in with it alone, confirms with it, and removes it", async () => {
  const password = world.bmms.createUser("MOH", "olive.admin", "org_admin", "Olive Ampatuan");
  const context = await world.desktop.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const laptop = await virtualAuthenticator(page);
  await page.goto(`${world.bmms.url}/desk/`);
  await page.getByLabel("Username").fill("olive.admin");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();

  // The role needs a second factor: a passkey, named, with recovery codes beside it.
  await page.getByRole("heading", { name: "Set up a second factor" }).waitFor();
  await page.getByLabel("Name (to know it in your list)").fill("Work laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
  assert.equal((await page.locator("#recovery-codes code").allInnerTexts()).length, 10);
  await page.getByRole("button", { name: "I have saved them: continue" }).click();
  await page.getByRole("heading", { name: "Signed in as Olive Ampatuan" }).waitFor();
  const [credential] = await laptop.credentials();
  assert.ok(credential.isResidentCredential, "the passkey is discoverable: it signs in without a username");

  // Signed out, the passkey alone signs in: no username, no password.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.getByRole("heading", { name: "Signed in as Olive Ampatuan" }).waitFor();

  // Or the password, then the passkey as the second factor.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Username").fill("olive.admin");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("button", { name: "Use your passkey" }).click();
  await page.getByRole("heading", { name: "Signed in as Olive Ampatuan" }).waitFor();

  // The Security tab lists it: renamed here.
  await page.getByRole("button", { name: "Security" }).click();
  const listed = page.locator("#passkeys li");
  await listed.filter({ hasText: "Work laptop" }).filter({ hasText: "last used" }).waitFor();
  await listed.getByRole("button", { name: "Rename" }).click();
  await listed.getByRole("textbox").fill("Office laptop");
  await listed.getByRole("button", { name: "Save" }).click();
  await listed.filter({ hasText: "Office laptop" }).waitFor();
  await page.screenshot({ path: `${docImages}security-passkeys.png` });

  // An hour on, new recovery codes (a sensitive action) ask for the passkey first.
  anHourLater();
  await page.getByRole("button", { name: "New recovery codes" }).click();
  const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
  await dialog.getByRole("button", { name: "Use your passkey" }).click();
  await page.locator("#step-up-done").waitFor();
  await dialog.waitFor({ state: "detached" });
  await page.getByRole("button", { name: "New recovery codes" }).click();
  await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
  await page.getByRole("button", { name: "I have saved them: continue" }).click();

  // The only second factor of a role that needs one stays; with an authenticator app beside it, it goes.
  await listed.getByRole("button", { name: "Remove" }).click();
  await page.getByRole("status").filter({ hasText: "this passkey is your only one" }).waitFor();
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await setUpAuthenticatorApp(page);
  await listed.getByRole("button", { name: "Remove" }).click();
  await page.locator("#no-passkeys").waitFor();

  // The laptop still holds the passkey, but BMMS no longer takes it.
  await page.getByRole("button", { name: "Home" }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.getByRole("alert").filter({ hasText: "That passkey was not accepted" }).waitFor();
  await context.close();
});

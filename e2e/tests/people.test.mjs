// An organization's administrator manages its people at the desk: adds a field officer,
// who opens the set-up link on their phone, chooses a password and signs in; then
// changes the officer's role and disables them, and finds all of it in the audit log. The operator's default second-factor
// policy is on: the administrator set up an authenticator app at sign-in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld, docImages } from "./harness.mjs";
import { openTab, setUpAuthenticatorApp } from "./pages.mjs";

const world = testWorld({ desktop: true, mfaRoles: "default" });

/** The row of `username` in the People table. */
const row = (page, username) => page.locator(`#people-table tr[data-username="${username}"]`);

test("an administrator adds an officer who chooses a password from the link, then changes and disables them", async () => {
  const password = world.bmms.createUser("MOH", "hamid.head", "org_admin", "Hamid Head");
  const desk = await world.desktop.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await desk.newPage();
  await page.goto(`${world.bmms.url}/desk/`);
  await page.getByLabel("Username").fill("hamid.head");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await setUpAuthenticatorApp(page);
  await page.getByRole("heading", { name: "Signed in as Hamid Head" }).waitFor();

  await openTab(page, "People");
  await row(page, "hamid.head").waitFor();
  const form = page.locator("#new-person");
  await form.getByLabel("Username").fill("bai sarip");
  await form.getByLabel("Name", { exact: true }).fill("Bai Sarip");
  await form.getByRole("button", { name: "Add" }).click();
  await form.getByRole("alert").filter({ hasText: "A username is 3 to 64 lowercase letters" }).waitFor();
  await form.getByLabel("Username").fill("bai.sarip");
  await form.getByLabel("Role").selectOption({ label: "Field officer" });
  await form.getByRole("button", { name: "Add" }).click();
  const link = await page.locator("#set-up-link code").innerText();
  assert.match(link, /\/#set-up=[0-9a-f]{64}$/);
  assert.equal(await row(page, "bai.sarip").locator("td").nth(1).innerText(), "Waiting to choose a password");
  await page.screenshot({ path: `${docImages}people.png` });

  // On the officer's phone: the link, a password of their own, and signing in with it.
  const phone = await world.desktop.newContext({ viewport: { width: 360, height: 640 } });
  const officer = await phone.newPage();
  await officer.goto(link);
  await officer.getByRole("heading", { name: "Choose your password" }).waitFor();
  await officer.getByLabel("New password").fill("my own long password");
  await officer.getByRole("button", { name: "Set my password" }).click();
  await officer.locator("#password-chosen").filter({ hasText: "Sign in now as bai.sarip" }).waitFor();
  await officer.getByLabel("Username").fill("bai.sarip");
  await officer.getByLabel("Password").fill("my own long password");
  await officer.getByRole("button", { name: "Sign in", exact: true }).click();
  await officer.getByRole("heading", { name: "Signed in as Bai Sarip" }).waitFor();

  // Back at the desk: Bai is active and signed in; a new role, then disabled.
  await openTab(page, "Home");
  await openTab(page, "People");
  const bai = row(page, "bai.sarip");
  await bai.locator("td").nth(1).filter({ hasText: "Active" }).waitFor();
  assert.equal(await bai.locator("td").nth(3).innerText(), "1");
  await bai.getByLabel("Role").selectOption({ label: "Supervisor" });
  await page.waitForFunction(() => document.querySelector('#people-table tr[data-username="bai.sarip"] select').value === "supervisor");
  page.once("dialog", (dialog) => dialog.accept());
  await bai.getByRole("button", { name: "Disable" }).click();
  await bai.locator("td").nth(1).filter({ hasText: "Disabled" }).waitFor();
  assert.equal(await bai.locator("td").nth(3).innerText(), "0", "signed out everywhere");
  // The officer's next request finds the session gone.
  await officer.reload();
  await officer.getByRole("button", { name: "Sign in", exact: true }).waitFor();

  // All of it is in the audit log, whose chain checks out.
  await openTab(page, "Audit log");
  await page.locator("#chain-state").filter({ hasText: "checks out" }).waitFor();
  await page.getByLabel("What (or how it starts, e.g. people.)").fill("people.");
  await page.getByLabel("What (or how it starts, e.g. people.)").press("Tab");
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll("#audit-entries tbody tr td:nth-child(4)")];
    return cells.length > 0 && cells.every((cell) => cell.textContent.startsWith("people."));
  });
  const shown = await page.locator("#audit-entries tbody tr td:nth-child(4)").allInnerTexts();
  assert.deepEqual(shown, ["people.disable_user", "people.change_role", "people.create_user"]);
  await page.screenshot({ path: `${docImages}audit-log.png` });
  await desk.close();
  await phone.close();
});

// The system administrator at the desk: adds a ministry, renames it, chooses it on the
// People tab and adds its first administrator there, finds both in that ministry's
// audit log, and deactivates it (OCM, BPDA, MFBM and their own organization cannot be).
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld } from "./harness.mjs";
import { openTab } from "./pages.mjs";

const world = testWorld({ desktop: true });

const organization = (page, code) => page.locator(`#organizations-table tr[data-code="${code}"]`);

test("the system administrator adds a ministry and its administrator, and deactivates it", async () => {
  const password = world.bmms.createUser("BICTO", "rosa.root", "system_admin", "Rosa Root");
  const desk = await world.desktop.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await desk.newPage();
  page.on("dialog", (dialog) => dialog.accept());
  await page.goto(`${world.bmms.url}/desk/`);
  await page.getByLabel("Username").fill("rosa.root");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Signed in as Rosa Root" }).waitFor();

  await openTab(page, "Organizations");
  const form = page.locator("#new-organization");
  await form.getByLabel("Code").fill("mrd");
  await form.getByLabel("Name").fill("Ministry of Rural Development");
  await form.getByRole("button", { name: "Add the organization" }).click();
  const mrd = organization(page, "MRD");
  await mrd.filter({ hasText: "Ministry of Rural Development" }).waitFor();
  await mrd.getByRole("button", { name: "Rename" }).click();
  await mrd.getByRole("textbox").fill("Ministry of Rural Affairs");
  await mrd.getByRole("button", { name: "Save" }).click();
  await mrd.filter({ hasText: "Ministry of Rural Affairs" }).waitFor();
  assert.equal(await organization(page, "OCM").getByRole("button", { name: "Deactivate" }).count(), 0, "OCM always stays");
  assert.equal(await organization(page, "BICTO").getByRole("button", { name: "Deactivate" }).count(), 0, "so does one's own");

  // Its first administrator, from the People tab with the ministry chosen. (The picker is
  // found by name: a select's accessible name carries its chosen option's text.)
  await openTab(page, "People");
  await page.locator(`select[name="organization"]`).selectOption({ label: "MRD — Ministry of Rural Affairs" });
  await page.locator("#people-table tbody tr").first().waitFor({ state: "detached" });
  const person = page.locator("#new-person");
  await person.getByLabel("Username").fill("mrd.admin");
  await person.getByLabel("Name", { exact: true }).fill("Amina Sinsuat");
  await person.getByLabel("Role").selectOption("org_admin");
  await person.getByRole("button", { name: "Add" }).click();
  await page.locator("#set-up-link code").waitFor();
  await page.locator('#people-table tr[data-username="mrd.admin"]').waitFor();
  assert.equal(await page.locator('#people-table tr[data-username="rosa.root"]').count(), 0, "Rosa's own organization is not shown");

  // The ministry's own audit log holds both changes, under Rosa's name.
  await openTab(page, "Audit log");
  const entries = page.locator("#audit-entries tbody");
  await entries.filter({ hasText: "people.create_user" }).waitFor();
  assert.match(await entries.innerText(), /organization\.create/);
  assert.match(await entries.innerText(), /rosa\.root/);

  // Deactivated, after confirming.
  await openTab(page, "Organizations");
  await mrd.getByRole("button", { name: "Deactivate" }).click();
  await mrd.filter({ hasText: "Deactivated" }).getByRole("button", { name: "Reactivate" }).waitFor();
  await desk.close();
});

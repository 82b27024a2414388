// The development plan's framework at the desk: a BPDA planner finds the labelled sample,
// adds a goal with an indicator and its targets, and marks a barangay a priority area (a
// PSGC code that is not BARMM's is refused beside the field); ministry staff then read
// the new goal, without the planner's forms. The screenshot goes to docs/images for the
// planners' guide.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld, atTheDesk as deskUser, docImages as images } from "./harness.mjs";
import { openTab } from "./pages.mjs";

const world = testWorld({ desktop: true });

const atTheDesk = (org, username, role, name) => deskUser(world, org, username, role, name);

test("a BPDA planner adds a goal, an indicator and a priority area, and ministry staff read them", async () => {
  const planner = await atTheDesk("BPDA", "pia.planner", "bpda_planner", "Pia Planner");
  const page = planner.page;
  assert.equal(await page.getByRole("button", { name: "Assessments" }).count(), 0, "BPDA captures no field records");

  await openTab(page, "Development plan");
  await page.locator("#sample-note").waitFor();
  assert.match(await page.locator("#plan-title").innerText(), /Sample/);
  assert.equal(await page.locator("article.goal").count(), 3, "the sample's three goals");

  const goalForm = page.locator("#goal-form");
  await goalForm.getByLabel("Code").fill("G1");
  await goalForm.getByLabel("Title").fill("Peace dividends reach every barangay");
  await goalForm.getByRole("button", { name: "Save" }).click();
  await page.locator('article.goal[data-code="G1"]').waitFor();

  const indicatorForm = page.locator("#indicator-form");
  await indicatorForm.getByLabel("Goal").selectOption({ label: "G1 — Peace dividends reach every barangay" });
  await indicatorForm.getByLabel("Code").fill("G1.1");
  await indicatorForm.getByLabel("Indicator").fill("Barangays with a completed PPA");
  await indicatorForm.getByLabel("Unit").fill("barangays");
  await indicatorForm.getByLabel("Targets").fill("2026: 100, 2028: 300");
  await indicatorForm.getByRole("button", { name: "Save" }).click();
  const indicator = page.locator('article.goal[data-code="G1"] tr[data-code="G1.1"]');
  await indicator.waitFor();
  assert.equal(await indicator.locator("td.targets").innerText(), "2026: 100, 2028: 300");

  // Sulu's code is Region IX's now, not BARMM's: refused, with the reason beside the field.
  const priorityForm = page.locator("#priority-form");
  await priorityForm.getByLabel("PSGC code (10 digits)").fill("0906600000");
  await priorityForm.getByRole("button", { name: "Save" }).click();
  await priorityForm.getByRole("alert").filter({ hasText: "No place of BARMM has the PSGC code" }).waitFor();
  await priorityForm.getByLabel("PSGC code (10 digits)").fill("1908801001");
  await priorityForm.getByLabel("Priority").selectOption("high");
  await priorityForm.getByRole("button", { name: "Save" }).click();
  const dicalongan = page.locator('#priorities tr[data-code="1908801001"]');
  await dicalongan.waitFor();
  assert.match(await dicalongan.innerText(), /Dicalongan[\s\S]*High/);
  await page.screenshot({ path: `${images}planner-development-plan.png`, fullPage: true });

  // The plan's own now: named, and no longer labelled a sample.
  const settingsForm = page.locator("#settings-form");
  await settingsForm.getByLabel("Title").fill("Bangsamoro Development Plan 2023-2028");
  await settingsForm.getByLabel("Still the sample").uncheck();
  await settingsForm.getByRole("button", { name: "Save" }).click();
  await page.locator("#plan-title").filter({ hasText: "Bangsamoro Development Plan 2023-2028" }).waitFor();
  assert.equal(await page.locator("#sample-note").count(), 0);

  const staff = await atTheDesk("MOH", "sam.staff", "ministry_staff", "Sam Staff");
  await openTab(staff.page, "Development plan");
  const read = staff.page.locator('article.goal[data-code="G1"] tr[data-code="G1.1"]');
  await read.waitFor();
  assert.equal(await read.locator("td.targets").innerText(), "2026: 100, 2028: 300");
  assert.equal(await staff.page.locator("#goal-form").count(), 0, "only planners change the plan");
  await planner.context.close();
  await staff.context.close();
});

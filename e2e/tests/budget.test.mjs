// MFBM's budget call at the desk: a ministry's budget staff has the desk open when an MFBM
// budget officer issues the call for 2027; the ministry's tab says at once that there is
// something new, and the call shows the message, the calendar and the ministry's own
// ceiling (not another's). The officer then amends it. The screenshot goes to docs/images
// for the budget guide.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld, atTheDesk as deskUser, docImages as images } from "./harness.mjs";

const world = testWorld({ desktop: true });

const atTheDesk = (org, username, role, name) => deskUser(world, org, username, role, name);

test("MFBM issues the budget call and a ministry sees it at once, with its own ceiling", async () => {
  const mona = await atTheDesk("MOH", "mona.budget", "org_admin", "Mona Budget");
  const mara = await atTheDesk("MFBM", "mara.budget", "mfbm_budget_officer", "Mara Budget");

  await mara.page.locator("#budget-call-tab").click();
  const form = mara.page.locator("#call-form");
  await form.getByRole("heading", { name: "Issue a budget call" }).waitFor();
  await form.locator("#call-year").selectOption("2027");
  await form.getByLabel("Message").fill("Prepare your 2027 budget proposals within the ceilings below.");
  const dates = [
    ["PPA preparation", "2026-02-15"], ["BDP certification", "2026-03-15"], ["Budget submission", "2026-04-30"],
    ["Technical review", "2026-06-15"], ["Executive approval", "2026-07-31"], ["Parliament submission", "2026-09-30"],
  ];
  for (const [stage, due] of dates) {
    await form.getByLabel(stage).fill(due);
  }
  // A ceiling that is not pesos is named, and nothing is sent.
  await form.getByLabel("Ceiling of MOH: total (pesos)").fill("lots");
  await form.getByRole("button", { name: "Issue the call" }).click();
  await form.getByRole("alert").filter({ hasText: "A ceiling of MOH is not an amount in pesos." }).waitFor();
  await form.getByLabel("Ceiling of MOH: total (pesos)").fill("1,500,000,000");
  await form.getByLabel("Ceiling of MOH: CO (pesos)").fill("400,000,000");
  await form.getByLabel("Ceiling of MILG: total (pesos)").fill("800000000");
  await form.getByRole("button", { name: "Issue the call" }).click();
  await mara.page.locator("#call-outcome").filter({ hasText: "The budget call for 2027 is issued." }).waitFor();
  const issued = mara.page.locator('article.budget-call[data-year="2027"]');
  await issued.waitFor();
  assert.match(await issued.locator("table.ceilings").innerText(), /MILG[\s\S]*₱800,000,000\.00[\s\S]*MOH[\s\S]*₱1,500,000,000\.00/);

  // The ministry's desk was open all along: its tab says there is a new call.
  await mona.page.locator("#budget-call-new").filter({ hasText: "1 new" }).waitFor();
  await mona.page.locator("#budget-call-tab").click();
  const call = mona.page.locator('article.budget-call[data-year="2027"]');
  await call.waitFor();
  assert.match(await call.innerText(), /Prepare your 2027 budget proposals/);
  assert.equal(await call.locator('tr[data-stage="budget_submission"] td').innerText(), "2026-04-30");
  assert.match(await call.locator(".our-ceiling").innerText(), /Your indicative ceiling: ₱1,500,000,000\.00[\s\S]*CO ₱400,000,000\.00/);
  assert.doesNotMatch(await call.innerText(), /800,000,000/, "another ministry's ceiling is not shown");
  assert.equal(await mona.page.locator("#call-form").count(), 0, "a ministry reads the call; MFBM issues it");
  await call.screenshot({ path: `${images}budget-call.png` });

  // MFBM amends the calendar; the ministry's open screen follows.
  await form.getByRole("heading", { name: "Amend the budget call for 2027" }).waitFor();
  await form.getByLabel("Budget submission").fill("2026-05-15");
  await form.getByRole("button", { name: "Save the amendment" }).click();
  await mara.page.locator("#call-outcome").filter({ hasText: "The budget call for 2027 is amended." }).waitFor();
  await call.locator('tr[data-stage="budget_submission"] td').filter({ hasText: "2026-05-15" }).waitFor();
});

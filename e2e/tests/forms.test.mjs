// The officer's forms on a 360 px phone (issue 19): what a field takes is what it keeps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld } from "./harness.mjs";
import { openTab, syncNow } from "./pages.mjs";

const world = testWorld();

test("a text field stops at its limit as the officer types, and what it shows is what is saved and sent", async () => {
  const { context, page, password } = await world.officerPhone("MILG", "yasmin.officer", "Yasmin Ampatuan");
  await openTab(page, "Assessments");
  await page.getByRole("button", { name: "New assessment" }).click();
  const community = page.getByLabel("Community (barangay)", { exact: true });
  // 130 keys into a field of 120 characters: the last ten do not go in.
  await community.pressSequentially(`Barangay ${"x".repeat(121)}`);
  const shown = await community.inputValue();
  assert.equal(shown.length, 120);
  await community.press("Tab");
  await page.locator(".field").filter({ has: community }).getByText("Saved on this device.").waitFor();
  await syncNow(page);
  const api = await world.bmms.apiAs("yasmin.officer", password);
  const assessments = await api("/api/v1/assessments");
  assert.equal(assessments.items[0].community, shown, "the server has the text as the field showed it");
  await context.close();
});

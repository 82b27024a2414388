// Two ministry staff draft a PPA proposal together on their phones, one of them offline:
// the proposal reaches the colleague, the offline edits (a cost cell and the description)
// sync by themselves when the signal returns, and both phones end with the same proposal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld } from "./harness.mjs";
import { synced, setField, goOffline, openTab } from "./pages.mjs";

const world = testWorld();
const staffPhone = (username, name) => world.officerPhone("MOH", username, name, "ministry_staff");
const cost = "Cost 2026 Q1 MOOE (centavos)";

async function syncNow(page) {
  await page.getByRole("button", { name: "Sync now" }).click();
  await synced(page);
}

async function openProposal(page, title) {
  await openTab(page, "Proposals");
  await page.getByRole("button", { name: title }).click();
}

test("two ministry staff draft a proposal together, one of them offline, and both end with the same proposal", async () => {
  const sara = await staffPhone("sara.staff", "Sara Sinsuat");
  const omar = await staffPhone("omar.staff", "Omar Mastura");

  await openTab(sara.page, "Proposals");
  await sara.page.getByRole("button", { name: "New PPA proposal" }).click();
  await setField(sara.page, "Title", "Health stations for Datu Piang");
  await setField(sara.page, "Type", "project");
  await setField(sara.page, "Beneficiaries", "1200");
  await synced(sara.page);

  await syncNow(omar.page);
  await openProposal(omar.page, /Health stations for Datu Piang/);
  await goOffline(omar.context, omar.page);
  await setField(omar.page, cost, "15000000");
  await setField(omar.page, "Description", "Four stations, staffed by the municipal health office.");
  await omar.context.setOffline(false);
  await synced(omar.page);

  await syncNow(sara.page);
  await openProposal(sara.page, /Health stations for Datu Piang/);
  assert.equal(await sara.page.getByLabel(cost, { exact: true }).inputValue(), "15000000");
  assert.equal(await sara.page.getByLabel("Description", { exact: true }).inputValue(), "Four stations, staffed by the municipal health office.");
  assert.equal(await omar.page.getByLabel("Beneficiaries", { exact: true }).inputValue(), "1200");
  await sara.context.close();
  await omar.context.close();
});

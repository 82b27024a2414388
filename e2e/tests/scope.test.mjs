// A field officer's phone holds its scope (docs/sync-protocol.md, "Sync scope"): a
// supervisor gives Ana a municipality at the desk and its assessments reach her phone at
// the next sync; moved to another municipality, the first one's leave it. Online, her
// search reaches the server too, and "Keep on this phone" brings a record from elsewhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld, atTheDesk } from "./harness.mjs";
import { synced, setField, openTab, giveMunicipality, assessAt, syncNow } from "./pages.mjs";

const world = testWorld({ desktop: true });

const LAMITAN = ["Basilan", "City of Lamitan", "Arco", "1900702001"];
const LANTAWAN = ["Basilan", "Lantawan", "Atong-atong", "1900703001"];

/** A new assessment at `place`, whose community is the barangay, made on `page`. */
async function assess(page, place, households) {
  await assessAt(page, place);
  await setField(page, "Households", households);
}

/** The communities of the assessments on the phone, sorted. */
async function onThePhone(page) {
  await openTab(page, "Assessments");
  const list = page.getByRole("region", { name: "Assessments" }).locator("ul.records:not(.beyond-results)");
  const titles = await list.locator("li strong").allInnerTexts().catch(() => []);
  return titles.sort();
}


test("a municipality given at the desk reaches the officer's phone at the next sync, and leaves it when taken back", async () => {
  const ben = await world.officerPhone("MILG", "ben.officer", "Ben Ampatuan");
  await assess(ben.page, LAMITAN, "40");
  await assess(ben.page, LANTAWAN, "55");
  await synced(ben.page);

  const ana = await world.officerPhone("MILG", "ana.officer", "Ana Mangudadatu");
  // With no municipality given, her phone holds only what she made, her tasks and pins.
  assert.deepEqual(await onThePhone(ana.page), []);

  const desk = await atTheDesk(world, "MILG", "sofia.supervisor", "supervisor", "Sofia Sema");
  await openTab(desk.page, "Team and tasks");
  await desk.page.locator('select[name="scope-officer"]').selectOption("ana.officer");
  await desk.page.locator("#officer-areas").filter({ hasText: "None given" }).waitFor();
  await giveMunicipality(desk.page, "ana.officer", "Basilan", "Lantawan");
  await desk.page.getByRole("status").filter({ hasText: "phone follows at its next sync" }).waitFor();

  await syncNow(ana.page);
  assert.deepEqual(await onThePhone(ana.page), ["Atong-atong"], "Lantawan's assessment reached her phone");

  // Moved to Lamitan: Lantawan's leaves, Lamitan's arrives.
  await giveMunicipality(desk.page, "ana.officer", "Basilan", "City of Lamitan");
  await desk.page.getByRole("button", { name: "Remove Lantawan" }).click();
  await desk.page.locator("#officer-areas li").filter({ hasText: "Lantawan" }).waitFor({ state: "detached" });
  await syncNow(ana.page);
  assert.deepEqual(await onThePhone(ana.page), ["Arco"]);

  // Her search reaches the server too: she keeps Atong-atong's assessment on her phone.
  await ana.page.getByRole("searchbox", { name: "Search" }).fill("Atong");
  await ana.page.getByRole("button", { name: "Search the server too" }).click();
  const found = ana.page.getByRole("list", { name: "Found on the server" }).locator("li").filter({ hasText: "Atong-atong" });
  await found.getByRole("button", { name: "Keep on this phone" }).click();
  await found.getByRole("status").filter({ hasText: "Kept on this phone until" }).waitFor();
  await synced(ana.page);
  await ana.page.getByRole("searchbox", { name: "Search" }).fill("");
  assert.deepEqual(await onThePhone(ana.page), ["Arco", "Atong-atong"]);

  for (const who of [ana, ben, desk]) await who.context.close();
});

// Every officer screen fits a 360 px phone (issue 19): no sideways scrolling, whatever
// the records hold (a long name with no space to break at, a record waiting to sync).
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld } from "./harness.mjs";
import { openTab, setField, goOffline } from "./pages.mjs";

const world = testWorld();

/** How far the page is wider than the phone's screen, in CSS pixels (0 when it fits). */
async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test("every officer screen fits 360 px with no sideways scrolling", async () => {
  const { context, page } = await world.officerPhone("MILG", "farida.officer", "Farida Abubakar-Mangudadatu-Sinsuat");
  await goOffline(context, page);
  await openTab(page, "Assessments");
  await page.getByRole("button", { name: "New assessment" }).click();
  // A name with no space to break at, as officers paste them.
  await setField(page, "Community (barangay)", "Barangay" + "Kalanganan".repeat(8));
  await setField(page, "Municipality", "Cotabato City");
  const widths = {};
  widths.record = await overflow(page);
  for (const tab of ["Home", "Assessments", "Tasks", "This device"]) {
    await openTab(page, tab);
    await page.locator("main").waitFor();
    widths[tab] = await overflow(page);
  }
  assert.deepEqual(widths, { record: 0, Home: 0, Assessments: 0, Tasks: 0, "This device": 0 }, "pixels past the screen's right edge");
  await context.close();
});

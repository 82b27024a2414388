// The Office of the Chief Minister's analyst: the government overview, one ministry, one
// of its municipalities and the records there, and an export that holds exactly what
// the screen shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { testWorld, docImages as images } from "./harness.mjs";
import { synced, setField, openTab } from "./pages.mjs";

const world = testWorld({ desktop: true });

/**
 * An officer of `org` records assessments in the field: [community, municipality, province,
 * households] typed, or [[province, municipality, barangay, its PSGC code], households] chosen
 * from PSA's list.
 */
async function assessmentsFrom(org, username, assessments) {
  const { context, page } = await world.officerPhone(org, username, `Officer ${username}`);
  for (const assessment of assessments) {
    await openTab(page, "Assessments");
    await page.getByRole("button", { name: "New assessment" }).click();
    if (Array.isArray(assessment[0])) {
      const [province, municipality, barangay, code] = assessment[0];
      await page.getByLabel("Place: province").selectOption({ label: province });
      await page.getByLabel("Place: city or municipality").selectOption({ label: municipality });
      await page.getByLabel("Place: barangay").selectOption({ label: barangay });
      await page.getByText(`PSGC code ${code}.`).waitFor();
      // The picker fills in the names an officer would otherwise type.
      const shows = ([id, value]) => document.getElementById(id)?.value === value;
      await page.waitForFunction(shows, ["field-community", barangay]);
      await page.waitForFunction(shows, ["field-municipality", municipality]);
      await page.waitForFunction(shows, ["field-province", province]);
    } else {
      const [community, municipality, province] = assessment;
      await setField(page, "Community (barangay)", community);
      await setField(page, "Municipality", municipality);
      await setField(page, "Province", province);
    }
    await setField(page, "Households", assessment[assessment.length - 1]);
  }
  await synced(page);
  await context.close();
}

/** The cells of a table as the screen shows them, header row first. */
async function tableOnScreen(page, id) {
  return page.locator(`#${id} table`).evaluate((table) =>
    [...table.querySelectorAll("tr")].map((row) => [...row.querySelectorAll("th, td")].map((cell) => cell.innerText.trim())));
}

test("an OCM analyst drills down from the government to a municipality's records and exports what the screen shows", async () => {
  await assessmentsFrom("MILG", "ana.milg", [
    [["Maguindanao del Sur", "Datu Piang", "Poblacion", "1908807015"], "120"],
    // A name a spreadsheet would run as a formula: the CSV must keep it text.
    ["Rosary Heights", "+Cotabato City", "Cotabato City", "300"],
  ]);
  await assessmentsFrom("MOH", "hana.moh", [["Buadi Sacayo", "Marawi City", "Lanao del Sur", "75"]]);

  const password = world.bmms.createUser("OCM", "omar.analyst", "ocm_analyst", "Omar Analyst");
  const context = await world.desktop.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // The officer's app links to the desk build, which holds the dashboards.
  await page.goto(world.bmms.url);
  await page.getByLabel("Username").waitFor();
  await page.goto(`${world.bmms.url}/desk/`);
  await page.getByLabel("Username").fill("omar.analyst");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Signed in as Omar Analyst" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Assessments" }).count(), 0, "OCM has no records of its own to capture");

  await openTab(page, "Dashboard");
  await page.getByRole("heading", { name: "The whole government" }).waitFor();
  const organizations = await tableOnScreen(page, "organizations");
  const milg = organizations.find((row) => row[0] === "MILG");
  const moh = organizations.find((row) => row[0] === "MOH");
  assert.deepEqual([milg[2], milg[3]], ["2", "420"]);
  assert.deepEqual([moh[2], moh[3]], ["1", "75"]);
  await page.screenshot({ path: `${images}ocm-overview.png`, fullPage: true });

  // One ministry, then one of its municipalities.
  await page.locator("#organizations").getByRole("button", { name: "MILG", exact: true }).click();
  await page.getByRole("heading", { name: /^MILG — / }).waitFor();
  const municipalities = await tableOnScreen(page, "municipalities");
  assert.deepEqual(municipalities.slice(1).map((row) => row[0]).sort(), ["+Cotabato City", "Datu Piang"], "MOH's Marawi is not MILG's");
  await page.locator("#municipalities").getByRole("button", { name: "Datu Piang" }).click();
  await page.locator("#records").waitFor();
  const records = await tableOnScreen(page, "records");
  assert.equal(records.length, 2, "a header and the one assessment in Datu Piang");
  assert.equal(records[1][0], "Poblacion");

  // The export holds what the screen shows, sorted as shown.
  await page.locator("#municipalities").getByRole("button", { name: "Households" }).click();
  await page.locator("#municipalities").getByRole("button", { name: "Households" }).click();
  const shown = await tableOnScreen(page, "municipalities");
  assert.equal(shown[1][0], "+Cotabato City", "sorted by households, most first");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("#municipalities").getByRole("button", { name: "CSV" }).click(),
  ]);
  const exported = readFileSync(await download.path(), "utf8").trim().split("\n").map((line) => line.split(","));
  // As shown, but text a spreadsheet would run starts with an apostrophe (OWASP's advice).
  const neutralized = shown.map((row) => row.map((cell) => (/^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell)));
  assert.deepEqual(exported, neutralized);
  assert.equal(exported[1][0], "'+Cotabato City");
  const [jsonDownload] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("#municipalities").getByRole("button", { name: "JSON" }).click(),
  ]);
  const rows = JSON.parse(readFileSync(await jsonDownload.path(), "utf8"));
  assert.deepEqual(rows.map((row) => [row.Municipality, String(row.Households)]), shown.slice(1).map((row) => [row[0], row[3]]));
  await page.screenshot({ path: `${images}ocm-drill-down.png`, fullPage: true });
  await context.close();
});

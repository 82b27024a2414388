// The supervisor's desk with two officers in the field: a same-field conflict made offline
// reaches the queue and the supervisor's decision reaches both officers with its reason;
// a task assigned at the desk reaches an officer who then works offline, and the desk
// sees it done without a reload. The screenshots go to docs/images for the supervisor's
// guide.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { testWorld, firstVisit, docImages as images } from "./harness.mjs";
import { synced, setField, goOffline, openTab, giveMunicipality, assessAt, syncNow } from "./pages.mjs";

const world = testWorld({ desktop: true });
const officerPhone = (username, name) => world.officerPhone("MILG", username, name);

/** The supervisor at a desktop browser. */
async function supervisorDesk(username, name) {
  const password = world.bmms.createUser("MILG", username, "supervisor", name);
  const context = await world.desktop.newContext({ viewport: { width: 1280, height: 900 } });
  // The desk screens are in the desk build, at /desk/.
  return { context, page: await firstVisit(context, `${world.bmms.url}/desk/`, username, password) };
}

async function openRecord(page, tab, name) {
  await openTab(page, tab);
  await page.getByRole("button", { name }).click();
}

test("a conflict made offline by two officers is settled at the desk, and both officers see the decision and its reason", async () => {
  const ana = await officerPhone("ana.officer", "Ana Mangudadatu");
  const ben = await officerPhone("ben.officer", "Ben Ampatuan");
  const desk = await supervisorDesk("sofia.supervisor", "Sofia Sema");
  // Both work in the City of Lamitan: their phones hold its assessments.
  for (const officer of ["ana.officer", "ben.officer"]) await giveMunicipality(desk.page, officer, "Basilan", "City of Lamitan");

  // Ana records the assessment online; Ben's phone receives it.
  await assessAt(ana.page, ["Basilan", "City of Lamitan", "Arco", "1900702001"]);
  await setField(ana.page, "Community (barangay)", "Poblacion");
  await setField(ana.page, "Households", "100");
  await synced(ana.page);
  await syncNow(ben.page);

  // Both go out of signal and change the record: the same field, and one field each.
  await goOffline(ana.context, ana.page);
  await goOffline(ben.context, ben.page);
  await setField(ana.page, "Households", "120");
  await setField(ana.page, "Respondents", "14");
  await openRecord(ben.page, "Assessments", /Poblacion/);
  await setField(ben.page, "Households", "135");
  await setField(ben.page, "Notes", "Two households moved away last month.");
  await ana.context.setOffline(false);
  await synced(ana.page);
  await ben.context.setOffline(false);
  await synced(ben.page);

  // The queue shows one conflict, the households, live.
  await openTab(desk.page, "Conflicts");
  const rows = desk.page.locator("tr.conflict-row");
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1, "edits to different fields give no conflict");
  assert.match(await rows.first().innerText(), /Households[\s\S]*(120 \| 135|135 \| 120)/);
  await desk.page.screenshot({ path: `${images}supervisor-conflict-queue.png` });

  await rows.first().getByRole("button", { name: "Compare" }).click();
  const candidates = desk.page.locator("label.candidate");
  await candidates.first().waitFor();
  const shown = await desk.page.locator("#conflict-detail").innerText();
  assert.match(shown, /written by Ana Mangudadatu/);
  assert.match(shown, /written by Ben Ampatuan/);
  assert.match(shown, /before: 100/);

  // A reason is required; the message appears beside it.
  await desk.page.locator("#choice-other").check();
  await desk.page.locator("#other-value").fill("128");
  await desk.page.locator("#settle").click();
  await desk.page.locator("#reason-error").filter({ hasText: "Give a reason" }).waitFor();
  await desk.page.getByLabel("Reason (the officers will see it)").fill("Recounted with the barangay captain");
  await desk.page.screenshot({ path: `${images}supervisor-conflict-detail.png` });
  await desk.page.locator("#settle").click();
  await desk.page.locator("#settled").filter({ hasText: "Settled by Sofia Sema" }).waitFor();

  for (const officer of [ana, ben]) {
    await syncNow(officer.page);
    await openRecord(officer.page, "Assessments", /Poblacion/);
    assert.equal(await officer.page.getByLabel("Households", { exact: true }).inputValue(), "128");
    const field = officer.page.locator(".field").filter({ has: officer.page.getByLabel("Households", { exact: true }) });
    await field.getByText("Resolved by Sofia Sema: Recounted with the barangay captain").waitFor();
    assert.equal(await officer.page.getByLabel("Respondents", { exact: true }).inputValue(), "14");
  }
  await ana.page.screenshot({ path: `${images}officer-resolved-field.png` });

  // The records table at the desk, and its export with the same filter.
  await openTab(desk.page, "Records");
  await desk.page.getByLabel("Community").fill("Poblacion");
  await desk.page.getByLabel("Community").press("Enter");
  await desk.page.locator("#records-count").filter({ hasText: "1 of 1 shown" }).waitFor();
  const [download] = await Promise.all([
    desk.page.waitForEvent("download"),
    desk.page.getByRole("link", { name: "CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  assert.equal(csv.length, 2, "a header and the one filtered record");
  assert.match(csv[1], /Poblacion/);
  assert.match(csv[1], /,128,/);
  await desk.page.screenshot({ path: `${images}supervisor-records.png` });

  // Officers have no desk tabs.
  assert.equal(await ana.page.getByRole("navigation").getByRole("button", { name: "Conflicts" }).count(), 0);
  for (const who of [ana, ben, desk]) await who.context.close();
});

test("a task assigned at the desk reaches the officer in one sync, is done offline, and shows done at the desk without a reload", async () => {
  const carla = await officerPhone("carla.officer", "Carla Tan");
  const desk = await supervisorDesk("rashid.supervisor", "Rashid Lucman");

  await openTab(desk.page, "Team and tasks");
  const form = desk.page.locator("form.new-task");
  // Sent empty, the form names everything it lacks at once.
  await form.getByRole("button", { name: "Create and assign" }).click();
  await form.getByRole("alert").filter({
    hasText: "Give the task a title, the program, project or activity it serves, the site, a due date and the officer who does it.",
  }).waitFor();
  await form.getByLabel("Title").fill("Inspect the Datu Piang health station");
  await form.getByLabel("Program, project or activity").fill("Health stations for every barangay");
  await form.getByLabel("Site").fill("Barangay Ambadao");
  await form.getByLabel("Due date").fill("2030-06-30");
  await form.getByLabel("Assigned to").selectOption("carla.officer");
  await form.getByLabel("Checklist").selectOption("infrastructure");
  await form.getByRole("button", { name: "Create and assign" }).click();
  // Created, or refused with a reason: a refusal fails the test with what the form says.
  await desk.page.locator("#task-created, form.new-task [role=alert]").first().waitFor().catch(async (waited) => {
    throw new Error(`${waited.message}\nThe form says: ${await form.innerText()}`);
  });
  assert.equal(await form.locator("[role=alert]").count(), 0, await form.innerText());

  // One sync, then no signal: the task and its checklist are on the phone.
  await syncNow(carla.page);
  await goOffline(carla.context, carla.page);
  await openRecord(carla.page, "Tasks", /Inspect the Datu Piang health station/);
  assert.equal(await carla.page.locator("ul.checklist li").count(), 5);
  await setField(carla.page, "Progress (%)", "100");
  await setField(carla.page, "Status", "done");
  await carla.context.setOffline(false);
  await synced(carla.page);

  // The desk was not reloaded: the live update brought it.
  const row = desk.page.locator("#task-table tr", { hasText: "Inspect the Datu Piang health station" });
  await row.locator(".task-status").filter({ hasText: "done" }).waitFor();
  await desk.page.locator('#officer-progress tr[data-username="carla.officer"] .done-count').filter({ hasText: "1" }).waitFor();
  await desk.page.screenshot({ path: `${images}supervisor-team.png`, fullPage: true });

  await openTab(desk.page, "Devices");
  await desk.page.locator('#sync-health tr[data-username="carla.officer"]').waitFor();
  await desk.page.screenshot({ path: `${images}supervisor-devices.png` });
  for (const who of [carla, desk]) await who.context.close();
});

test("the records table keeps its filters through a record's Back, a reload and a shared link, and its export matches", async () => {
  const dina = await officerPhone("dina.officer", "Dina Ali");
  await openTab(dina.page, "Assessments");
  for (const [community, households] of [["Kalanganan", "40"], ["Kalawag", "55"], ["Tamontaka", "70"]]) {
    await dina.page.getByRole("button", { name: "New assessment" }).click();
    await setField(dina.page, "Community (barangay)", community);
    await setField(dina.page, "Households", households);
    await openTab(dina.page, "Assessments");
  }
  await syncNow(dina.page);
  const desk = await supervisorDesk("nur.supervisor", "Nur Hassan");
  const page = desk.page;
  const shows = async (count, communities) => {
    await page.locator("#records-count").filter({ hasText: count }).waitFor().catch(async (err) => {
      throw new Error(`${err.message}\nat ${page.url()} the page showed:\n${(await page.locator("main, body").first().innerText()).slice(0, 1500)}`);
    });
    assert.deepEqual(await page.locator("#records-table tbody th").allInnerTexts(), communities);
  };

  await openTab(page, "Records");
  await page.getByLabel("Community").fill("Kala");
  await page.getByLabel("Community").press("Enter");
  await page.getByLabel("Status").selectOption("draft");
  await page.getByRole("button", { name: /Households/ }).click();
  await page.getByRole("button", { name: /Households/ }).click();
  await shows("2 of 2 shown", ["Kalawag", "Kalanganan"]);

  // A record, then its Back: the same filters, order and rows.
  await page.getByRole("button", { name: "Kalawag" }).click();
  await page.locator("#record-history").waitFor();
  await page.getByRole("button", { name: "Back" }).click();
  await shows("2 of 2 shown", ["Kalawag", "Kalanganan"]);
  assert.equal(await page.getByLabel("Community").inputValue(), "Kala");
  assert.equal(await page.getByLabel("Status").inputValue(), "draft");

  // The export carries what the screen shows.
  const csvLink = new URL(await page.getByRole("link", { name: "CSV" }).getAttribute("href"), page.url());
  assert.equal(csvLink.searchParams.get("search"), "Kala");
  assert.equal(csvLink.searchParams.get("status"), "draft");
  assert.equal(csvLink.searchParams.get("sort"), "households");

  // A reload, and the address sent to a colleague, who signs in on it: the same rows.
  await page.reload();
  await shows("2 of 2 shown", ["Kalawag", "Kalanganan"]);
  const colleaguePassword = world.bmms.createUser("MILG", "leila.staff", "ministry_staff", "Leila Staff");
  const colleague = await world.desktop.newContext({ viewport: { width: 1280, height: 900 } });
  const shared = await colleague.newPage();
  await shared.goto(page.url());
  await shared.getByLabel("Username").fill("leila.staff");
  await shared.getByLabel("Password").fill(colleaguePassword);
  await shared.getByRole("button", { name: "Sign in", exact: true }).click();
  await shared.locator("#records-count").filter({ hasText: "2 of 2 shown" }).waitFor();
  assert.deepEqual(await shared.locator("#records-table tbody th").allInnerTexts(), ["Kalawag", "Kalanganan"]);
  await colleague.close();

  // Another screen takes the table out of the address.
  await openTab(page, "Conflicts");
  assert.equal(new URL(page.url()).search, "");
  for (const who of [dina, desk]) await who.context.close();
});

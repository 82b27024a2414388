// Two ministry staff draft a PPA proposal together on their phones, one of them offline:
// the proposal reaches the colleague, the offline edits (a cost cell and the description)
// sync by themselves when the signal returns, and both phones end with the same proposal.
// Their supervisor then submits it, BPDA's planner finds it in the queue with its score and
// certifies it, the partner ministry it names reads it, MFBM is told of the certification,
// and the ministry sees its certificate, which an edit then voids. A monitoring task then
// points at the PPA, and its progress shows on the PPA and on OCM's implementation view.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld, atTheDesk, docImages } from "./harness.mjs";
import { synced, setField, goOffline, openTab, syncNow } from "./pages.mjs";

const world = testWorld({ desktop: true });
const staffPhone = (username, name) => world.officerPhone("MOH", username, name, "ministry_staff");
const cost = "Cost 2026 Q1 MOOE (pesos)";

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
  await setField(sara.page, "Sector", "social_services");
  await setField(sara.page, "Beneficiaries", "1200");
  await synced(sara.page);

  await syncNow(omar.page);
  await openProposal(omar.page, /Health stations for Datu Piang/);
  await goOffline(omar.context, omar.page);
  await omar.page.locator("#cost-year").selectOption("2026");
  await setField(omar.page, cost, "150,000");
  await setField(omar.page, "Description", "Four stations, staffed by the municipal health office.");
  await omar.context.setOffline(false);
  await synced(omar.page);

  await syncNow(sara.page);
  await openProposal(sara.page, /Health stations for Datu Piang/);
  // The grid opens at the first year with a cost, in pesos, with its totals.
  assert.equal(await sara.page.getByLabel(cost, { exact: true }).inputValue(), "150,000.00");
  assert.equal(await sara.page.locator("#cost-year-total").innerText(), "₱150,000.00");
  await sara.page.locator(".cost-grid").screenshot({ path: `${docImages}proposal-cost-grid.png` });
  assert.equal(await sara.page.getByLabel("Description", { exact: true }).inputValue(), "Four stations, staffed by the municipal health office.");
  assert.equal(await omar.page.getByLabel("Beneficiaries", { exact: true }).inputValue(), "1200");

  // Sara completes it for BPDA, choosing the goal and the indicator from the plan.
  await sara.page.getByLabel("BDP goal to add").selectOption({ label: "S2: Sample: Healthy families with access to care" });
  await sara.page.getByRole("button", { name: "Add this goal" }).click();
  await sara.page.locator(".goal-names li").filter({ hasText: "S2: Sample: Healthy families with access to care" }).waitFor();
  assert.equal(await sara.page.getByLabel("BDP goals served", { exact: true }).inputValue(), "S2");
  const offered = await sara.page.locator("#bdp-indicators option").evaluateAll((options) => options.map((o) => o.value));
  assert.deepEqual(offered.slice(0, 2), ["S2.1", "S2.2"], "the named goal's indicators first");
  await setField(sara.page, "Indicator 1", "S2.1");
  await sara.page.locator(".indicator-name").filter({ hasText: "S2.1: Sample: births attended by skilled health personnel, in % (S2)" }).waitFor();
  await setField(sara.page, "Indicator 1: promised contribution", "3");
  await setField(sara.page, "Places (PSGC codes)", "1908801001");
  // The code is named from PSA's list, on the device.
  await sara.page.locator(".place-names li").filter({ hasText: "1908801001: Dicalongan, Ampatuan, Maguindanao del Sur" }).waitFor();
  await setField(sara.page, "Partner MOAs (codes)", "MILG");
  await setField(sara.page, "Beneficiaries", "2000");
  await setField(sara.page, "Start", "2026-01-15");
  await setField(sara.page, "End", "2027-06-30");
  await synced(sara.page);
  assert.equal(await sara.page.locator("#submit-proposal").count(), 0, "ministry staff draft; a supervisor submits");
  // Before submitting, the score it would get now, with what would raise it.
  const preview = sara.page.locator("#score-preview");
  await preview.getByRole("heading", { name: /Alignment score now: 85\.00/ }).waitFor();
  assert.match(await preview.innerText(), /Outcome-indicator coverage 50\.00[\s\S]*Promise a contribution to S2\.2/);

  const sofia = await world.officerPhone("MOH", "sofia.supervisor", "Sofia Sema", "supervisor");
  await openProposal(sofia.page, /Health stations for Datu Piang/);
  await sofia.page.locator("#submit-proposal").click();
  await sofia.page.locator("#submit-outcome").filter({ hasText: "alignment score of 85.00" }).waitFor();
  // The frozen status reaches the device: the button is gone.
  await sofia.page.locator("#submit-proposal").waitFor({ state: "detached" });

  const pia = await atTheDesk(world, "BPDA", "pia.planner", "bpda_planner", "Pia Planner");
  await openTab(pia.page, "Proposal queue");
  const row = pia.page.locator("#proposal-queue tbody tr");
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  const shown = await row.first().innerText();
  assert.match(shown, /Health stations for Datu Piang[\s\S]*MOH[\s\S]*85\.00[\s\S]*₱150,000\.00/);

  // The planner opens it, reads the score component by component, and certifies it.
  await row.first().getByRole("button", { name: "Health stations for Datu Piang" }).click();
  const review = pia.page.locator("#submission-review");
  await review.getByRole("heading", { name: "Alignment score: 85.00" }).waitFor();
  assert.match(await review.innerText(), /Outcome-indicator coverage \(30 %\)\s+50\.00\s+15\.00/);
  await pia.page.locator("#certify").click();
  await pia.page.locator("#review-outcome").filter({ hasText: "Certified and signed" }).waitFor();
  await review.locator("#certification-current").waitFor();

  // MFBM is told in the app: its tab counts the new certification until it looks.
  const mara = await atTheDesk(world, "MFBM", "mara.budget", "mfbm_budget_officer", "Mara Budget");
  await mara.page.locator("#certified-new").filter({ hasText: "1 new" }).waitFor();
  await mara.page.locator("#certified-tab").click();
  const certified = mara.page.locator("#certified-proposals article.certified").filter({ hasText: "Health stations for Datu Piang" });
  await certified.locator("#certification-current").waitFor();
  assert.match(await certified.innerText(), /MOH[\s\S]*Certified by BPDA[\s\S]*85\.00[\s\S]*₱150,000\.00/);

  // BPDA's Annual Investment Program of the year holds it, certified, with its cost; it
  // downloads as CSV for a spreadsheet.
  await openTab(pia.page, "AIP");
  const aipRow = pia.page.locator("#aip-rows tbody tr").filter({ hasText: "Health stations for Datu Piang" });
  await aipRow.waitFor();
  assert.match(await aipRow.innerText(), /MOH\s+certified\s+85\.00[\s\S]*₱150,000\.00/);
  const csv = await pia.page.evaluate(async () => (await fetch("/api/v1/aip/export?year=2026&format=csv")).text());
  assert.match(csv, /Health stations for Datu Piang.*,150000\.00$/m);

  // The ministry's multi-year plan, at the desk, shows it under its goal in 2026.
  const mona = await atTheDesk(world, "MOH", "mona.staff", "ministry_staff", "Mona Staff");
  await openTab(mona.page, "Multi-year plan");
  const underGoal = mona.page.locator("#multi-year-plan tbody[data-goal='S2']");
  await underGoal.waitFor();
  // (Its status is the ministry's copy: certified once one of its devices has synced since.)
  assert.match(await underGoal.innerText(), /Health stations for Datu Piang\s+(submitted|certified)\s+₱150,000\.00/);

  // MFBM's budget call for 2026 (its deadlines passed); the ministry budgets the certified
  // PPA: Mona adds it and signs as preparer, and the head, another person, submits it with
  // the reason it is late.
  await mara.page.evaluate(async () => {
    const me = await (await fetch("/api/v1/me")).json();
    const deadlines = {
      ppa_preparation: "2026-01-15", bdp_certification: "2026-02-15", budget_submission: "2026-03-15",
      technical_review: "2026-04-15", executive_approval: "2026-05-15", parliament_submission: "2026-06-15",
    };
    const call = { fiscal_year: 2026, message: "Budget your certified PPAs.", deadlines, ceilings: [{ organization_code: "MOH", total: 100000000 }] };
    const answer = await fetch("/api/v1/budget-calls", {
      method: "POST", headers: { "content-type": "application/json", "x-csrf-token": me.csrf_token }, body: JSON.stringify(call),
    });
    if (answer.status !== 201) throw new Error(await answer.text());
  });
  await openTab(mona.page, "Budget proposal");
  const budget = mona.page.locator("#budget-proposal");
  await budget.locator("#budget-year").selectOption("2026");
  await budget.locator("#budget-status").waitFor();
  const candidate = budget.locator("#budget-candidates li").filter({ hasText: "Health stations for Datu Piang" });
  await candidate.getByRole("button", { name: "Add to the budget" }).click();
  const budgeted = budget.locator("#budget-ppas tbody tr").filter({ hasText: "Health stations for Datu Piang" });
  await budgeted.waitFor();
  assert.match(await budgeted.innerText(), /version 1[\s\S]*₱150,000\.00/);
  assert.match(await budget.locator("#budget-violations").innerText(), /BC-7[\s\S]*deadline has passed/, "flagged late, not blocked");
  await budget.locator("#budget-prepare").click();
  await budget.locator("#budget-status").filter({ hasText: "Prepared: waiting for the head to submit it" }).waitFor();
  assert.equal(await budget.locator("#budget-submit").count(), 0, "ministry staff prepare; the head submits");
  const head = await atTheDesk(world, "MOH", "hamid.head", "org_admin", "Hamid Head");
  await openTab(head.page, "Budget proposal");
  const headsView = head.page.locator("#budget-proposal");
  await headsView.locator("#budget-year").selectOption("2026");
  await headsView.locator("#budget-status").filter({ hasText: "Prepared: waiting for the head to submit it" }).waitFor();
  await headsView.locator("#budget-late-reason").fill("The certification came after the deadline.");
  await headsView.locator("#budget-submit").click();
  await headsView.locator("#budget-status").filter({ hasText: "Submitted to MFBM" }).waitFor();
  assert.match(await headsView.locator("#budget-history").innerText(), /prepared → submitted, by Hamid Head/);
  // MFBM's technical review: the year's submissions, MOH's flagged late; recommended.
  await openTab(mara.page, "Budget submissions");
  const submissions = mara.page.locator("#budget-submissions");
  await submissions.locator("#submissions-year").selectOption("2026");
  const mohRow = submissions.locator('#submissions tr[data-organization="MOH"]');
  await mohRow.waitFor();
  assert.match(await mohRow.innerText(), /₱150,000\.00[\s\S]*₱1,000,000\.00[\s\S]*late[\s\S]*0 error\(s\), 1 warning\(s\)/);
  // Every submission's findings in one list, each with its rule.
  assert.match(await submissions.locator('#all-violations tr[data-organization="MOH"][data-rule="BC-7"]').innerText(), /MOH\s+BC-7\s+Submitted after the budget submission deadline: The certification came after the deadline\./);
  await mohRow.getByRole("button", { name: "MOH" }).click();
  const detail = submissions.locator("#submission-detail");
  await detail.locator("#budget-ppas").filter({ hasText: "Health stations for Datu Piang" }).waitFor();
  assert.match(await detail.innerText(), /Late: The certification came after the deadline\./);
  await detail.getByLabel("Comments (what to correct, or why it is recommended)").fill("Certified and within the ceiling.");
  await detail.locator("#review-recommend").click();
  await detail.locator("#budget-review").filter({ hasText: "Recommended by Mara Budget of MFBM" }).waitFor();
  // The ministry's head sees it on the open screen.
  await headsView.locator("#budget-status").filter({ hasText: "recommended in its technical review" }).waitFor();
  // OCM's executive approves it; MFBM submits the approved budgets to Parliament, and the
  // expenditure program holds the PPA's cost by class and quarter.
  const olive = await atTheDesk(world, "OCM", "olive.exec", "ocm_executive", "Olive Executive");
  await openTab(olive.page, "Budget approval");
  const approvals = olive.page.locator("#budget-approvals");
  await approvals.locator("#approvals-year").selectOption("2026");
  const toApprove = approvals.locator('#approvals tr[data-organization="MOH"]');
  await toApprove.getByRole("button", { name: "Approve" }).click();
  await toApprove.locator(".badge").filter({ hasText: "Approved by Olive Executive" }).waitFor();
  await openTab(mara.page, "Expenditure program");
  const programView = mara.page.locator("#expenditure-program");
  await programView.locator("#program-year").selectOption("2026");
  await programView.locator("#to-parliament").click();
  await programView.locator("#program-state").filter({ hasText: "Submitted to Parliament by Mara Budget" }).waitFor();
  assert.match(await programView.locator("#program-lines").innerText(), /MOH\s+Health stations for Datu Piang\s+MOOE\s+₱150,000\.00/);
  const programCsv = await mara.page.evaluate(async () => (await fetch("/api/v1/expenditure-program/2026/export?format=csv")).text());
  assert.match(programCsv, /Health stations for Datu Piang,MOOE,150000\.00,0\.00,0\.00,0\.00,150000\.00/);
  await headsView.locator("#budget-status").filter({ hasText: "Submitted to Parliament" }).waitFor();
  // Execution: MFBM releases Q1's allotment; the ministry obligates against it, and a
  // disbursement above its obligations is refused with the figures.
  await openTab(mara.page, "Allotments");
  const ledger = mara.page.locator("#ledger");
  await ledger.locator("#ledger-year").selectOption("2026");
  await ledger.locator("#release-line option").filter({ hasText: "Health stations for Datu Piang" }).waitFor({ state: "attached" });
  await ledger.locator("#release-amount").fill("150,000");
  await ledger.locator("#release-reference").fill("SARO-2026-001");
  await ledger.locator("#release-send").click();
  await ledger.locator('#allotments tr[data-reference="SARO-2026-001"]').waitFor();
  await openTab(head.page, "Allotments");
  const books = head.page.locator("#ledger");
  await books.locator("#ledger-year").selectOption("2026");
  await books.getByRole("button", { name: "SARO-2026-001" }).click();
  await books.locator("#record-amount").fill("100,000");
  await books.locator("#record-reference").fill("ORS-2026-0001");
  await books.locator("#record-send").click();
  await books.locator('#entries tr').filter({ hasText: "ORS-2026-0001" }).waitFor();
  await books.locator("#record-kind").selectOption("disbursement");
  await books.locator("#record-amount").fill("120,000");
  await books.locator("#record-reference").fill("DV-2026-0001");
  await books.locator("#record-send").click();
  await books.locator("#ledger-problem").filter({ hasText: "disburse at most ₱100,000.00" }).waitFor();
  assert.match(await books.locator('#allotments tr[data-reference="SARO-2026-001"]').innerText(), /₱150,000\.00\s+₱100,000\.00\s+₱0\.00\s+66\.7 % \/ 0\.0 %/);
  // OCM's budget monitoring: the budget against releases and obligations; an alert once
  // the threshold is above what MOH had obligated by the end of Q1.
  await openTab(olive.page, "Budget monitoring");
  const monitor = olive.page.locator("#budget-monitoring");
  await monitor.locator("#monitoring-year").selectOption("2026");
  await monitor.locator("#monitoring-totals").filter({ hasText: "Budget ₱150,000.00 · released ₱150,000.00 · obligated ₱100,000.00 · disbursed ₱0.00" }).waitFor();
  assert.equal(await monitor.locator("#monitoring-alerts").count(), 0, "66.7 % is above the default 50 %");
  await monitor.locator("#monitoring-threshold").fill("70");
  await monitor.locator("#monitoring-threshold").press("Tab");
  await monitor.locator("#monitoring-alerts li").filter({ hasText: "MOH had obligated 66.7 % of its releases by the end of Q1, below 70 %." }).waitFor();
  // The threshold is OCM's, for everyone: MOH's head reads it, and the alert, read-only.
  await openTab(head.page, "Budget monitoring");
  const own = head.page.locator("#budget-monitoring");
  await own.locator("#monitoring-year").selectOption("2026");
  await own.locator("#monitoring-alerts li").filter({ hasText: "by the end of Q1, below 70 %" }).waitFor();
  assert.equal(await own.locator("#monitoring-threshold").innerText(), "Alerts below 70 % obligated of released, as OCM set.");
  // OCM's overview opens with the year's budget.
  await openTab(olive.page, "Dashboard");
  const tiles = olive.page.locator("#dashboard .tiles");
  await tiles.filter({ hasText: "Budget 2026, as enacted" }).waitFor();
  assert.match(await tiles.innerText(), /^₱150,000\.00\s+Budget 2026, as enacted\s+₱150,000\.00\s+Released\s+₱100,000\.00\s+Obligated\s+66\.7 %\s+Obligated of released/);

  // The ministry's phones take the decision at their next sync and show the certificate;
  // an edit after it voids it, visibly.
  await syncNow(sara.page);
  const standing = sara.page.locator("#proposal-standing");
  await standing.locator("#certification-current").waitFor();
  await setField(sara.page, "Beneficiaries", "2100");
  await synced(sara.page);
  await syncNow(sara.page);
  await standing.locator("#certification-void").waitFor();
  assert.match(await standing.innerText(), /changed after BPDA certified it/);

  // A supervisor at the desk points a monitoring task at the PPA and one of its milestones;
  // the officer's progress shows on the PPA and on OCM's implementation view, where an
  // analyst opens it; when the officer is done, so is the milestone.
  await setField(sara.page, "Milestone 1", "Stations built");
  await setField(sara.page, "Milestone 1: due", "2030-03-31");
  await synced(sara.page);
  await syncNow(sara.page);
  const fatima = await world.officerPhone("MOH", "fatima.officer", "Fatima Officer");
  const sami = await atTheDesk(world, "MOH", "sami.supervisor", "supervisor", "Sami Supervisor");
  await openTab(sami.page, "Team and tasks");
  const form = sami.page.locator("form.new-task");
  await form.getByLabel("Title").fill("Check the stations' works");
  const ppa = form.locator("#task-ppa-id option", { hasText: "Health stations for Datu Piang" });
  await ppa.waitFor({ state: "attached" });
  await form.getByLabel("PPA monitored").selectOption(await ppa.getAttribute("value"));
  assert.equal(await form.getByLabel("Program, project or activity").count(), 0, "the PPA is chosen, not typed");
  await form.getByLabel("Milestone this visit checks").selectOption({ label: "Stations built (2030-03-31)" });
  await form.getByLabel("Site").fill("Barangay Ambadao");
  await form.getByLabel("Due date").fill("2030-06-30");
  await form.getByLabel("Assigned to").selectOption("fatima.officer");
  await form.getByRole("button", { name: "Create and assign" }).click();
  await sami.page.locator("#task-created").waitFor();
  await syncNow(fatima.page);
  await openTab(fatima.page, "Tasks");
  await fatima.page.getByRole("button", { name: /Check the stations' works/ }).click();
  await setField(fatima.page, "Progress (%)", "60");
  await synced(fatima.page);
  await syncNow(sara.page);
  await sara.page.locator("#ppa-progress").filter({ hasText: "Progress: 60 %" }).waitFor();
  assert.match(await sara.page.locator("#ppa-tasks").innerText(), /Check the stations' works \(Milestone 1\)\s+fatima\.officer/);
  const oscar = await atTheDesk(world, "OCM", "oscar.analyst", "ocm_analyst", "Oscar Analyst");
  await openTab(oscar.page, "Implementation");
  const tracked = oscar.page.locator("#implementation-rows tbody tr").filter({ hasText: "Health stations for Datu Piang" });
  await tracked.waitFor();
  // Sara's edit above voided the certification: the view says so beside the status.
  assert.match(await tracked.innerText(), /MOH\s+certified certification void: changed since\s+60 %/);
  await tracked.getByRole("button", { name: "Health stations for Datu Piang" }).click();
  await oscar.page.locator("#ppa-implementation #ppa-tasks").filter({ hasText: "fatima.officer" }).waitFor();
  await setField(fatima.page, "Status", "done");
  await synced(fatima.page);
  await syncNow(sara.page);
  const built = sara.page.locator("#ppa-milestones tbody tr").filter({ hasText: "Stations built" });
  await built.filter({ hasText: "checked by a monitoring task" }).waitFor();

  // The partner it names reads it at the desk; it cannot change it there.
  const mila = await atTheDesk(world, "MILG", "mila.staff", "ministry_staff", "Mila Staff");
  await openTab(mila.page, "Partner proposals");
  const partnered = mila.page.locator("#partner-proposals article.partnered").filter({ hasText: "Health stations for Datu Piang" });
  await partnered.waitFor();
  assert.match(await partnered.innerText(), /MOH[\s\S]*certified[\s\S]*₱150,000\.00[\s\S]*Four stations/);
  for (const who of [sara, omar, sofia, pia, mara, mona, mila, fatima, sami, oscar]) await who.context.close();
});

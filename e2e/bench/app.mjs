// The app's speed on a cheap phone, measured in Debian's headless Chromium with the CPU
// throttled 4x (Chrome DevTools' "low-end mobile"), against the real server:
// - bytes a first visit downloads, as served (brotli), by file;
// - offline cold start to an interactive list, with an empty device and with 5,000 records;
// - rendering the list of 5,000 local records;
// - saving an edit durably (IndexedDB transaction complete), p50 and p95 of 40 edits;
// - offline cold start with 20,000 records (after the saves: a second, larger import);
// - the same run's baseline (bench/baseline.mjs), and the cold start in its CPU loops.
// The app marks these itself (performance.measure "bmms-interactive", "bmms-save").
// Run by scripts/bench-app, which prints the table and writes it into docs/benchmarks.md.
// Usage: node bench/app.mjs EXPORT_FILE LARGER_EXPORT (files from `make_export 5000` and
// `make_export 20000`).
import { readFileSync, statSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBmms, launchProfile, firstVisit } from "../tests/harness.mjs";
import * as baseline from "./baseline.mjs";
import { writeSection } from "./sections.mjs";

const exportFile = process.argv[2];
const largerExport = process.argv[3];
const RECORDS = 5000;
const dist = "../dist";

function firstVisitBytes() {
  const shell = JSON.parse(readFileSync(join(dist, "shell.json"), "utf8")).files;
  const files = [...new Set(["/index.html", "/sw.js", "/shell.json", ...shell.filter((f) => f !== "/")])];
  return files.map((file) => {
    const path = join(dist, file);
    const br = `${path}.br`;
    return { file, bytes: statSync(existsSync(br) ? br : path).size, raw: statSync(path).size };
  });
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function throttled(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
}

/** Reloads offline and reads how long the app took to show the device's records. */
async function coldStart(context, page) {
  await page.reload();
  await page.getByRole("heading", { name: /Signed in as/ }).waitFor();
  await page.waitForFunction(() => performance.getEntriesByName("bmms-interactive").length > 0);
  return page.evaluate(() => {
    const at = (name) => performance.getEntriesByName(name)[0]?.duration ?? NaN;
    return { total: at("bmms-interactive"), started: at("bmms-started"), read: at("bmms-storage-read"), restored: at("bmms-restored") };
  });
}

/** The median cold start of `starts`, with where its time went (the marks are times since navigation). */
function coldStartSplit(starts) {
  const median = (pick) => percentile(starts.map(pick), 50);
  const started = median((s) => s.started);
  const read = median((s) => s.read);
  const restored = median((s) => s.restored);
  return {
    median: median((s) => s.total),
    runs: starts.map((s) => s.total),
    split: { wasm_started: started, storage_read: read - started, records_restored: restored - read, first_frame: median((s) => s.total) - restored },
  };
}

const bmms = await startBmms();
const profile = mkdtempSync(join(tmpdir(), "bmms-bench-profile-"));
const results = {};
try {
  const files = firstVisitBytes();
  results.first_visit = { total_bytes: files.reduce((s, f) => s + f.bytes, 0), files };

  const password = bmms.createUser("MILG", "bench.officer", "field_officer", "Bench Officer");
  const context = await launchProfile(profile);
  const page = await firstVisit(context, bmms.url, "bench.officer", password);
  await context.setOffline(true);
  await throttled(context, page);

  const emptyStarts = [];
  for (let i = 0; i < 5; i++) emptyStarts.push(await coldStart(context, page));
  results.cold_start_empty_ms = coldStartSplit(emptyStarts);

  // 5,000 records on the device, through the app's own import.
  await page.getByRole("navigation").getByRole("button", { name: "This device", exact: true }).click();
  await page.getByLabel("Import edits from a file").setInputFiles(exportFile);
  await page.getByText(/edits imported/).waitFor({ timeout: 300_000 });

  const fullStarts = [];
  for (let i = 0; i < 3; i++) fullStarts.push(await coldStart(context, page));
  results.cold_start_5000_ms = coldStartSplit(fullStarts);

  const renders = [];
  for (let i = 0; i < 5; i++) {
    await page.getByRole("navigation").getByRole("button", { name: "This device", exact: true }).click();
    renders.push(await page.evaluate(() => new Promise((resolve) => {
      const started = performance.now();
      [...document.querySelectorAll("nav button")].find((b) => b.textContent === "Assessments").click();
      const check = () => {
        if (document.querySelectorAll("ul.records li").length > 0) {
          requestAnimationFrame(() => resolve(performance.now() - started));
        } else requestAnimationFrame(check);
      };
      check();
    })));
  }
  results.list_5000_render_ms = { median: percentile(renders, 50), runs: renders };

  // Durable saves: one record's field, 40 times.
  await page.getByRole("button", { name: "New assessment" }).click();
  const households = page.getByLabel("Households", { exact: true });
  await households.waitFor();
  await page.evaluate(() => performance.clearMeasures("bmms-save"));
  for (let i = 1; i <= 40; i++) {
    await households.fill(String(i));
    await households.press("Tab");
    await page.waitForFunction((n) => performance.getEntriesByName("bmms-save").length >= n, i);
  }
  const saves = await page.evaluate(() => performance.getEntriesByName("bmms-save").map((e) => e.duration));
  results.save_ms = { p50: percentile(saves, 50), p95: percentile(saves, 95), count: saves.length };

  // 20,000 records: the 5,000 again (already there) and 15,000 more.
  await page.getByRole("navigation").getByRole("button", { name: "This device", exact: true }).click();
  await page.getByLabel("Import edits from a file").setInputFiles(largerExport);
  // The page was left for the saves, so the message of the first import is gone.
  await page.getByText(/edits imported/).waitFor({ timeout: 900_000 });
  const largerStarts = [];
  for (let i = 0; i < 3; i++) largerStarts.push(await coldStart(context, page));
  results.cold_start_20000_ms = coldStartSplit(largerStarts);
  results.baseline = await baseline.measure(page, process.env.DATABASE_URL);
  await context.close();
} finally {
  await bmms.stop();
  rmSync(profile, { recursive: true, force: true });
}

const kb = (b) => (b / 1000).toFixed(1);
const ms = (x) => x.toFixed(0);
const inLoops = (x) => (x / results.baseline.cpu_loop_ms).toFixed(3);
const lines = [
  "| measure | result | target |",
  "|---|---|---|",
  `| first visit, bytes as served (brotli) | ${kb(results.first_visit.total_bytes)} KB | ≤ 450 KB |`,
  `| offline cold start to the interactive list, empty device (median of 5) | ${ms(results.cold_start_empty_ms.median)} ms | ≤ 1,000 ms |`,
  `| offline cold start to the interactive list, 5,000 records (median of 3) | ${ms(results.cold_start_5000_ms.median)} ms | ≤ 1,000 ms |`,
  `| offline cold start to the interactive list, 20,000 records (median of 3) | ${ms(results.cold_start_20000_ms.median)} ms | ≤ 1,000 ms |`,
  `| list of 5,000 local records rendered (median of 5) | ${ms(results.list_5000_render_ms.median)} ms | ≤ 300 ms |`,
  `| durable save of an edit, p50 / p95 of ${results.save_ms.count} | ${ms(results.save_ms.p50)} / ${ms(results.save_ms.p95)} ms | p95 ≤ 50 ms |`,
  `| offline cold start with 5,000 records / list rendered, in the same run's CPU loops | ${inLoops(results.cold_start_5000_ms.median)} / ${inLoops(results.list_5000_render_ms.median)} | |`,
  `| same-run baseline: a fixed CPU-bound loop in the page, throttled as above (10⁸ xorshift32 steps, best of 3) | ${results.baseline.cpu_loop_ms} ms | |`,
  `| same-run baseline: pgbench TPC-B-like on the same cluster (scale 10, 2 clients, 5 s), right after | ${results.baseline.pgbench_tps} tps | |`,
  "",
  "Where a cold start's time goes (medians, ms): until the app's code runs; reading IndexedDB; restoring the records (their documents load when first used); the first frame.",
  "",
  "| device | code running | storage read | records restored | first frame |",
  "|---|---|---|---|---|",
  ...[["empty", results.cold_start_empty_ms], ["5,000 records", results.cold_start_5000_ms], ["20,000 records", results.cold_start_20000_ms]].map(([name, r]) =>
    `| ${name} | ${ms(r.split.wasm_started)} | ${ms(r.split.storage_read)} | ${ms(r.split.records_restored)} | ${ms(r.split.first_frame)} |`),
  "",
  "First visit, by file (bytes as served; raw size in brackets):",
  "",
  "| file | served | raw |",
  "|---|---|---|",
  ...results.first_visit.files.map((f) => `| \`${f.file.replace(/-[0-9a-f]{8,}/, "-<hash>")}\` | ${kb(f.bytes)} KB | ${kb(f.raw)} KB |`),
];
const table = lines.join("\n");
console.log(table);
console.log(JSON.stringify(results, null, 2));

writeSection(
  "app-bench",
  `## The offline app (issue 4)\n\nMeasured with \`scripts/bench-app\` on ${new Date().toISOString().slice(0, 10)} (2 cores, 24 GiB): Debian's headless Chromium with the CPU throttled 4x, server and PostgreSQL on the same machine, the app offline after one signed-in visit. Times are the app's own \`performance.measure\` marks.\n\n${table}`,
);

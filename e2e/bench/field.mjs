// Field sync in the real app (issue 18): Debian's headless Chromium with the CPU throttled
// 4x and DevTools' network emulation (Network.emulateNetworkConditions) at issue 18's 2G
// and slow 2G, against the real server:
// - one dirty record synced, and 50 (imported as unsynced edits, as after a day offline):
//   the app's own "bmms-sync" measure, from the start of the sync to its end;
// - a photo taken in an assessment (shrunk on the phone) sent, from "saved" until no photo
//   waits, with the network going away three times on its way (context.setOffline for two
//   seconds at 30 %, 55 % and 80 % of its chunks); the bytes of its chunks sent twice.
//   Going offline fails the requests that follow; Chromium lets the one in flight finish,
//   so this measures the resumption, not a chunk cut in half (`scripts/bench`'s proxy does).
// DevTools' emulation delays each request by the round trip and caps throughput; it does
// not make a TCP or TLS handshake cost anything (the proxy figures of `scripts/bench`
// do). Run by scripts/bench-app, which writes the table into docs/benchmarks.md.
// Usage: node bench/field.mjs FIFTY_EDITS_FILE (from `make_export 50`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBmms, launchProfile, firstVisit } from "../tests/harness.mjs";
import { assessAt, setField, openTab, synced } from "../tests/pages.mjs";
import { writeSection } from "./sections.mjs";

const fiftyEdits = process.argv[2];
const LINKS = [
  { name: "2G", up: 50_000, down: 100_000, rtt: 600 },
  { name: "slow 2G", up: 35_000, down: 32_000, rtt: 1_300 },
];
const PLACE = ["Basilan", "City of Lamitan", "Arco", "1900702001"];

/** The durations of the app's completed syncs so far. */
const syncs = (page) => page.evaluate(() => performance.getEntriesByName("bmms-sync").map((e) => e.duration));

/** Runs `act`, then waits for the next sync the app completes; returns its duration. */
async function nextSync(page, act) {
  const before = (await syncs(page)).length;
  await act();
  await page.waitForFunction((n) => performance.getEntriesByName("bmms-sync").length > n, before, { timeout: 300_000 });
  return (await syncs(page))[before];
}

/** A camera's photo, 3000 × 2000 pixels with sensor-like noise from `seed`, as the
 * browser encodes it (each link its own photo: one the server has is not sent again). */
async function cameraPhoto(page, seed) {
  const base64 = await page.evaluate(async (seed) => {
    const canvas = new OffscreenCanvas(3000, 2000);
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(3000, 2000);
    for (let i = 0; i < pixels.data.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const pixel = i >> 2, x = pixel % 3000, y = Math.floor(pixel / 3000), channel = i % 4;
      const scene = channel === 0 ? x / 12 : channel === 1 ? y / 8 : (x * y) % 255;
      pixels.data[i] = channel === 3 ? 255 : Math.min(255, scene + (seed >> 25));
    }
    context.putImageData(pixels, 0, 0);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: "image/jpeg", quality: 0.95 })).arrayBuffer());
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  }, seed);
  return Buffer.from(base64, "base64");
}

/** Takes a photo in a new assessment and times its sending with three drops. */
async function photoWithDrops(context, page, seed) {
  await context.setOffline(true);
  await assessAt(page, PLACE);
  await setField(page, "Households", "30");
  const photos = page.locator("fieldset.photos");
  await photos.getByLabel("Take a photo").setInputFiles({ name: "IMG.jpg", mimeType: "image/jpeg", buffer: await cameraPhoto(page, seed) });
  const saved = await photos.getByRole("status").filter({ hasText: "Photo saved on this phone" }).innerText();
  const kilobytes = Number(saved.match(/\((\d+) KB\)/)[1]);
  // shared/src/photos.rs's CHUNK_BYTES.
  const chunks = Math.ceil((kilobytes * 1000) / 8192);
  let chunkBytes = 0, chunksDone = 0;
  const drops = [0.3, 0.55, 0.8].map((share) => Math.floor(share * chunks));
  let dropping = Promise.resolve();
  const onRequest = (request) => {
    if (request.method() !== "PATCH" || !request.url().includes("/api/v1/photos/")) return;
    chunkBytes += request.postDataBuffer()?.length ?? 0;
    chunksDone += 1;
    if (drops.length && chunksDone >= drops[0]) {
      drops.shift();
      // The signal goes while this chunk is on its way, and comes back two seconds later.
      dropping = dropping.then(async () => {
        await context.setOffline(true);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        await context.setOffline(false);
      });
    }
  };
  page.on("request", onRequest);
  const started = Date.now();
  await context.setOffline(false);
  await page.locator("#photos-waiting").waitFor({ state: "detached", timeout: 600_000 });
  const seconds = (Date.now() - started) / 1000;
  await dropping;
  page.off("request", onRequest);
  const photoBytes = kilobytes * 1000;
  return { photo_kb: kilobytes, seconds, chunk_bytes_sent: chunkBytes, resent_percent: Math.max(0, ((chunkBytes - photoBytes) / photoBytes) * 100) };
}

const bmms = await startBmms();
const results = {};
try {
  for (const link of LINKS) {
    const profile = mkdtempSync(join(tmpdir(), "bmms-bench-field-"));
    const username = `bench.${link.name.replace(/\W/g, "")}`;
    const password = bmms.createUser("MILG", username, "field_officer", "Bench Officer");
    const context = await launchProfile(profile);
    const page = await firstVisit(context, bmms.url, username, password);
    const cdp = await context.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: link.rtt,
      downloadThroughput: link.down / 8,
      uploadThroughput: link.up / 8,
      connectionType: "cellular2g",
    });
    const figures = {};
    // One dirty record: a new assessment's field, saved on the phone, then its sync.
    await assessAt(page, PLACE);
    await setField(page, "Households", "12");
    // Its first sync done, the next one carries exactly the next edit.
    await synced(page);
    figures.one_dirty_record_ms = await nextSync(page, () => setField(page, "Respondents", "7"));
    // 50 dirty records at once, as after a day offline.
    await synced(page);
    await openTab(page, "This device");
    figures.fifty_dirty_records_ms = await nextSync(page, () => page.getByLabel("Import edits from a file").setInputFiles(fiftyEdits));
    figures.photo = await photoWithDrops(context, page, link.rtt);
    results[link.name] = figures;
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
} finally {
  await bmms.stop();
}

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const photo = (p) => `${p.photo_kb} KB photo: ${p.seconds.toFixed(1)} s, ${p.resent_percent.toFixed(1)} % re-sent`;
const [a, b] = [results["2G"], results["slow 2G"]];
const table = [
  "| figure | 2G (50/100 kbit/s, 600 ms) | slow 2G (35/32 kbit/s, 1,300 ms) | target (2G) |",
  "|---|---|---|---|",
  `| one dirty record synced (the app's sync, start to end) | ${s(a.one_dirty_record_ms)} | ${s(b.one_dirty_record_ms)} | ≤ 2 s |`,
  `| 50 dirty records synced | ${s(a.fifty_dirty_records_ms)} | ${s(b.fifty_dirty_records_ms)} | ≤ 5 s |`,
  `| a photo taken in the app, sent with the network going away three times for 2 s (saved → none waiting) | ${photo(a.photo)} | ${photo(b.photo)} | ≤ 10 % re-sent |`,
].join("\n");
console.log(table);
console.log(JSON.stringify(results, null, 2));
writeSection(
  "app-field-bench",
  `## Field sync in the app over emulated 2G (issue 18)\n\nMeasured with \`BMMS_BENCH_ONLY=field scripts/bench-app\` on ${new Date().toISOString().slice(0, 10)} (2 cores, 24 GiB): Debian's headless Chromium with the CPU throttled 4x and DevTools' network emulation, the real app and server, PostgreSQL on the same machine. DevTools adds the round trip to each request and caps the throughput, but a new connection's handshakes cost nothing there: the proxy figures above ("Field sync over 2G") pay them.\n\n${table}`,
);

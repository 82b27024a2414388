// The same-run baseline beside the app's figures (issue 20), as bench/src/baseline.rs
// gives the server's: how fast this machine was in this very run, so that a figure
// measured on a slower host can say so.
// - pgbench's TPC-B-like script on a scratch database of the same cluster, 5 s, two
//   clients: transactions per second (the same yardstick as the server's sections);
// - a fixed CPU-bound loop in the page, under the same 4x throttling as the figures:
//   milliseconds, the best of three.
// Measured after the figures, as the server's baseline is.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";

const POSTGRES_BIN = "/usr/lib/postgresql/15/bin";

function run(program, args) {
  const out = spawnSync(`${POSTGRES_BIN}/${program}`, args, { encoding: "utf8" });
  if (out.error) throw new Error(`${program} could not start: ${out.error.message} (Debian's postgresql package has it)`);
  if (out.status !== 0) throw new Error(`${program} failed: ${out.stderr}`);
  return out.stdout;
}

/** pgbench's TPC-B-like script on a scratch database of `adminUrl`'s cluster: tps. */
export function pgbenchTps(adminUrl) {
  const name = `bmms_pgbench_${randomBytes(6).toString("hex")}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  run("createdb", [`--maintenance-db=${adminUrl}`, name]);
  try {
    run("pgbench", ["-i", "-s", "10", "-q", url.toString()]);
    const out = run("pgbench", ["-T", "5", "-c", "2", "-j", "2", url.toString()]);
    const line = out.split("\n").find((l) => l.startsWith("tps"));
    const tps = Number(line?.split(/\s+/)[2]);
    if (!Number.isFinite(tps)) throw new Error(`pgbench printed no tps: ${out}`);
    return Math.round(tps);
  } finally {
    run("dropdb", [`--maintenance-db=${adminUrl}`, name]);
  }
}

/** 10⁸ xorshift32 steps in `page` (throttled as the figures were), the best of three, in ms. */
export async function cpuLoopMs(page) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(await page.evaluate(() => {
      const started = performance.now();
      let x = 0x9e3779b9 | 0;
      let sum = 0;
      for (let n = 0; n < 100_000_000; n++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        sum = (sum + x) | 0;
      }
      // Read the sum, so the loop cannot be thrown away.
      return sum === 42 ? NaN : performance.now() - started;
    }));
  }
  return Math.round(Math.min(...runs));
}

/** Both yardsticks, measured now. */
export async function measure(page, adminUrl) {
  return {
    cpu_loop_ms: await cpuLoopMs(page),
    cpu_loop: "100,000,000 xorshift32 steps in the page, CPU throttled 4x, best of 3",
    pgbench_tps: pgbenchTps(adminUrl),
    pgbench: "tpcb-like, scale 10, 2 clients, 5 s",
  };
}

// The restore drill (scripts/restore-drill runs it): a private cluster with pgBackRest
// archiving (deployment/pgbackrest/setup), a BMMS server taking writes, a backup, more
// writes, then the cluster destroyed (killed, its directory deleted) and restored from
// the repository to the latest point the archive holds. It reports:
//   RPO: the writes BMMS had acknowledged that the restored database lacks, and how long
//        before the destruction the first of them was acknowledged;
//   RTO: from the start of the restore until BMMS answers /readyz again.
// Writes are desk tasks (POST /api/v1/tasks), each checked afterwards by its id.
//
//   node restore-drill.mjs <bmms binary> <seconds of writing after the backup> <archive timeout>
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, chmodSync, rmSync, readdirSync, unlinkSync, existsSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer } from "node:net";

const [bmms, writeSeconds = "15", archiveTimeout = "10"] = process.argv.slice(2).map((a, i) => (i === 0 ? resolve(a) : a));
const here = new URL(".", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "bmms-drill-"));
chmodSync(dir, 0o755); // PostgreSQL runs as `postgres` when the drill runs as root
const dataDir = join(dir, "data");
const repo = join(dir, "repo");
const cluster = join(dataDir, "postgres");
const config = join(repo, "pgbackrest.conf");

// Every bmms command of the drill uses the private cluster in dataDir, whatever the caller's
// environment says.
const env = { ...process.env, BMMS_LOG: "warn" };
delete env.DATABASE_URL;
delete env.BMMS_DATA_DIR;
const run = (program, args, options = {}) => execFileSync(program, args, { encoding: "utf8", ...options });
const asOwner = (program, args) => (process.getuid() === 0 ? run("runuser", ["-u", "postgres", "--", program, ...args], { cwd: "/" }) : run(program, args));
const freePort = () =>
  new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });

let server;
async function startServer(port) {
  server = spawn(bmms, ["--data-dir", dataDir, "serve", "--listen", `127.0.0.1:${port}`, "--insecure-cookies"], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return base;
    } catch {
      // not listening yet
    }
    if (server.exitCode !== null) throw new Error("bmms serve stopped");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A desk session: its cookie and CSRF token. */
async function signIn(base, username, password) {
  const answer = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!answer.ok) throw new Error(`sign-in of ${username}: ${answer.status}`);
  const cookie = answer.headers.get("set-cookie").split(";")[0];
  return { cookie, csrf: (await answer.json()).csrf_token };
}

function createUser(role, username) {
  const out = run(bmms, ["--data-dir", dataDir, "admin", "create-user", "--org", "MILG", "--username", username, "--display-name", username, "--role", role], {
    env,
  });
  return out.match(/shown only now: (\S+)/)[1];
}

const acknowledged = []; // [id, time acknowledged]
async function write(base, session) {
  const id = randomUUID();
  const answer = await fetch(`${base}/api/v1/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: session.cookie, "x-csrf-token": session.csrf },
    body: JSON.stringify({ id, title: "Drill visit", ppa: "Drill", site: "Poblacion", due_date: "2027-01-31", assignee: "drill.officer" }),
  });
  if (answer.status === 201) acknowledged.push([id, Date.now()]);
}

try {
  run(bmms, ["--data-dir", dataDir, "db", "start"], { env });
  run(join(here, "setup"), ["--data-dir", dataDir, "--repo", repo, "--archive-timeout", archiveTimeout]);
  let base = await startServer(await freePort());
  createUser("field_officer", "drill.officer");
  const session = await signIn(base, "drill.supervisor", createUser("supervisor", "drill.supervisor"));

  for (let i = 0; i < 50; i++) await write(base, session);
  asOwner("pgbackrest", [`--config=${config}`, "--stanza=bmms", "--type=incr", "backup"]);
  const backedUpAt = Date.now();
  const until = Date.now() + Number(writeSeconds) * 1000;
  while (Date.now() < until) await write(base, session);

  // The disaster: the server and PostgreSQL killed, the cluster's directory gone.
  const destroyedAt = Date.now();
  server.kill("SIGKILL");
  const postmaster = run("head", ["-1", join(cluster, "postmaster.pid")]).trim();
  process.kill(Number(postmaster), "SIGKILL");
  rmSync(cluster, { recursive: true, force: true });

  const restoreStarted = Date.now();
  run("mkdir", ["-p", cluster]);
  chmodSync(cluster, 0o700);
  if (process.getuid() === 0) run("chown", ["postgres:postgres", cluster]);
  asOwner("pgbackrest", [`--config=${config}`, "--stanza=bmms", "restore"]);
  // The backup holds the old socket's lock file, which names a dead server.
  for (const name of readdirSync(cluster).filter((n) => n.startsWith(".s.PGSQL"))) unlinkSync(join(cluster, name));
  if (existsSync(join(cluster, "postmaster.pid"))) unlinkSync(join(cluster, "postmaster.pid"));
  run(bmms, ["--data-dir", dataDir, "db", "start"], { env });
  // PostgreSQL answers reads while it replays the archive; BMMS needs it writable, which
  // it is once it has replayed everything and promoted itself.
  const inRecovery = () => run("psql", ["-XAtq", "-h", cluster, "-U", "bmms_owner", "-d", "postgres", "-c", "select pg_is_in_recovery()"]).trim() === "t";
  while (inRecovery()) await new Promise((r) => setTimeout(r, 200));
  base = await startServer(await freePort());
  const rtoSeconds = (Date.now() - restoreStarted) / 1000;

  const reader = await signIn(base, "drill.supervisor", run(bmms, ["--data-dir", dataDir, "admin", "reset-password", "--username", "drill.supervisor"], { env }).match(/shown only now: (\S+)/)[1]);
  const lost = [];
  for (const [id, at] of acknowledged) {
    const answer = await fetch(`${base}/api/v1/records/${id}`, { headers: { cookie: reader.cookie } });
    if (answer.status === 404) lost.push(at);
    else if (answer.status !== 200) throw new Error(`reading ${id}: ${answer.status}`);
  }
  const rpoSeconds = lost.length ? (destroyedAt - Math.min(...lost)) / 1000 : 0;
  const figures = {
    acknowledged: acknowledged.length,
    lost: lost.length,
    rpo_seconds: Number(rpoSeconds.toFixed(1)),
    rto_seconds: Number(rtoSeconds.toFixed(1)),
    archive_timeout_seconds: Number(archiveTimeout),
  };
  console.log(JSON.stringify(figures));
  // What the backup holds is never lost; after it, at most what the archive timeout allows.
  const lostFromBackup = lost.filter((at) => at <= backedUpAt).length;
  if (lostFromBackup > 0) {
    console.error(`the restore lost ${lostFromBackup} writes acknowledged before the backup`);
    process.exitCode = 1;
  }
  if (lost.length && rpoSeconds > Number(archiveTimeout) + 5) {
    console.error(`lost writes older than the archive timeout allows: ${rpoSeconds} s`);
    process.exitCode = 1;
  }
} finally {
  server?.kill("SIGKILL");
  try {
    run(bmms, ["--data-dir", dataDir, "db", "stop"], { env });
  } catch {
    // nothing runs there any more
  }
  rmSync(dir, { recursive: true, force: true });
}

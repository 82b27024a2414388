// Test harness: a fresh database, the real `bmms` server on a free port, and Debian's
// headless Chromium. BMMS_BIN names the server binary; DATABASE_URL the PostgreSQL
// server to create the database on (scripts/test sets both).
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { createServer as createHttpServer, request } from "node:http";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, after } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const bin = process.env.BMMS_BIN ?? "../target/debug/bmms";
export const artifacts = fileURLToPath(new URL("../artifacts/", import.meta.url));
mkdirSync(artifacts, { recursive: true });

function freshDatabaseUrl() {
  if (!process.env.DATABASE_URL) throw new Error("set DATABASE_URL (scripts/test does)");
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/bmms_e2e_${randomBytes(6).toString("hex")}`;
  return url.toString();
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts BMMS on a new database, serving the app from `distDir`; resolves once it listens.
 * `mfaRoles` is the operator's BMMS_MFA_ROLES: the tests of other things sign everyone in
 * with a password alone ("none"); second-factor.test.mjs runs the default policy. */
export async function startBmms({ distDir = "../dist", mfaRoles = "none", env: extra = {} } = {}) {
  // Each server signs certifications with a key of its own, made in a directory of its
  // own, and keeps its photos there.
  const keyDir = mkdtempSync(join(tmpdir(), "bmms-e2e-"));
  const env = {
    ...process.env,
    DATABASE_URL: freshDatabaseUrl(),
    BMMS_CERTIFICATION_KEY: join(keyDir, "certification-key"),
    BMMS_FACTOR_KEY: join(keyDir, "factor-key"),
    BMMS_PHOTO_STORE: join(keyDir, "photos"),
    BMMS_MFA_ROLES: mfaRoles,
    ...extra,
  };
  const port = await freePort();
  const child = spawn(bmmsPath(), ["serve", "--listen", `127.0.0.1:${port}`, "--dist-dir", distDir], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  await new Promise((resolve, reject) => {
    child.stderr.on("data", (chunk) => {
      log += chunk;
      if (log.includes("BMMS is listening")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`bmms exited with ${code}:\n${log}`)));
  });
  return {
    // Chromium treats http://localhost as a secure origin, so the Secure cookie works.
    url: `http://localhost:${port}`,
    env,
    /** Sets a new password for a user, which ends their sessions; returns it. */
    resetPassword(username) {
      const out = execFileSync(bmmsPath(), ["admin", "reset-password", "--username", username], { env, encoding: "utf8" });
      return out.match(/shown only now: (\S+)/)[1];
    },
    /** Signs in over the API; returns a function that GETs an API path as that person, or
     * POSTs `body` to it when one is given. */
    async apiAs(username, password) {
      const login = await fetch(`http://localhost:${port}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      if (!login.ok) throw new Error(`sign-in failed: ${login.status} ${await login.text()}`);
      const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
      const { csrf_token: csrf } = await login.json();
      const api = async (path, body) => {
        const write = body === undefined ? {} : {
          method: "POST",
          headers: { cookie, "content-type": "application/json", "x-csrf-token": csrf },
          body: JSON.stringify(body),
        };
        const response = await fetch(`http://localhost:${port}${path}`, { headers: { cookie }, ...write });
        if (!response.ok) throw new Error(`${write.method ?? "GET"} ${path}: ${response.status} ${await response.text()}`);
        return response.json();
      };
      /** The status of a GET of `path` (a photo, say), whatever its body. */
      api.status = async (path) => (await fetch(`http://localhost:${port}${path}`, { headers: { cookie } })).status;
      return api;
    },
    /** Creates a user; returns the generated password. */
    createUser(org, username, role, displayName) {
      const out = execFileSync(bmmsPath(), ["admin", "create-user", "--org", org, "--username", username,
        "--display-name", displayName, "--role", role], { env, encoding: "utf8" });
      return out.match(/shown only now: (\S+)/)[1];
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on("exit", resolve);
        child.kill("SIGTERM");
      });
    },
  };
}

function bmmsPath() {
  return fileURLToPath(new URL(bin, new URL("../", import.meta.url)));
}

const chromiumOptions = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
};

// Every browser a test file starts is closed when the file's tests end, also when a test
// failed before closing its own: an open browser would keep the test process alive.
const openBrowsers = new Set();
after(async () => {
  for (const browser of openBrowsers) await browser.close().catch(() => {});
});

/** `browser` (a Browser or a persistent BrowserContext), closed at the latest at the end. */
function closedAtTheEnd(browser, closeEvent) {
  openBrowsers.add(browser);
  browser.on(closeEvent, () => openBrowsers.delete(browser));
  return browser;
}

/** Debian's Chromium, headless, with a clean profile and no background traffic. */
export async function launchBrowser() {
  return closedAtTheEnd(await chromium.launch(chromiumOptions), "disconnected");
}

/** Chromium on a profile kept in `dir`, as a phone keeps its browser's data between uses. */
export async function launchProfile(dir) {
  const options = { ...chromiumOptions, viewport: { width: 360, height: 640 } };
  return closedAtTheEnd(await chromium.launchPersistentContext(dir, options), "close");
}

/**
 * An officer's first visit in `context`: opens BMMS, signs in, waits for the first sync,
 * and reloads once the service worker is ready, so that it controls the page from then on
 * (as on the officer's next visit). Returns the page.
 */
export async function firstVisit(context, url, username, password) {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator("#last-sync").filter({ hasText: "Last synced" }).waitFor().catch(async (err) => {
    // Say what the officer would have seen instead of the first sync.
    const shown = await page.locator("main, body").first().innerText().catch(() => "(no page)");
    throw new Error(`${err.message}\nthe page showed:\n${shown.slice(0, 2000)}`);
  });
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.getByRole("heading", { name: /Signed in as/ }).waitFor();
  if (!(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)))) {
    throw new Error("the service worker does not control the page after a reload");
  }
  return page;
}

/**
 * A new user of `org` with `role`, signed in at the desk build (`/desk/`) in the world's
 * desktop Chromium (a world made with `desktop: true`).
 */
export async function atTheDesk(world, org, username, role, name) {
  const password = world.bmms.createUser(org, username, role, name);
  const context = await world.desktop.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${world.bmms.url}/desk/`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: `Signed in as ${name}` }).waitFor();
  return { context, page };
}

/**
 * A reverse proxy on loopback in front of `upstream`, as a network between phone and
 * server. Each request's body is read whole; `intercept(incoming, body, outgoing)` may
 * deal with it itself (and returns true), else it is passed on as it came (the Host
 * header as the browser sent it: the server checks a write's Origin against it).
 * Resolves to its address and `close`.
 */
export async function reverseProxy(upstream, intercept = () => false) {
  const target = new URL(upstream);
  const proxy = createHttpServer((incoming, outgoing) => {
    const chunks = [];
    incoming.on("data", (chunk) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      if (intercept(incoming, body, outgoing)) return;
      const forwarded = request({ host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: incoming.headers }, (answer) => {
        outgoing.writeHead(answer.statusCode, answer.headers);
        answer.pipe(outgoing);
      });
      forwarded.on("error", () => outgoing.destroy());
      forwarded.end(body);
    });
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return { url: `http://localhost:${proxy.address().port}`, close: () => proxy.close() };
}

/**
 * Waits until `check()` resolves to something truthy, and returns it: for what happens
 * outside any page (a service worker's work reaching the server), asked again every
 * quarter of a second for up to a minute.
 */
export async function eventually(check, what) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`still not so after a minute: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Where the tests put the screenshots that the guides in docs/ show. */
export const docImages = fileURLToPath(new URL("../../docs/images/", import.meta.url));

/**
 * The world of one test file: BMMS on a fresh database (and, with `desktop`, a desktop
 * Chromium), started before the tests and stopped after them, with the phone profiles
 * the tests made removed.
 */
export function testWorld({ desktop = false, mfaRoles = "none", env = {} } = {}) {
  const world = {
    bmms: null,
    desktop: null,
    profiles: [],
    /** A browser profile directory of its own, like a phone's. */
    newProfileDir() {
      const dir = mkdtempSync(join(tmpdir(), "bmms-e2e-profile-"));
      world.profiles.push(dir);
      return dir;
    },
    /** A field officer of `org` on their own phone, signed in once online. */
    async officerPhone(org, username, name, role = "field_officer") {
      const password = world.bmms.createUser(org, username, role, name);
      const context = await launchProfile(world.newProfileDir());
      return { context, page: await firstVisit(context, world.bmms.url, username, password), password };
    },
  };
  before(async () => {
    world.bmms = await startBmms({ mfaRoles, env });
    if (desktop) world.desktop = await launchBrowser();
  });
  after(async () => {
    await world.desktop?.close();
    await world.bmms?.stop();
    for (const dir of world.profiles) rmSync(dir, { recursive: true, force: true });
  });
  return world;
}

// Single sign-on through OpenID Connect, against a certified provider (panva's
// oidc-provider, e2e/oidc/provider.mjs) started on loopback. A provider's account signs
// in only the BMMS user it is linked to: a person links theirs from the Security page,
// then "Sign in with Bangsamoro SSO" signs them in; one with a second factor still gives
// it after the provider; an account linked to nobody is refused (the same name as a BMMS
// user links nothing), unless the operator lets that provider make new users; and an
// answer whose state or nonce is not the one BMMS sent is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBmms, launchBrowser, freePort } from "./harness.mjs";
import { setUpAuthenticatorApp } from "./pages.mjs";

const providerPort = await freePort();
const issuer = `http://127.0.0.1:${providerPort}`;
const providers = join(mkdtempSync(join(tmpdir(), "bmms-oidc-")), "providers.json");
writeFileSync(providers, JSON.stringify([
  { id: "bangsamoro-sso", label: "Bangsamoro SSO", issuer, client_id: "bmms", client_secret: "bmms-test-secret" },
  // The same provider again, as the one the operator lets make MILG's field officers.
  { id: "milg-field", label: "MILG field accounts", issuer, client_id: "bmms", client_secret: "bmms-test-secret",
    username_claim: "preferred_username", provision: { organization: "MILG", role: "field_officer" } },
]));
// BMMS first, then the provider, which must know BMMS's callback address.
const world = { bmms: null, desktop: null };
let provider;
before(async () => {
  world.bmms = await startBmms({ mfaRoles: "default", env: { BMMS_OIDC_PROVIDERS: providers } });
  world.desktop = await launchBrowser();
  const script = fileURLToPath(new URL("../oidc/provider.mjs", import.meta.url));
  const callback = ["bangsamoro-sso", "milg-field"].map((id) => `${world.bmms.url}/api/v1/auth/oidc/${id}/callback`).join(",");
  provider = spawn(process.execPath, [script, String(providerPort), callback], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    provider.stdout.on("data", (chunk) => String(chunk).includes("ready") && resolve());
    provider.on("exit", (code) => reject(new Error(`the OIDC provider exited with ${code}`)));
  });
});
after(async () => {
  provider?.kill();
  await world.desktop?.close();
  await world.bmms?.stop();
});

/** From BMMS's sign-in page through the provider's own pages, as `login`. */
async function throughTheProvider(page, login, label = "Bangsamoro SSO") {
  await page.getByRole("link", { name: `Sign in with ${label}` }).click();
  await atTheProvider(page, login);
}

/** The provider's own pages: its sign-in as `login`, then its consent. */
async function atTheProvider(page, login) {
  await page.waitForURL(`${issuer}/**`);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
}

async function freshPage() {
  const context = await world.desktop.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${world.bmms.url}/desk/`);
  return { context, page };
}

async function withPassword(page, username, password) {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Links the signed-in person's Bangsamoro SSO account, `login` there, from Security. */
async function link(page, login) {
  await page.getByRole("navigation").getByRole("button", { name: "Security", exact: true }).click();
  await page.getByRole("button", { name: "Link Bangsamoro SSO" }).click();
  await atTheProvider(page, login);
  await page.getByRole("navigation").getByRole("button", { name: "Security", exact: true }).click();
  await page.locator("#sign-in-services").filter({ hasText: "Bangsamoro SSO: linked" }).waitFor();
}

async function signOut(page) {
  await page.getByRole("navigation").getByRole("button", { name: "Home", exact: true }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
}

test("a person links their account at the provider, then signs in through it; the same name links nothing", async () => {
  const password = world.bmms.createUser("MILG", "bai.sarip", "supervisor", "Bai Sarip");
  // A provider account named like a BMMS user is not that user until linked.
  let { context, page } = await freshPage();
  await throughTheProvider(page, "bai.sarip");
  await page.locator("#reason").filter({ hasText: "not linked to a BMMS account yet" }).waitFor();
  await context.close();

  ({ context, page } = await freshPage());
  await withPassword(page, "bai.sarip", password);
  await page.getByRole("heading", { name: "Signed in as Bai Sarip" }).waitFor();
  await link(page, "bai-at-the-provider");
  await signOut(page);
  // Signed in at the provider already (while linking), the person comes straight back.
  await page.getByRole("link", { name: "Sign in with Bangsamoro SSO" }).click();
  await page.getByRole("heading", { name: "Signed in as Bai Sarip" }).waitFor();
  assert.match(page.url(), /\/desk\/$/, "back at the desk, where the sign-in began");
  await context.close();
});

test("a person with a second factor gives it after the provider", async () => {
  const password = world.bmms.createUser("MOH", "hamid.head", "org_admin", "Hamid Head");
  const { context, page } = await freshPage();
  await withPassword(page, "hamid.head", password);
  const { phone } = await setUpAuthenticatorApp(page);
  await page.getByRole("heading", { name: "Signed in as Hamid Head" }).waitFor();
  await link(page, "hamid");
  await signOut(page);
  await page.getByRole("link", { name: "Sign in with Bangsamoro SSO" }).click();
  await page.locator("#second-factor").waitFor();
  assert.equal(await page.getByRole("heading", { name: "Signed in as Hamid Head" }).count(), 0, "not signed in before the code");
  await page.getByLabel("Code").fill(phone.code());
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByRole("heading", { name: "Signed in as Hamid Head" }).waitFor();
  await context.close();
});

test("an account linked to nobody is refused, and told what to do", async () => {
  const { context, page } = await freshPage();
  await throughTheProvider(page, "stranger");
  await page.locator("#reason").filter({ hasText: "not linked to a BMMS account yet" }).waitFor();
  const me = await page.request.get(`${world.bmms.url}/api/v1/me`);
  assert.equal(me.status(), 401, "nobody is signed in");
  await context.close();
});

test("a provider the operator lets make users makes a new field officer of MILG", async () => {
  const { context, page } = await freshPage();
  await throughTheProvider(page, "new.officer", "MILG field accounts");
  await page.getByRole("heading", { name: "Signed in as new.officer" }).waitFor();
  const me = await (await page.request.get(`${world.bmms.url}/api/v1/me`)).json();
  assert.deepEqual([me.organization.code, me.role], ["MILG", "field_officer"]);
  await context.close();
});

test("an answer with another state, or an ID token with another nonce, signs nobody in", async () => {
  world.bmms.createUser("MILG", "norhana.s", "supervisor", "Norhana S");
  const start = `${world.bmms.url}/api/v1/auth/oidc/bangsamoro-sso/start?to=desk`;

  // A flow begun in this browser, answered with another state.
  let { context, page } = await freshPage();
  const first = await page.request.get(start, { maxRedirects: 0 });
  assert.equal(first.status(), 303, "the flow began");
  await page.goto(`${world.bmms.url}/api/v1/auth/oidc/bangsamoro-sso/callback?code=a-code&state=not-the-state-bmms-sent`);
  await page.locator("#reason").filter({ hasText: "start again" }).waitFor();
  await context.close();

  // A flow whose request to the provider carries another nonce: the provider signs that
  // nonce into the ID token, and BMMS refuses it.
  ({ context, page } = await freshPage());
  const begun = await page.request.get(start, { maxRedirects: 0 });
  const authorize = new URL(begun.headers().location);
  assert.equal(authorize.origin, issuer);
  assert.equal(authorize.searchParams.get("code_challenge_method"), "S256", "PKCE");
  authorize.searchParams.set("nonce", "not-the-nonce-bmms-sent");
  await page.goto(authorize.toString());
  await page.locator('input[name="login"]').fill("norhana.s");
  await page.locator('input[name="password"]').fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.locator("#reason").filter({ hasText: "did not check out" }).waitFor();
  const me = await page.request.get(`${world.bmms.url}/api/v1/me`);
  assert.equal(me.status(), 401, "nobody is signed in");
  await context.close();
});

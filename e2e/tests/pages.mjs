// What tests do on the app's pages, as a person would: sync, wait for a sync, fill a field of
// the open record, go offline, open a tab, set up an authenticator app, take a photo.
import * as OTPAuth from "otpauth";

/** Waits until the app has finished a sync (its first one included) with nothing left. */
export async function synced(page) {
  await page.locator("#pending").filter({ hasText: "Everything is synced." }).waitFor();
  await page.locator("#last-sync").filter({ hasText: "Last synced" }).waitFor();
}

/** Taps "Sync now" and waits until a sync has finished with nothing left ("Everything is
 * synced." may show before the tap, so the app's mark of a finished sync is counted). */
export async function syncNow(page) {
  const finished = await page.evaluate(() => performance.getEntriesByName("bmms-sync").length);
  await page.getByRole("button", { name: "Sync now" }).click();
  await page.waitForFunction((n) => performance.getEntriesByName("bmms-sync").length > n, finished);
  await synced(page);
}

/** Types into a field of the open record and waits until the app has saved it on the device. */
export async function setField(page, label, value) {
  const field = page.locator(".field").filter({ has: page.getByLabel(label, { exact: true }) });
  const input = field.getByLabel(label, { exact: true });
  // The app marks every completed save (performance.measure "bmms-save"): count them, as
  // "Saved on this device." may still show from this field's previous save.
  const saves = await page.evaluate(() => performance.getEntriesByName("bmms-save").length);
  if ((await input.evaluate((el) => el.tagName)) === "SELECT") {
    await input.selectOption(value);
  } else {
    await input.fill(value);
    await input.press("Tab");
  }
  await page.waitForFunction((n) => performance.getEntriesByName("bmms-save").length > n, saves);
  await field.getByText("Saved on this device.").waitFor();
}

export async function goOffline(context, page) {
  await context.setOffline(true);
  await page.locator("#network").filter({ hasText: "Offline" }).waitFor();
}

export async function openTab(page, name) {
  await page.getByRole("navigation").getByRole("button", { name, exact: true }).click();
}

/** A phone's authenticator app (otpauth's TOTP), set up from the key the screen shows. */
export function authenticator(secret) {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" });
  let lastStep = 0;
  return {
    /** The code of now, or of the next 30 seconds if now's was used: the server takes
     * each once, and the codes of one step either side of now. */
    code() {
      const now = Math.floor(Date.now() / 30_000);
      const step = Math.max(now, lastStep + 1);
      if (step > now + 1) throw new Error("the test used more than two codes within 30 seconds: use a recovery code");
      lastStep = step;
      return totp.generate({ timestamp: step * 30_000 });
    },
  };
}

/** Sets up an authenticator app from the set-up panel on the page (at sign-in or on the
 * Security tab) and saves the recovery codes; returns the app and the codes. */
export async function setUpAuthenticatorApp(page) {
  const phone = authenticator(await page.locator("#totp-secret").innerText());
  await page.getByLabel("Then type the six-digit code the app shows:").fill(phone.code());
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
  const recoveryCodes = await page.locator("#recovery-codes code").allInnerTexts();
  await page.getByRole("button", { name: "I have saved them: continue" }).click();
  return { phone, recoveryCodes };
}

/**
 * At the desk's Team and tasks (open on `page`): gives the field officer `username` the
 * city or municipality `municipality` of `province`, and waits until it is saved.
 */
export async function giveMunicipality(page, username, province, municipality) {
  await openTab(page, "Team and tasks");
  await page.locator('select[name="scope-officer"]').selectOption(username);
  const adder = page.locator(".area-adder");
  await adder.locator('select[name="scope-province"]').selectOption({ label: province });
  await adder.locator('select[name="scope-municipality"]').selectOption({ label: municipality });
  await adder.getByRole("button", { name: "Add" }).click();
  await page.locator("#officer-areas li").filter({ hasText: municipality }).waitFor();
}

/** A new assessment on an officer's `page`, placed with the picker. */
export async function assessAt(page, [province, municipality, barangay, code]) {
  await openTab(page, "Assessments");
  await page.getByRole("button", { name: "New assessment" }).click();
  await page.getByLabel("Place: province").selectOption({ label: province });
  await page.getByLabel("Place: city or municipality").selectOption({ label: municipality });
  await page.getByLabel("Place: barangay").selectOption({ label: barangay });
  await page.getByText(`PSGC code ${code}.`).waitFor();
}


/** A camera's photo: `width` × `height` pixels (3000 × 2000 unless told) of colour
 * gradients with sensor-like noise, drawn and encoded by the browser of `page` itself, a
 * few megabytes as a phone's camera makes them at full size. */
export async function cameraPhoto(page, width = 3000, height = 2000) {
  const base64 = await page.evaluate(async ([width, height]) => {
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(width, height);
    let seed = 7;
    for (let i = 0; i < pixels.data.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const pixel = i >> 2, x = pixel % width, y = Math.floor(pixel / width), channel = i % 4;
      const gradient = channel === 0 ? x / 12 : channel === 1 ? y / 8 : (x + y) / 20;
      pixels.data[i] = channel === 3 ? 255 : Math.min(255, gradient + (seed >> 27));
    }
    context.putImageData(pixels, 0, 0);
    const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.95 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  }, [width, height]);
  return Buffer.from(base64, "base64");
}

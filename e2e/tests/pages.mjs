// What tests do on the app's pages, as a person would: wait for a sync, fill a field of
// the open record, go offline, open a tab.

/** Waits until the app has finished a sync (its first one included) with nothing left. */
export async function synced(page) {
  await page.locator("#pending").filter({ hasText: "Everything is synced." }).waitFor();
  await page.locator("#last-sync").filter({ hasText: "Last synced" }).waitFor();
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

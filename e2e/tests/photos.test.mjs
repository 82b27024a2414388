// Photos (docs/sync-protocol.md, "Photos"): a field officer takes a photo in an assessment
// with no signal; the phone shrinks it and keeps it; once online it goes up after the
// record, can then leave the phone to free space, and the supervisor sees it on the record
// at the desk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld, atTheDesk } from "./harness.mjs";
import { setField, openTab, goOffline, assessAt, cameraPhoto, syncNow } from "./pages.mjs";

const world = testWorld({ desktop: true });

const LAMITAN = ["Basilan", "City of Lamitan", "Arco", "1900702001"];

test("a photo taken offline is shrunk on the phone and appears on the record at the desk after sync", async () => {
  const ana = await world.officerPhone("MILG", "ana.officer", "Ana Mangudadatu");
  const photo = await cameraPhoto(ana.page);
  assert.ok(photo.length > 1_000_000, `the camera's photo is large (${photo.length} bytes)`);

  await goOffline(ana.context, ana.page);
  await assessAt(ana.page, LAMITAN);
  await setField(ana.page, "Households", "61");
  const photos = ana.page.locator("fieldset.photos");
  await photos.getByLabel("Take a photo").setInputFiles({ name: "IMG_0001.jpg", mimeType: "image/jpeg", buffer: photo });
  const saved = await photos.getByRole("status").filter({ hasText: "Photo saved on this phone" }).innerText();
  const kilobytes = Number(saved.match(/\((\d+) KB\)/)[1]);
  assert.ok(kilobytes <= 300, `the phone shrank the photo to ${kilobytes} KB`);
  // Shown from the phone's own copy (its address is set once IndexedDB has answered).
  const thumbnail = photos.locator('img.photo[src^="blob:"]');
  await thumbnail.waitFor();
  const [width, height] = await thumbnail.evaluate(async (img) => {
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  });
  assert.ok(Math.max(width, height) <= 1600 && width > height, `shown from the phone at ${width} × ${height}: at most 1600 pixels on its longest side`);
  await ana.page.locator("#photos-waiting").filter({ hasText: "1 photo to send" }).waitFor();

  await ana.context.setOffline(false);
  await syncNow(ana.page);
  await ana.page.locator("#photos-waiting").waitFor({ state: "detached" });
  await openTab(ana.page, "This device");
  await ana.page.locator("#photos-held").filter({ hasText: "1 photo on this phone" }).filter({ hasText: "0 still to send" }).waitFor();
  // Sent, it can leave the phone to free its space: the record then shows it from the server.
  await ana.page.getByRole("button", { name: "Remove sent photos from this phone" }).click();
  await ana.page.getByRole("status").filter({ hasText: "1 photo removed from this phone" }).waitFor();
  await ana.page.locator("#photos-held").filter({ hasText: "0 photos on this phone" }).waitFor();
  await openTab(ana.page, "Assessments");
  await ana.page.locator("ul.records li").filter({ hasText: "Arco" }).click();
  const fromServer = ana.page.locator('fieldset.photos img.photo[src^="/api/v1/photos/"]');
  assert.deepEqual(await fromServer.evaluate(async (img) => {
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  }), [width, height], "the phone shows the photo from the server");

  const desk = await atTheDesk(world, "MILG", "sofia.supervisor", "supervisor", "Sofia Sema");
  await openTab(desk.page, "Records");
  await desk.page.getByRole("button", { name: "Arco" }).click();
  const atDesk = desk.page.locator("#record-history img.photo");
  await atDesk.waitFor();
  const shown = await atDesk.evaluate(async (img) => {
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  });
  assert.deepEqual(shown, [width, height], "the supervisor sees the officer's photo as the phone keeps it");

  for (const who of [ana, desk]) await who.context.close();
});

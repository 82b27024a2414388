// A backlog of edits goes out whole through a network that takes less at once than the
// server does (issue 18): the app sends smaller batches by itself after a 413, and the
// sync bar counts what it has sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testWorld, launchProfile, firstVisit, reverseProxy } from "./harness.mjs";
import { synced, setField, goOffline, openTab } from "./pages.mjs";

const world = testWorld();

/**
 * A reverse proxy on loopback in front of `upstream` that answers 413 to a sync body over
 * `limit` bytes, as nginx's `client_max_body_size` does, and passes everything else on.
 * Resolves to its address and the count of bodies it refused.
 */
async function limitingProxy(upstream, limit) {
  const refused = { count: 0 };
  const proxy = await reverseProxy(upstream, (incoming, body, outgoing) => {
    if (!incoming.url.startsWith("/api/v1/sync") || body.length <= limit) return false;
    refused.count += 1;
    outgoing.writeHead(413, { "content-type": "text/html" });
    outgoing.end("<html><body><h1>413 Request Entity Too Large</h1></body></html>");
    return true;
  });
  return { ...proxy, refused };
}

/** `n` letters drawn at random, which compress little, as a long note pasted in would. */
function letters(n) {
  return Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("");
}

test("a backlog larger than the network takes at once goes out in smaller batches, counted on the sync bar", async () => {
  const password = world.bmms.createUser("MILG", "hadji.officer", "field_officer", "Hadji Officer");
  // About 4 KB compressed a record: six of them are three times what the proxy takes.
  const proxy = await limitingProxy(world.bmms.url, 8 * 1024);
  const context = await launchProfile(world.newProfileDir());
  try {
    const page = await firstVisit(context, proxy.url, "hadji.officer", password);
    await goOffline(context, page);
    await openTab(page, "Assessments");
    for (let i = 1; i <= 6; i++) {
      await page.getByRole("button", { name: "New assessment" }).click();
      await setField(page, "Community (barangay)", `Backlog ${i}`);
      await setField(page, "Notes", letters(6000));
      await openTab(page, "Assessments");
    }
    // Every text the sync bar's count shows, as it shows it.
    await page.evaluate(() => {
      window.sendingSeen = [];
      new MutationObserver(() => {
        const shown = document.querySelector("#sending")?.textContent;
        if (shown && window.sendingSeen.at(-1) !== shown) window.sendingSeen.push(shown);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });

    await context.setOffline(false);
    await synced(page);
    assert.ok(proxy.refused.count > 0, "the proxy refused the first, too large batch");
    const seen = await page.evaluate(() => window.sendingSeen);
    const counts = seen.map((text) => text.match(/^(\d+) of (\d+) edits sent/)).filter(Boolean);
    assert.ok(counts.length > 0, `the sync bar counted the edits sent: ${JSON.stringify(seen)}`);
    for (const [, sent, total] of counts) assert.ok(Number(sent) > 0 && Number(sent) < Number(total), `${sent} of ${total}`);

    const api = await world.bmms.apiAs("hadji.officer", password);
    const assessments = await api("/api/v1/assessments");
    assert.equal(assessments.total, 6, "every record reached the server");
    assert.deepEqual(assessments.items.map((a) => a.community).sort(), [1, 2, 3, 4, 5, 6].map((i) => `Backlog ${i}`));
  } finally {
    await context.close();
    proxy.close();
  }
});

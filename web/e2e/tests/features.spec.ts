// The web features on the new services (system.md §3.3.6–3.3.8, §7.8): alice translates bob's
// English message into Spanish and sees Apertium's translation stream in, in the same trace as
// translation-service's `translate en-es`; alice sends a sticker from the picker and bob sees
// the image; alice finds fiona by typing "fio" in the DM box and starts a DM with her.
// Needs translation-service (Apertium eng-spa), sticker-service (+ nginx /stickers/) and
// user-search-service in the stack. Every wait is on a condition, never a fixed sleep.
import { test, expect } from "@playwright/test";
import { ChatPage } from "../lib/chat-page.js";
import { attr, getTrace, searchTraces, type SinkTrace } from "../lib/sink.js";
import { waitFor } from "../lib/wait.js";

const ROOM = "general";
const nonce = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

test("alice translates bob's English message into Spanish as it streams in, in one trace", async ({
  browser,
}) => {
  const since = new Date().toISOString();
  const alice = await ChatPage.login(browser, "alice", "alice123");
  const bob = await ChatPage.login(browser, "bob", "bob123");
  await alice.openRoom(ROOM);
  await bob.openRoom(ROOM);

  // A plain sentence Apertium's eng-spa pair translates word by word; the nonce keeps the
  // message unique (Apertium passes unknown words through, marked or not).
  const tag = nonce();
  const text = `The house is big and the dog is happy ${tag}`;
  await bob.send(text);
  const item = alice.message(text);
  await expect(item).toBeVisible();
  const messageId = await alice.messageId(item);

  await item.hover();
  await item.getByTestId("message-translate").click();
  const toSpanish = item.getByTestId("translate-to-en-es");
  await expect(toSpanish).toBeVisible({ timeout: 10_000 });
  await toSpanish.click();

  const translation = item.getByTestId("translation");
  await expect(translation).toBeVisible();
  await expect(translation).toHaveAttribute("data-status", "done", { timeout: 45_000 });
  const translated = item.getByTestId("translation-text");
  // Spanish words, not the exact text (Apertium's output may change between versions).
  await expect(translated).toContainText(/casa/i);
  await expect(translated).toContainText(/perro/i);
  await expect(item.getByTestId("translation-error")).toHaveCount(0);
  // The original stays as it was, above the translation.
  await expect(item.getByTestId("message-text")).toHaveText(text);
  await alice.screenshot("10-translation");

  // One trace: alice's translate_message root → publish translate.request.{user} →
  // translation-service's process span → `translate en-es`.
  const trace = await waitFor(
    "alice's translate_message trace reaching translation-service's translate en-es",
    async () => {
      const found = await searchTraces({
        service: "web-frontend",
        name: "translate_message",
        "attr.chat.message_id": messageId,
        since,
      });
      for (const t of found) {
        const full = await getTrace(t.trace_id);
        if (full && hasTranslateSpans(full)) return full;
      }
      return undefined;
    },
    45_000,
    1_000,
  );
  const root = trace.spans.find((s) => s.name === "translate_message")!;
  expect(root.service_name).toBe("web-frontend");
  expect(root.parent_span_id).toBe("");
  expect(root.status.code).not.toBe("STATUS_CODE_ERROR");
  expect(attr(root, "chat.translate.target_lang")).toBe("es");
  expect(attr(root, "chat.message_id")).toBe(messageId);
  const publish = trace.spans.find((s) => s.name === "publish translate.request.{user}")!;
  expect(publish.parent_span_id).toBe(root.span_id);
  // The service continues the request's context (traceparent injected by the publish span).
  const process = trace.spans.find(
    (s) =>
      s.service_name === "translation-service" && s.name.startsWith("process translate.request"),
  )!;
  expect(process, "translation-service's process span").toBeDefined();
  expect(process.parent_span_id).toBe(publish.span_id);
  const run = trace.spans.find(
    (s) => s.service_name === "translation-service" && s.name === "translate en-es",
  )!;
  expect(run.parent_span_id).toBe(process.span_id);

  expect(alice.consoleErrors).toEqual([]);
  expect(bob.consoleErrors).toEqual([]);
  await alice.close();
  await bob.close();
});

function hasTranslateSpans(t: SinkTrace): boolean {
  return (
    t.spans.some((s) => s.service_name === "web-frontend" && s.name === "translate_message") &&
    t.spans.some((s) => s.service_name === "translation-service" && s.name === "translate en-es")
  );
}

test("alice sends a sticker from the picker and bob sees the image", async ({ browser }) => {
  const alice = await ChatPage.login(browser, "alice", "alice123");
  const bob = await ChatPage.login(browser, "bob", "bob123");
  await alice.openRoom(ROOM);
  await bob.openRoom(ROOM);

  await alice.page.getByTestId("sticker-button").click();
  const picker = alice.page.getByTestId("sticker-picker");
  await expect(picker).toBeVisible();
  const pack = picker.locator('[data-testid^="sticker-pack-"]').first();
  await expect(pack).toBeVisible({ timeout: 10_000 });
  await pack.click();
  const sticker = picker.locator("[data-sticker-url]").first();
  await expect(sticker).toBeVisible({ timeout: 10_000 });
  const url = await sticker.getAttribute("data-sticker-url");
  expect(url).toMatch(/^\/stickers\/[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/);
  await sticker.click();
  await expect(picker).toHaveCount(0);

  // alice's own copy is confirmed, then bob's page shows the same image, loaded, at 96×96.
  const mine = alice.page
    .getByTestId("message-list")
    .getByTestId("message")
    .filter({ has: alice.page.locator(`img[data-testid="message-sticker"][src="${url}"]`) })
    .last();
  await expect(mine).toHaveAttribute("data-state", "sent");
  const img = bob.page
    .getByTestId("message-list")
    .locator(`[data-user="alice"] img[data-testid="message-sticker"][src="${url}"]`)
    .last();
  await expect(img).toBeVisible();
  await expect(img).toHaveAttribute("width", "96");
  await expect(img).toHaveAttribute("height", "96");
  await expect(img).toHaveAttribute("alt", /^sticker/);
  await expect
    .poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), {
      message: "the sticker image loads from /stickers/",
    })
    .toBeGreaterThan(0);
  await bob.screenshot("11-sticker");

  expect(alice.consoleErrors).toEqual([]);
  expect(bob.consoleErrors).toEqual([]);
  await alice.close();
  await bob.close();
});

test('alice types "fio" in the DM box, picks fiona and starts a DM', async ({ browser }) => {
  const alice = await ChatPage.login(browser, "alice", "alice123");
  const fiona = await ChatPage.login(browser, "fiona", "fiona123");

  const input = alice.page.getByTestId("dm-user-input");
  await input.click();
  await input.pressSequentially("fio");
  const suggestion = alice.page.getByTestId("user-suggestion-fiona");
  await expect(suggestion).toBeVisible({ timeout: 10_000 });
  await expect(alice.page.getByTestId("user-search-error")).toHaveCount(0);
  // The searcher never suggests herself.
  await expect(alice.page.getByTestId("user-suggestion-alice")).toHaveCount(0);
  await suggestion.click();

  const dm = "dm-alice-fiona";
  await expect(alice.page.getByTestId(`room-item-${dm}`)).toBeVisible({ timeout: 20_000 });
  await alice.openRoom(dm);
  const text = `hi fiona ${nonce()}`;
  await alice.send(text);
  await expect(fiona.page.getByTestId(`room-item-${dm}`)).toBeVisible({ timeout: 20_000 });
  await fiona.openRoom(dm);
  await expect(fiona.message(text)).toBeVisible();
  await alice.screenshot("12-dm-from-search");

  expect(alice.consoleErrors).toEqual([]);
  expect(fiona.consoleErrors).toEqual([]);
  await alice.close();
  await fiona.close();
});

// The built room app bundles in a real browser, served by the stack's nginx under /apps/, each
// with a bridge over an in-memory fake of its service (fixtures/apps-harness.html): poll maths
// and live updates, Excalidraw drawing sent as one delta and remote sync merged without echo,
// its fonts from /apps/whiteboard/fonts (nothing from another origin), KB autosave, editing
// chips, stopedit, and stored HTML with script/onerror/javascript: that runs nothing. It needs
// nginx and web/dist only, none of the app services (apps.spec.ts covers the whole path).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { test, expect, type Page } from "@playwright/test";
import { env } from "../lib/env.js";

const kHarness = readFileSync(
  path.resolve(import.meta.dirname, "..", "fixtures", "apps-harness.html"),
  "utf8",
);

interface Opened {
  page: Page;
  external: string[];
  errors: string[];
}

async function openApp(page: Page, app: string): Promise<Opened> {
  const origin = new URL(env.webUrl).origin;
  const external: string[] = [];
  const errors: string[] = [];
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith("data:") && !u.startsWith("blob:")) external.push(u);
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.route("**/__apps-harness.html*", (route) =>
    route.fulfill({ contentType: "text/html", body: kHarness }),
  );
  await page.goto(`/__apps-harness.html?app=${app}`);
  await page.waitForFunction(() => (window as { __ready?: boolean }).__ready === true);
  return { page, external, errors };
}

test("poll bundle: create (two options at least), vote, live update, close", async ({ page }) => {
  const { external, errors } = await openApp(page, "poll");
  await page.getByTestId("poll-question").fill("Lunch?");
  await page.getByTestId("poll-option-0").fill("Pizza");
  await page.getByTestId("poll-create").click();
  await expect(page.getByTestId("poll-error")).toContainText("two options");
  await page.getByTestId("poll-add-option").click();
  await page.getByTestId("poll-option-1").fill("Sushi");
  await page.getByTestId("poll-option-2").fill("Salad");
  await page.getByTestId("poll-create").click();
  const card = page.getByTestId("poll-card");
  await expect(card).toBeVisible();
  await card.getByTestId("poll-option-button-1").click();
  await expect(card.getByTestId("poll-option-button-1")).toHaveAttribute("data-percent", "100");
  await expect(card.getByTestId("poll-option-button-1")).toHaveAttribute("aria-pressed", "true");
  // Another member's vote arrives as an `updated` event.
  await page.evaluate(() => {
    const w = window as unknown as {
      __db: { polls: { id: string }[]; votes: Record<string, Record<string, number>> };
      __emit: (a: string, e: string, p: unknown) => void;
    };
    const id = w.__db.polls[0]!.id;
    w.__db.votes[id]!.bob = 0;
    w.__emit("poll", "updated", { pollId: id });
  });
  await expect(card.getByTestId("poll-option-button-0")).toHaveAttribute("data-percent", "50");
  await expect(card.getByTestId("poll-summary")).toHaveText("by alice · 2 votes");
  await card.getByTestId("poll-close").click();
  await expect(card.getByTestId("poll-closed")).toHaveText("CLOSED");
  expect(external).toEqual([]);
  expect(errors).toEqual([]);
});

test("whiteboard bundle: one delta after drawing, remote sync merged without echo, local fonts", async ({
  page,
}) => {
  const { external, errors } = await openApp(page, "whiteboard");
  const fonts: string[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/fonts/")) fonts.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  await page.getByTestId("wb-new-name").fill("Plan");
  await page.getByTestId("wb-create").click();
  const canvasBox = page.locator('[data-testid="wb-canvas"][data-ready="true"]');
  await expect(canvasBox).toBeVisible();
  const box = (await page.locator(".excalidraw canvas.interactive").boundingBox())!;
  await page.locator('[data-testid="toolbar-rectangle"]').click({ force: true });
  await page.mouse.move(box.x + 300, box.y + 200);
  await page.mouse.down();
  await page.mouse.move(box.x + 450, box.y + 300, { steps: 8 });
  await page.mouse.up();
  await expect(canvasBox).toHaveAttribute("data-elements", "1");
  const deltas = () =>
    page.evaluate(
      () =>
        (window as unknown as { __log: { delta?: unknown }[] }).__log.filter((l) => l.delta).length,
    );
  await expect.poll(deltas).toBe(1);

  await page.evaluate(() => {
    const w = window as unknown as {
      __db: { boards: Record<string, { id: string; elements: Record<string, object> }> };
      __emit: (a: string, e: string, p: unknown) => void;
    };
    const b = Object.values(w.__db.boards)[0]!;
    const first = Object.values(b.elements)[0]!;
    const el = { ...first, id: "remote1", index: "a5", x: 100, y: 100, version: 3 };
    // A malformed element from a peer is dropped, never crashes the editor.
    w.__emit("whiteboard", "sync", {
      boardId: b.id,
      elements: [{ id: "bad", version: 2, type: "line" }],
      sender: "mallory",
    });
    w.__emit("whiteboard", "sync", { boardId: b.id, elements: [el], sender: "bob" });
    // Our own echo is skipped.
    w.__emit("whiteboard", "sync", {
      boardId: b.id,
      elements: [{ ...el, id: "own-echo" }],
      sender: "alice",
    });
  });
  await expect(canvasBox).toHaveAttribute("data-elements", "2");
  // Text makes Excalidraw load its fonts: from the copy next to the bundle.
  await page.locator('[data-testid="toolbar-text"]').click({ force: true });
  await page.mouse.click(box.x + 600, box.y + 400);
  await page.keyboard.type("Hello");
  await page.keyboard.press("Escape");
  await expect.poll(() => fonts.length).toBeGreaterThan(0);
  for (const f of fonts) expect(f).toMatch(/^200 \/apps\/whiteboard\/fonts\//);
  // The text went out; the merged remote element was never sent back.
  await expect.poll(deltas).toBeGreaterThanOrEqual(2);
  const sentIds = await page.evaluate(() =>
    (window as unknown as { __log: { delta?: [string, number][] }[] }).__log.flatMap((l) =>
      (l.delta ?? []).map(([id]) => id),
    ),
  );
  expect(sentIds).not.toContain("remote1");
  expect(sentIds).not.toContain("own-echo");
  expect(external).toEqual([]);
  expect(errors).toEqual([]);
});

test("kb bundle: autosave, editing chips, stopedit, and stored script/onerror run nothing", async ({
  page,
}) => {
  const { external, errors } = await openApp(page, "kb");
  await page.getByTestId("kb-new-title").fill("Onboarding");
  await page.getByTestId("kb-new-page").click();
  await expect(page.locator('[data-testid="kb-editor-box"][data-ready="true"]')).toBeVisible();
  await page.locator(".kb-content").click();
  await page.keyboard.type("Hello team");
  await page.getByTestId("kb-bold").click();
  await page.keyboard.type(" bold");
  await expect(page.getByTestId("kb-save-status")).toHaveText("Saved");
  const saved = await page.evaluate(
    () =>
      Object.values(
        (window as unknown as { __db: { pages: Record<string, { content: string }> } }).__db.pages,
      )[0]!.content,
  );
  expect(saved).toBe("<p>Hello team<strong> bold</strong></p>");

  await page.evaluate(() => {
    const w = window as unknown as {
      __db: { pages: Record<string, { id: string }> };
      __emit: (a: string, e: string, p: unknown) => void;
    };
    const pg = Object.values(w.__db.pages)[0]!;
    w.__emit("kb", "presence", { pageId: pg.id, editors: ["alice", "bob"] });
  });
  await expect(page.locator('[data-testid="kb-editing-chip"][data-user="bob"]')).toHaveText(
    "bob is editing",
  );
  await expect(page.locator('[data-testid="kb-editing-chip"][data-user="alice"]')).toHaveCount(0);

  await page.evaluate(() => {
    (window as unknown as { __db: { pages: Record<string, object> } }).__db.pages.evil = {
      id: "evil",
      title: "Evil",
      content:
        '<p>safe text</p><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>' +
        '<a href="javascript:window.__pwned=3">x</a><p onclick="window.__pwned=4">click</p>',
      createdBy: "mallory",
      updatedBy: "mallory",
    };
  });
  await page.getByTestId("kb-back").click();
  await expect
    .poll(() =>
      page.evaluate(() =>
        (window as unknown as { __log: { kb?: string }[] }).__log.map((l) => l.kb),
      ),
    )
    .toContain("stopedit");
  await page.locator('[data-testid="kb-page"][data-page-id="evil"]').getByTestId("kb-open").click();
  await expect(page.locator(".kb-content")).toContainText("safe text");
  await page.locator(".kb-content p", { hasText: "click" }).click();
  // The javascript: link lost its href (and so its link mark); any link left is clicked too.
  const links = page.locator(".kb-content a");
  for (let i = 0; i < (await links.count()); i++) await links.nth(i).click();
  expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
  await expect(page.locator(".kb-content img")).toHaveCount(0);
  await expect(page.locator('.kb-content a[href^="javascript"]')).toHaveCount(0);

  await page.getByTestId("kb-delete").click();
  await page.getByTestId("kb-confirm-delete").click();
  await expect(page.locator('[data-testid="kb-page"][data-page-id="evil"]')).toHaveCount(0);
  expect(external).toEqual([]);
  expect(errors).toEqual([]);
});

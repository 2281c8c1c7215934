// Issue 13's browser journeys: room apps between two people in a private room alice owns.
// alice installs the poll app and creates a poll, bob votes, alice sees the result live, and
// the trace of bob's vote runs from his click (app_request) to poll-service's INSERT; alice
// draws on a whiteboard and bob sees the shape; alice edits a KB page, bob sees "alice is
// editing" and then the saved text; a page holding <img onerror> and <script> runs nothing in
// bob's browser. Needs app-registry, poll, whiteboard and kb services in the stack.
import { readFileSync } from "node:fs";
import { test, expect } from "@playwright/test";
import { connect, credsAuthenticator, type NatsConnection } from "nats";
import { ChatPage } from "../lib/chat-page.js";
import { env } from "../lib/env.js";
import { StreamTap, traceIdOf } from "../lib/nats.js";
import { attr, getTrace, type SinkTrace, waitForTrace } from "../lib/sink.js";
import { waitFor } from "../lib/wait.js";

let tap: StreamTap;
test.beforeAll(async () => {
  tap = await StreamTap.open("app.>");
});
test.afterAll(async () => {
  await tap?.close();
});

// A private room owned by `owner` with `member` invited; both have it open on the apps tab.
async function sharedRoom(owner: ChatPage, member: ChatPage, prefix: string): Promise<string> {
  const key = `${prefix}-${Date.now().toString(36)}`;
  await owner.page.getByTestId("create-room").click();
  const dialog = owner.page.getByTestId("create-room-dialog");
  await dialog.getByTestId("create-room-name").fill(key);
  await dialog.getByTestId("create-room-submit").click();
  await owner.openRoom(key);
  await owner.page.getByTestId("members-toggle").click();
  await owner.page.getByTestId("invite-input").fill(member.user);
  await owner.page.getByTestId("invite-button").click();
  await expect(owner.page.getByTestId(`member-${member.user}`)).toBeVisible();
  await expect(member.page.getByTestId(`room-item-${key}`)).toBeVisible({ timeout: 20_000 });
  await member.openRoom(key);
  return key;
}

async function install(owner: ChatPage, appId: string): Promise<void> {
  await owner.page.getByTestId("room-tab-apps").click();
  await owner.page.getByTestId("app-install-select").selectOption(appId);
  await owner.page.getByTestId("app-install").click();
  await expect(owner.page.getByTestId(`app-tab-${appId}`)).toBeVisible();
  await owner.page.getByTestId(`app-tab-${appId}`).click();
  await expect(owner.page.locator(`room-app-${appId}`)).toHaveCount(1);
}

async function openApp(member: ChatPage, appId: string): Promise<void> {
  await member.page.getByTestId("room-tab-apps").click();
  // Members who are not owners/admins get no install control.
  await expect(member.page.getByTestId(`app-tab-${appId}`)).toBeVisible();
  await expect(member.page.getByTestId("app-install")).toHaveCount(0);
  await member.page.getByTestId(`app-tab-${appId}`).click();
  await expect(member.page.locator(`room-app-${appId}`)).toHaveCount(1);
}

const voteTraceComplete = (t: SinkTrace) =>
  t.spans.some(
    (s) =>
      s.service_name === "web-frontend" &&
      s.name === "app_request" &&
      attr(s, "chat.app.action") === "vote",
  ) &&
  t.spans.some((s) => s.service_name === "poll-service" && /^INSERT\b.*poll_votes/.test(s.name));

test("poll: alice installs and asks, bob votes, alice sees it live; one trace from bob's click to the INSERT", async ({
  browser,
}) => {
  const alice = await ChatPage.login(browser, "alice", "alice123");
  const bob = await ChatPage.login(browser, "bob", "bob123");
  await sharedRoom(alice, bob, "apps-poll");
  await install(alice, "poll");
  await openApp(bob, "poll");

  const question = `Lunch ${Date.now()}?`;
  await alice.page.getByTestId("poll-question").fill(question);
  await alice.page.getByTestId("poll-option-0").fill("Pizza");
  await alice.page.getByTestId("poll-option-1").fill("Sushi");
  await alice.page.getByTestId("poll-create").click();
  const aliceCard = alice.page.getByTestId("poll-card").filter({ hasText: question });
  const bobCard = bob.page.getByTestId("poll-card").filter({ hasText: question });
  await expect(aliceCard).toBeVisible();
  await expect(bobCard).toBeVisible();
  await alice.screenshot("apps-01-alice-poll");

  await bobCard.getByTestId("poll-option-button-1").click();
  await expect(bobCard.getByTestId("poll-option-button-1")).toHaveAttribute("data-count", "1");
  // alice's page updates from the `updated` event, without a reload.
  await expect(aliceCard.getByTestId("poll-option-button-1")).toHaveAttribute("data-count", "1");
  await expect(aliceCard.getByTestId("poll-option-button-1")).toHaveAttribute(
    "data-percent",
    "100",
  );
  await expect(aliceCard.getByTestId("poll-summary")).toContainText("1 vote");
  await bob.screenshot("apps-02-bob-voted");

  // The `updated` events poll-service published carry its span context; the one in bob's vote
  // trace leads to the whole trace: bob's app_request → request → poll-service → INSERT.
  const trace = await waitFor(
    "the trace of bob's vote",
    async () => {
      for (const c of [...tapSeen()]) {
        const t = await getTrace(traceIdOf(c.traceparent));
        if (t && voteTraceComplete(t)) return t;
      }
      return undefined;
    },
    45_000,
    1000,
  );
  const root = trace.spans.find((s) => s.name === "app_request")!;
  expect(root.parent_span_id).toBe("");
  expect(attr(root, "chat.app.id")).toBe("poll");
  const request = trace.spans.find((s) => s.parent_span_id === root.span_id)!;
  expect(request.name).toBe("request app.{app}.{room}.{action}.{user}");
  expect(trace.spans.some((s) => s.service_name === "poll-service")).toBe(true);
  await waitForTrace(trace.trace_id, voteTraceComplete);

  // Only the creator closes.
  await expect(bobCard.getByTestId("poll-close")).toHaveCount(0);
  await aliceCard.getByTestId("poll-close").click();
  await expect(bobCard.getByTestId("poll-closed")).toBeVisible();
  expect(alice.consoleErrors).toEqual([]);
  expect(bob.consoleErrors).toEqual([]);
  await alice.close();
  await bob.close();
});

// The poll `updated` events the tap saw (each carries poll-service's span context).
function tapSeen(): { subject: string; traceparent: string }[] {
  return tap
    .all((c) => /^app\.poll\.[^.]+\.updated$/.test(c.subject) && c.traceparent !== undefined)
    .map((c) => ({ subject: c.subject, traceparent: c.traceparent! }));
}

test("whiteboard: alice draws, bob sees the shape", async ({ browser }) => {
  const alice = await ChatPage.login(browser, "alice", "alice123");
  const bob = await ChatPage.login(browser, "bob", "bob123");
  await sharedRoom(alice, bob, "apps-wb");
  await install(alice, "whiteboard");
  await openApp(bob, "whiteboard");

  const name = `Plan ${Date.now()}`;
  await alice.page.getByTestId("wb-new-name").fill(name);
  await alice.page.getByTestId("wb-create").click();
  await expect(alice.page.locator('[data-testid="wb-canvas"][data-ready="true"]')).toBeVisible();
  // bob opens the board from the list (reload it: it was created after his list loaded).
  await bob.page.getByTestId("room-tab-chat").click();
  await openApp(bob, "whiteboard");
  const row = bob.page.getByTestId("wb-board").filter({ hasText: name });
  await row.getByTestId("wb-open").click();
  const bobCanvas = bob.page.locator('[data-testid="wb-canvas"][data-ready="true"]');
  await expect(bobCanvas).toHaveAttribute("data-elements", "0");

  const canvas = alice.page.locator(".excalidraw canvas.interactive");
  const box = (await canvas.boundingBox())!;
  await alice.page.locator('[data-testid="toolbar-rectangle"]').click({ force: true });
  await alice.page.mouse.move(box.x + 300, box.y + 200);
  await alice.page.mouse.down();
  await alice.page.mouse.move(box.x + 460, box.y + 320, { steps: 8 });
  await alice.page.mouse.up();
  await expect(alice.page.locator('[data-testid="wb-canvas"][data-ready="true"]')).toHaveAttribute(
    "data-elements",
    "1",
  );
  // One delta 300 ms after the last change, broadcast as `sync`, merged into bob's scene.
  await expect(bobCanvas).toHaveAttribute("data-elements", "1", { timeout: 15_000 });
  await bob.screenshot("apps-03-bob-whiteboard");
  // Nothing was fetched from another origin (fonts and assets are served under /apps/).
  expect(alice.consoleErrors).toEqual([]);
  expect(bob.consoleErrors).toEqual([]);
  await alice.close();
  await bob.close();
});

async function adminConnection(): Promise<NatsConnection> {
  return connect({
    servers: env.natsUrl,
    authenticator: credsAuthenticator(new Uint8Array(readFileSync(env.natsCreds))),
    name: "web-e2e-kb-writer",
    // Services answer a request for user U only on U's own inbox (docs/adr/0001).
    inboxPrefix: "_INBOX.alice",
  });
}

test("kb: alice edits, bob sees her editing and the saved text; stored script and onerror run nothing", async ({
  browser,
}) => {
  const alice = await ChatPage.login(browser, "alice", "alice123");
  const bob = await ChatPage.login(browser, "bob", "bob123");
  const room = await sharedRoom(alice, bob, "apps-kb");
  await install(alice, "kb");
  await openApp(bob, "kb");

  const title = `Guide ${Date.now()}`;
  await alice.page.getByTestId("kb-new-title").fill(title);
  await alice.page.getByTestId("kb-new-page").click();
  await expect(
    alice.page.locator('[data-testid="kb-editor-box"][data-ready="true"]'),
  ).toBeVisible();
  const pageId = await alice.page.getByTestId("kb-editor-box").getAttribute("data-page-id");
  await alice.page.locator(".kb-content").click();
  const text = `Welcome to the team ${Date.now()}`;
  await alice.page.keyboard.type(text);
  await expect(alice.page.getByTestId("kb-save-status")).toHaveText("Saved", { timeout: 15_000 });

  // bob opens the page: alice is editing, and the saved text is there.
  await bob.page.getByTestId("room-tab-chat").click();
  await openApp(bob, "kb");
  await bob.page
    .locator(`[data-testid="kb-page"][data-page-id="${pageId}"]`)
    .getByTestId("kb-open")
    .click();
  await expect(bob.page.locator('[data-testid="kb-editing-chip"][data-user="alice"]')).toHaveText(
    "alice is editing",
  );
  await expect(bob.page.locator(".kb-content")).toContainText(text);
  await bob.screenshot("apps-04-bob-kb");
  // alice leaves the page: her chip goes away on bob's screen (stopedit → presence).
  await alice.page.getByTestId("kb-back").click();
  await expect(bob.page.locator('[data-testid="kb-editing-chip"][data-user="alice"]')).toHaveCount(
    0,
    { timeout: 15_000 },
  );

  // A hostile save straight on the bus (a raw client, not the editor): kb-service sanitises it
  // and bob's page sanitises again; nothing of it may run.
  const nc = await adminConnection();
  try {
    const hostile =
      '<p>hostile page</p><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>' +
      '<a href="javascript:window.__pwned=3">link</a><p onclick="window.__pwned=4">click</p>';
    const reply = await nc.request(
      `app.kb.${room}.save.alice`,
      new TextEncoder().encode(JSON.stringify({ pageId, title, content: hostile, user: "alice" })),
      { timeout: 5000 },
    );
    expect(new TextDecoder().decode(reply.data)).toContain('"ok":true');
  } finally {
    await nc.drain();
  }
  await bob.page.getByTestId("kb-back").click();
  await bob.page
    .locator(`[data-testid="kb-page"][data-page-id="${pageId}"]`)
    .getByTestId("kb-open")
    .click();
  await expect(bob.page.locator(".kb-content")).toContainText("hostile page");
  await bob.page.locator(".kb-content p", { hasText: "click" }).click();
  const links = bob.page.locator(".kb-content a");
  for (let i = 0; i < (await links.count()); i++) await links.nth(i).click();
  expect(await bob.page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
  await expect(bob.page.locator(".kb-content img")).toHaveCount(0);
  await expect(bob.page.locator("room-app-kb script")).toHaveCount(0);
  await expect(bob.page.locator('.kb-content a[href^="javascript"]')).toHaveCount(0);
  expect(alice.consoleErrors).toEqual([]);
  expect(bob.consoleErrors).toEqual([]);
  await alice.close();
  await bob.close();
});

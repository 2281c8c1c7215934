// Issue 5's browser journeys against the real local stack: two people chatting live, and the
// trace each action leaves from alice's click to the database row.
import { test, expect } from "@playwright/test";
import { ChatPage } from "../lib/chat-page.js";
import { StreamTap, traceIdOf, type Captured } from "../lib/nats.js";
import { logsOf, waitForTrace } from "../lib/sink.js";
import { assertMessageTrace, messageTraceComplete } from "../lib/trace-shape.js";
import { waitFor } from "../lib/wait.js";

const ROOM = "general";

let tap: StreamTap;
test.beforeAll(async () => {
  tap = await StreamTap.open("chat.>");
});
test.afterAll(async () => {
  await tap?.close();
});

// The trace an action started, read from the traceparent of the copy fanout republished.
async function traceOf(what: string, match: (c: Captured) => boolean): Promise<string> {
  const copy = await tap.waitFor(what, match);
  return traceIdOf(copy.traceparent);
}

test("alice sends in #general, bob sees it live, and one trace runs from her click to the INSERT", async ({
  browser,
}) => {
  const alice = await ChatPage.login(browser, "alice", "alice123");
  const bob = await ChatPage.login(browser, "bob", "bob123");
  await alice.openRoom(ROOM);
  await bob.openRoom(ROOM);
  await alice.screenshot("01-alice-general");

  const nonce = `hello bob ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  await alice.send(nonce);
  // bob's page shows it without a reload.
  await expect(bob.message(nonce)).toBeVisible();
  await bob.screenshot("02-bob-sees-message");

  const traceId = await traceOf("alice's message on chat.general", (c) => c.body.text === nonce);
  const trace = await waitForTrace(traceId, messageTraceComplete("send"));
  assertMessageTrace(trace, "send", ROOM);

  // The services' log lines of that trace are in the log store. At the default level an
  // accepted ingest writes no line (observability.md §7.2: handled requests are DEBUG); the
  // persisted row does, at INFO.
  const logs = await waitFor(
    "persist-worker's log line of the send trace",
    async () => {
      const l = await logsOf(traceId);
      return l.some((r) => r.service === "persist-worker" && r.msg === "message persisted")
        ? l
        : undefined;
    },
    30_000,
  );
  for (const l of logs) expect(l.trace_id).toBe(traceId);
  expect(alice.consoleErrors).toEqual([]);
  expect(bob.consoleErrors).toEqual([]);
  await alice.close();
  await bob.close();
});

test("edit, react, thread reply and delete each reach bob and each leave their own complete trace", async ({
  browser,
}) => {
  const alice = await ChatPage.login(browser, "alice", "alice123");
  const bob = await ChatPage.login(browser, "bob", "bob123");
  await alice.openRoom(ROOM);
  await bob.openRoom(ROOM);

  const base = `edit me ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const item = await alice.send(base);
  await expect(bob.message(base)).toBeVisible();
  const sent = await tap.waitFor(
    "the original copy",
    (c) => c.body.text === base && !c.body.action,
  );
  const ts = Number(sent.body.timestamp);
  const traces = new Set<string>([traceIdOf(sent.traceparent)]);

  // Edit.
  const edited = `${base} (changed)`;
  await alice.edit(item, edited);
  await expect(bob.message(edited)).toBeVisible();
  await expect(bob.message(edited)).toContainText("edited");
  const editTrace = await traceOf(
    "the edit copy",
    (c) => c.body.action === "edit" && c.body.timestamp === ts,
  );
  assertMessageTrace(await waitForTrace(editTrace, messageTraceComplete("edit")), "edit", ROOM);
  traces.add(editTrace);

  // React.
  await alice.react(alice.message(edited), "👍");
  await expect(bob.message(edited).getByTestId("reaction-👍")).toContainText("1");
  const reactTrace = await traceOf(
    "the react copy",
    (c) => c.body.action === "react" && c.body.timestamp === ts,
  );
  assertMessageTrace(await waitForTrace(reactTrace, messageTraceComplete("react")), "react", ROOM);
  traces.add(reactTrace);

  // Thread reply: bob sees it in the thread.
  const replyText = `thread reply ${Date.now()}`;
  await alice.replyInThread(alice.message(edited), replyText);
  await bob.message(edited).getByTestId("message-reply").click();
  await expect(
    bob.page.getByTestId("thread-panel").getByTestId("message").filter({ hasText: replyText }),
  ).toBeVisible();
  await bob.screenshot("03-bob-thread");
  const replyTrace = await traceOf("the thread reply copy", (c) => c.body.text === replyText);
  const reply = await waitForTrace(replyTrace, messageTraceComplete("send"));
  assertMessageTrace(reply, "send", ROOM);
  traces.add(replyTrace);

  // Delete.
  await alice.delete(alice.message(edited));
  await expect(bob.message(edited)).toHaveCount(0);
  await expect(bob.page.getByTestId("message-list")).toContainText("This message was deleted");
  const deleteTrace = await traceOf(
    "the delete copy",
    (c) => c.body.action === "delete" && c.body.timestamp === ts,
  );
  assertMessageTrace(
    await waitForTrace(deleteTrace, messageTraceComplete("delete")),
    "delete",
    ROOM,
  );
  traces.add(deleteTrace);

  // Five actions, five traces.
  expect(traces.size).toBe(5);
  await alice.screenshot("04-alice-after-actions");
  await alice.close();
  await bob.close();
});

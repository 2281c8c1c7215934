// A person without a role (charlie) gets the restricted set of docs/system.md §2.4: the UI offers
// no admin action, and what the UI does not offer cannot be forced from the console either —
// nats-server refuses the publish under charlie's minted JWT.
import { test, expect } from "@playwright/test";
import { ChatPage } from "../lib/chat-page.js";
import { StreamTap } from "../lib/nats.js";

test("charlie (no role) has no admin action, and a forged publish from the console is refused by the server", async ({
  browser,
}) => {
  const tap = await StreamTap.open(">");
  const charlie = await ChatPage.login(browser, "charlie", "charlie123");
  const page = charlie.page;
  await expect(page.getByTestId("current-user")).toHaveAttribute("data-tier", "none");
  await expect(page.getByTestId("room-item-__admin__")).toHaveCount(0);
  await expect(page.getByTestId("create-room")).toHaveCount(0);
  await charlie.screenshot("05-charlie-restricted");

  const nonce = `forged ${Date.now()}`;
  // What a person would type in the devtools console: the app's own connection (web/README.md).
  const errors = await page.evaluate(async (text) => {
    // The part of the page's nats.ws connection used here (this package does not depend on it).
    interface PageConnection {
      status(): AsyncIterable<{ type: string; data: unknown; permissionContext?: unknown }>;
      publish(subject: string, data: Uint8Array): void;
      flush(): Promise<void>;
    }
    const nc = (window as unknown as { natsChat: { connection: PageConnection } }).natsChat
      .connection;
    const seen: string[] = [];
    void (async () => {
      // nats.ws 1.30: data is the error code, permissionContext names the operation and subject.
      for await (const s of nc.status()) {
        if (s.type === "error") {
          const ctx = s.permissionContext as { operation?: string; subject?: string } | undefined;
          seen.push(`${String(s.data)} ${ctx?.operation ?? ""} ${ctx?.subject ?? ""}`);
        }
      }
    })();
    const enc = new TextEncoder();
    const admin = { user: "charlie", text, timestamp: Date.now(), room: "__admin__" };
    nc.publish("admin.chat", enc.encode(JSON.stringify(admin)));
    const asBob = { user: "bob", text, timestamp: Date.now(), room: "general" };
    nc.publish("deliver.bob.send.general", enc.encode(JSON.stringify(asBob)));
    // Issue 11: the history grant used to reach the CHAT_MESSAGES stream (chat.*.thread.*), the
    // admin channel took its author from the body, and every tier could publish into inboxes.
    const asAlice = {
      user: "alice",
      text,
      timestamp: Date.now(),
      room: "history",
      threadId: "1700000000000-alice",
    };
    nc.publish("chat.history.thread.1700000000000-alice", enc.encode(JSON.stringify(asAlice)));
    nc.publish("admin.chat.charlie", enc.encode(JSON.stringify(admin)));
    nc.publish("_INBOX.alice.forged", enc.encode(JSON.stringify(asAlice)));
    await nc.flush();
    for (let i = 0; i < 100 && seen.length < 5; i++) await new Promise((r) => setTimeout(r, 100));
    return seen;
  }, nonce);
  expect(errors.join("\n")).toMatch(/permissions[ _]violation publish admin\.chat/i);
  expect(errors.join("\n")).toMatch(
    /permissions[ _]violation publish deliver\.bob\.send\.general/i,
  );
  expect(errors.join("\n")).toMatch(/permissions[ _]violation publish chat\.history\.thread\./i);
  expect(errors.join("\n")).toMatch(/permissions[ _]violation publish admin\.chat\.charlie/i);
  expect(errors.join("\n")).toMatch(/permissions[ _]violation publish _INBOX\.alice\.forged/i);
  // Neither reached the bus.
  await tap.flush();
  expect(tap.count((c) => JSON.stringify(c.body).includes(nonce))).toBe(0);
  await tap.close();
  await charlie.close();
});

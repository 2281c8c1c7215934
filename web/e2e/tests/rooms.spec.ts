// Room management and direct messages as two people use them: a private room created, a member
// invited (the room appears for them and they read along), then kicked (it goes away); and a DM.
import { test, expect } from "@playwright/test";
import { ChatPage } from "../lib/chat-page.js";

test("a private room: create, invite, chat, kick", async ({ browser }) => {
  const fiona = await ChatPage.login(browser, "fiona", "fiona123");
  const george = await ChatPage.login(browser, "george", "george123");
  const key = `proj-${Date.now().toString(36)}`;

  await fiona.page.getByTestId("create-room").click();
  const dialog = fiona.page.getByTestId("create-room-dialog");
  await dialog.getByTestId("create-room-name").fill(key);
  await dialog.getByTestId("create-room-display-name").fill("Project E2E");
  await dialog.getByTestId("create-room-submit").click();
  await fiona.openRoom(key);

  // george cannot see a private room he is not in.
  await expect(george.page.getByTestId(`room-item-${key}`)).toHaveCount(0);

  await fiona.page.getByTestId("members-toggle").click();
  await fiona.page.getByTestId("invite-input").fill("george");
  await fiona.page.getByTestId("invite-button").click();
  await expect(fiona.page.getByTestId("member-george")).toBeVisible();
  await fiona.screenshot("06-private-room-members");

  await expect(george.page.getByTestId(`room-item-${key}`)).toBeVisible({ timeout: 20_000 });
  await george.openRoom(key);
  const text = `private hello ${Date.now()}`;
  await fiona.send(text);
  await expect(george.message(text)).toBeVisible();

  await fiona.page.getByTestId("kick-george").click();
  await expect(fiona.page.getByTestId("member-george")).toHaveCount(0);
  // The room is gone for george: room-service no longer lists it for him (an open page learns
  // it on its next room list — the kick notice goes to the remaining members only, as in
  // docs/system.md §6.5), and fanout no longer delivers its messages to him.
  await george.page.reload();
  await expect(george.page.getByTestId("connection-status")).toHaveAttribute(
    "data-state",
    "connected",
  );
  await expect(george.page.getByTestId("room-item-general")).toBeVisible();
  await expect(george.page.getByTestId(`room-item-${key}`)).toHaveCount(0);
  await fiona.close();
  await george.close();
});

test("a direct message reaches only its two people", async ({ browser }) => {
  const hannah = await ChatPage.login(browser, "hannah", "hannah123");
  const ivan = await ChatPage.login(browser, "ivan", "ivan123");
  await hannah.page.getByTestId("dm-user-input").fill("ivan");
  await hannah.page.getByTestId("dm-start").click();
  const dm = "dm-hannah-ivan";
  await hannah.openRoom(dm);
  const text = `just between us ${Date.now()}`;
  await hannah.send(text);
  await expect(ivan.page.getByTestId(`room-item-${dm}`)).toBeVisible({ timeout: 20_000 });
  await ivan.openRoom(dm);
  await expect(ivan.message(text)).toBeVisible();
  await ivan.screenshot("07-direct-message");
  await hannah.close();
  await ivan.close();
});

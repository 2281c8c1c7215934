// The web client as a person uses it: every step goes through the page (clicks, typing), and
// the selectors are the ones web/README.md lists as stable. Nothing here talks to NATS directly.
import {
  expect,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from "@playwright/test";
import { env } from "./env.js";

export class ChatPage {
  private constructor(
    readonly user: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  // A fresh browser context (its own session storage, nkey and NATS connection) logged in
  // through the identity provider's login page.
  static async login(browser: Browser, user: string, password: string): Promise<ChatPage> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const chat = new ChatPage(user, context, page);
    chat.collectConsoleErrors();
    await page.goto("/");
    await page.getByRole("button", { name: /sign in|log in/i }).click();
    // The development identity provider's own page (another origin).
    await page.locator("#username").fill(user);
    await page.locator("#password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("current-user")).toContainText(user, { timeout: 30_000 });
    await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected", {
      timeout: 30_000,
    });
    return chat;
  }

  readonly consoleErrors: string[] = [];
  private collectConsoleErrors(): void {
    this.page.on("pageerror", (e) => this.consoleErrors.push(String(e)));
  }

  async openRoom(room: string): Promise<void> {
    await this.page.getByTestId(`room-item-${room}`).click();
    await expect(this.page.getByTestId("room-title")).toContainText(room);
    // join_room ends when history is rendered; the composer is usable then.
    await expect(this.page.getByTestId("message-list")).toHaveAttribute("data-loaded", "true");
  }

  composer(): Locator {
    return this.page.getByTestId("composer-input");
  }

  async send(text: string): Promise<Locator> {
    await this.composer().fill(text);
    await this.composer().press("Enter");
    const item = this.message(text);
    await expect(item).toHaveAttribute("data-state", "sent");
    return item;
  }

  message(text: string | RegExp): Locator {
    return this.page.getByTestId("message-list").getByTestId("message").filter({ hasText: text });
  }

  async messageId(item: Locator): Promise<string> {
    const id = await item.getAttribute("data-message-id");
    if (!id) throw new Error("message item has no data-message-id");
    return id;
  }

  async edit(item: Locator, newText: string): Promise<void> {
    await item.hover();
    await item.getByTestId("message-edit").click();
    const box = item.getByTestId("edit-input");
    await box.fill(newText);
    await box.press("Enter");
  }

  async delete(item: Locator): Promise<void> {
    await item.hover();
    await item.getByTestId("message-delete").click();
    const confirm = this.page.getByTestId("confirm-delete");
    if (await confirm.isVisible().catch(() => false)) await confirm.click();
  }

  async react(item: Locator, emoji: string): Promise<void> {
    await item.hover();
    await item.getByTestId("message-react").click();
    await this.page.getByTestId(`reaction-choice-${emoji}`).click();
  }

  async replyInThread(item: Locator, text: string): Promise<Locator> {
    await item.hover();
    await item.getByTestId("message-reply").click();
    const panel = this.page.getByTestId("thread-panel");
    await expect(panel).toBeVisible();
    const input = panel.getByTestId("thread-composer-input");
    await input.fill(text);
    await input.press("Enter");
    const reply = panel.getByTestId("message").filter({ hasText: text });
    await expect(reply).toHaveAttribute("data-state", "sent");
    return reply;
  }

  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({
      path: `${env.outputDir}/screenshots/${name}.png`,
      fullPage: true,
    });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

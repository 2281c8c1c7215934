// <room-app-kb> (system.md §8.5, light DOM): the room's pages ("Knowledge Base": list, create
// with a title, open) and the open page — title, rich-text editor (TipTap, a lazy chunk),
// autosave 2 s after the last change with "Saving…/Saved", delete with confirmation, and
// "{name} is editing" chips from `presence` events and the page's `editors`. `editing` is
// re-sent every 20 s while the page is open and `stopedit` sent on leaving (session.ts).
// Stored HTML is sanitised on the client before it is rendered (sanitize.ts); titles and
// names are text only. While this tab has nothing unsaved, a presence change of the open page
// reloads it, so another editor's saved text shows up (kb-service broadcasts only presence).
import {
  type AppBridge,
  type AppJson,
  defineRoomApp,
  isJsonObject,
  listOf,
  callApp,
  str,
} from "../sdk";
import type * as EditorModuleNs from "./editor";
import { chipText, editorsFromPresence, KbSession, otherEditors, saveLabel } from "./session";

type EditorHandle = EditorModuleNs.KbEditorHandle;

const kStyle = `
room-app-kb { display: flex; flex-direction: column; color: #e6e8ee; }
room-app-kb .kb-bar { display: flex; gap: 8px; align-items: center; padding: 8px 14px; flex-wrap: wrap; }
room-app-kb .kb-bar h3 { margin: 0; font-size: 1rem; flex: 1; }
room-app-kb .kb-title { flex: 1; font-size: 1.05rem; font-weight: 600; min-width: 12em; }
room-app-kb .kb-status { color: #9aa1ae; font-size: .8rem; min-width: 8em; }
room-app-kb .kb-error { color: #e5484d; margin: 0 14px; min-height: 1.2em; }
room-app-kb .kb-pages { list-style: none; margin: 0; padding: 0 14px; }
room-app-kb .kb-pages li { display: flex; gap: 8px; align-items: center; padding: 4px 0; border-bottom: 1px solid #22262e; }
room-app-kb .kb-pages .kb-page-title { flex: 1; }
room-app-kb .kb-meta { color: #9aa1ae; font-size: .8rem; }
room-app-kb .kb-chips { display: flex; gap: 6px; padding: 0 14px; min-height: 1.4em; }
room-app-kb .kb-chip { font-size: .8rem; color: #f5a524; border: 1px solid; border-radius: 8px; padding: 0 6px; }
room-app-kb .kb-toolbar { display: flex; gap: 4px; padding: 4px 14px; }
room-app-kb .kb-toolbar button[aria-pressed="true"] { border-color: #4f8cff; color: #4f8cff; }
room-app-kb .kb-area { padding: 0 14px 14px; }
room-app-kb .kb-content { min-height: 240px; border: 1px solid #2c313c; border-radius: 8px; padding: 8px 12px; background: #1d2027; outline: none; }
room-app-kb .kb-content:focus { border-color: #4f8cff; }
room-app-kb .kb-content a { color: #4f8cff; }
room-app-kb .kb-empty { color: #9aa1ae; padding: 8px 14px; }
`;

function node<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  value = "",
  cls = "",
  testid = "",
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (value) e.textContent = value;
  if (cls) e.className = cls;
  if (testid) e.dataset.testid = testid;
  return e;
}

function button(label: string, testid: string, onClick: () => void): HTMLButtonElement {
  const b = node("button", label, "", testid);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

interface OpenPage {
  id: string;
  /** The content as last loaded from the service (a reload that changes nothing is skipped). */
  stored: string;
  session: KbSession;
  editor: EditorHandle | null;
  title: HTMLInputElement;
  chips: HTMLElement;
  status: HTMLElement;
}

class KbApp extends HTMLElement {
  private bridge: AppBridge | null = null;
  private readonly body = document.createElement("div");
  private readonly errorLine = node("p", "", "kb-error", "kb-error");
  private unsubscribe: (() => void) | null = null;
  private page: OpenPage | null = null;
  private generation = 0;

  connectedCallback(): void {
    if (this.childElementCount > 0) return;
    const style = document.createElement("style");
    style.textContent = kStyle;
    this.body.style.display = "contents";
    this.errorLine.setAttribute("role", "alert");
    this.append(style, this.errorLine, this.body);
  }

  setBridge(bridge: AppBridge): void {
    this.connectedCallback();
    this.bridge = bridge;
    this.unsubscribe?.();
    this.unsubscribe = bridge.subscribe("presence", (p) => this.onPresence(p));
    void this.showList();
  }

  disconnectedCallback(): void {
    void this.closePage(true);
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private get me(): string {
    return this.bridge?.user.username ?? "";
  }

  private showError(msg: string): void {
    this.errorLine.textContent = msg;
  }

  private call(action: string, data?: Record<string, AppJson>): Promise<AppJson | null> {
    return callApp(this.bridge, action, data, (text) => this.showError(text));
  }

  // ------------------------------------------------------------------------ page list

  private async showList(): Promise<void> {
    await this.closePage();
    const gen = ++this.generation;
    const reply = await this.call("list");
    if (gen !== this.generation) return;
    const pages = listOf(reply ?? [], "pages")
      .filter(isJsonObject)
      .filter((p) => str(p, "id") !== "");

    const title = node("input", "", "", "kb-new-title");
    title.placeholder = "New page title…";
    title.maxLength = 200;
    title.setAttribute("aria-label", "New page title");
    const form = node("form", "", "kb-bar");
    const create = node("button", "+ New Page", "", "kb-new-page");
    create.type = "submit";
    form.append(node("h3", "Knowledge Base"), title, create);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.create(title.value.trim());
    });
    const list = node("ul", "", "kb-pages", "kb-pages");
    for (const p of pages) {
      const li = node("li", "", "", "kb-page");
      li.dataset.pageId = str(p, "id");
      const by = str(p, "updatedBy");
      const at = str(p, "updatedAt");
      li.append(
        node("span", str(p, "title", "Untitled") || "Untitled", "kb-page-title", "kb-page-title"),
        node(
          "span",
          `${by ? `updated by ${by}` : ""}${at ? ` · ${at.slice(0, 16)}` : ""}`,
          "kb-meta",
        ),
        button("Open", "kb-open", () => void this.open(str(p, "id"))),
      );
      list.append(li);
    }
    const nodes: Node[] = [form, list];
    if (pages.length === 0) nodes.push(node("p", "No pages yet.", "kb-empty"));
    this.body.replaceChildren(...nodes);
  }

  private async create(title: string): Promise<void> {
    const reply = await this.call("create", title === "" ? {} : { title });
    if (reply === null || !isJsonObject(reply)) return;
    this.showError("");
    const id = str(reply, "id");
    if (id === "") await this.showList();
    else await this.open(id);
  }

  // ------------------------------------------------------------------------ open page

  private async open(pageId: string): Promise<void> {
    await this.closePage();
    const gen = ++this.generation;
    const reply = await this.call("load", { pageId });
    if (reply === null || !isJsonObject(reply) || gen !== this.generation) return;
    this.showError("");

    const title = node("input", "", "kb-title", "kb-title");
    title.value = str(reply, "title", "Untitled");
    title.maxLength = 200;
    title.setAttribute("aria-label", "Page title");
    const status = node("span", "", "kb-status", "kb-save-status");
    status.setAttribute("role", "status");
    const chips = node("div", "", "kb-chips", "kb-editors");
    chips.setAttribute("aria-label", "Also editing");
    const bar = node("div", "", "kb-bar");
    const del = node("span");
    const showDelete = () =>
      del.replaceChildren(button("Delete", "kb-delete", () => showConfirm()));
    const showConfirm = () =>
      del.replaceChildren(
        button("Confirm delete", "kb-confirm-delete", () => void this.deletePage(pageId)),
        button("Cancel", "kb-cancel-delete", showDelete),
      );
    showDelete();
    bar.append(
      button("← Pages", "kb-back", () => void this.showList()),
      title,
      status,
      del,
    );
    const editorBox = node("div", "", "", "kb-editor-box");
    editorBox.dataset.pageId = pageId;
    this.body.replaceChildren(bar, chips, editorBox);

    const session = new KbSession({
      pageId,
      save: async (t, content) => {
        const r = await this.call("save", { pageId, title: t, content });
        const ok = r !== null && isJsonObject(r) && r.ok === true;
        if (ok && this.page?.id === pageId) this.page.stored = content;
        return ok;
      },
      presence: (action) => void this.call(action, { pageId }),
      onState: (s) => {
        status.textContent = saveLabel(s);
        status.dataset.state = s;
      },
    });
    const page: OpenPage = {
      id: pageId,
      stored: str(reply, "content"),
      session,
      editor: null,
      title,
      chips,
      status,
    };
    this.page = page;
    this.renderChips(otherEditors(reply.editors, this.me));

    let mod: typeof EditorModuleNs;
    try {
      mod = await import("./editor");
    } catch {
      this.showError("The editor could not be loaded.");
      return;
    }
    if (this.page !== page) return;
    page.editor = mod.mountKbEditor(editorBox, str(reply, "content"), (html) =>
      session.change(title.value, html),
    );
    editorBox.dataset.ready = "true";
    title.addEventListener("input", () => session.change(title.value, page.editor?.html() ?? ""));
    session.start(title.value, page.editor.html());
  }

  private renderChips(editors: string[]): void {
    const page = this.page;
    if (page === null) return;
    page.chips.replaceChildren(
      ...editors.map((u) => {
        const c = node("span", chipText(u), "kb-chip", "kb-editing-chip");
        c.dataset.user = u;
        return c;
      }),
    );
  }

  private onPresence(payload: AppJson): void {
    const page = this.page;
    if (page === null) return;
    const editors = editorsFromPresence(payload, page.id, this.me);
    if (editors === null) return;
    this.renderChips(editors);
    if (page.session.pristine && page.editor !== null) void this.reloadContent(page);
  }

  /** Shows the stored version of the open page (only while nothing local is unsaved). */
  private async reloadContent(page: OpenPage): Promise<void> {
    const reply = await this.call("load", { pageId: page.id });
    if (this.page !== page || page.editor === null || !page.session.pristine) return;
    if (reply === null || !isJsonObject(reply)) return;
    const content = str(reply, "content");
    const title = str(reply, "title", page.title.value);
    if (content === page.stored && title === page.title.value) return;
    page.stored = content;
    page.editor.setContent(content);
    page.title.value = title;
    page.session.rebase(page.title.value, page.editor.html());
  }

  private async deletePage(pageId: string): Promise<void> {
    await this.closePage();
    if ((await this.call("delete", { pageId })) === null) return;
    this.showError("");
    await this.showList();
  }

  /** `teardown`: the host is removing the app (the bridge closes right after). */
  private async closePage(teardown = false): Promise<void> {
    const page = this.page;
    if (page === null) return;
    this.page = null;
    this.generation++;
    try {
      await page.session.stop(teardown);
    } finally {
      page.editor?.destroy();
    }
  }
}

defineRoomApp("kb", KbApp);

// <room-app-whiteboard> (system.md §8.4, light DOM): the room's boards (list, create with a
// name, delete with confirmation, open) and the open board in Excalidraw. The editor chunk
// (React + Excalidraw) is imported only when a board opens. Local changes go out as one `delta`
// 300 ms after the last change and remote `sync` events are merged without echo (sync.ts).
// Excalidraw's fonts load from the copy next to this bundle (vite.apps.config.ts), never a CDN.
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
import { BoardSync, elementsOf, type WbElement } from "./sync";

(window as { EXCALIDRAW_ASSET_PATH?: string }).EXCALIDRAW_ASSET_PATH = new URL(
  "./",
  import.meta.url,
).href;

const kStyle = `
room-app-whiteboard { display: flex; flex-direction: column; min-height: 480px; color: #e6e8ee; }
room-app-whiteboard .wb-bar { display: flex; gap: 8px; align-items: center; padding: 8px 14px; }
room-app-whiteboard .wb-bar h3 { margin: 0; font-size: 1rem; flex: 1; }
room-app-whiteboard .wb-list { list-style: none; margin: 0; padding: 0 14px; }
room-app-whiteboard .wb-list li { display: flex; gap: 8px; align-items: center; padding: 4px 0; border-bottom: 1px solid #22262e; }
room-app-whiteboard .wb-list .wb-name { flex: 1; }
room-app-whiteboard .wb-meta { color: #9aa1ae; font-size: .8rem; }
room-app-whiteboard .wb-error { color: #e5484d; margin: 0 14px; min-height: 1.2em; }
room-app-whiteboard .wb-canvas { flex: 1; min-height: 420px; position: relative; }
room-app-whiteboard .wb-empty { color: #9aa1ae; padding: 8px 14px; }
`;

interface BoardInfo {
  id: string;
  name: string;
  createdBy: string;
}

function button(text: string, testid: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.dataset.testid = testid;
  b.addEventListener("click", onClick);
  return b;
}

function text<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  value: string,
  cls = "",
  testid = "",
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.textContent = value;
  if (cls) e.className = cls;
  if (testid) e.dataset.testid = testid;
  return e;
}

type EditorModule = typeof EditorModuleNs;
type EditorHandle = EditorModuleNs.EditorHandle;

class WhiteboardApp extends HTMLElement {
  private bridge: AppBridge | null = null;
  private readonly body = document.createElement("div");
  private readonly errorLine = text("p", "", "wb-error", "wb-error");
  private unsubscribe: (() => void) | null = null;
  private boards: BoardInfo[] = [];
  private confirming: string | null = null;
  // The open board: its sync state, the editor once loaded, elements until then.
  private sync: BoardSync | null = null;
  private editor: EditorHandle | null = null;
  private loaded: WbElement[] = [];
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
    this.unsubscribe = bridge.subscribe("sync", (p) => this.onSync(p));
    void this.showList();
  }

  disconnectedCallback(): void {
    this.closeBoard();
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private showError(msg: string): void {
    this.errorLine.textContent = msg;
  }

  private call(action: string, data?: Record<string, AppJson>): Promise<AppJson | null> {
    return callApp(this.bridge, action, data, (text) => this.showError(text));
  }

  // ------------------------------------------------------------------ board list

  private async showList(): Promise<void> {
    this.closeBoard();
    const gen = ++this.generation;
    const reply = await this.call("list");
    if (gen !== this.generation) return;
    this.boards = listOf(reply ?? [], "boards")
      .filter(isJsonObject)
      .map((b) => ({
        id: str(b, "id"),
        name: str(b, "name", "Untitled"),
        createdBy: str(b, "createdBy"),
      }))
      .filter((b) => b.id !== "");
    this.renderList();
  }

  private renderList(): void {
    const name = document.createElement("input");
    name.placeholder = "New board name…";
    name.setAttribute("aria-label", "New board name");
    name.dataset.testid = "wb-new-name";
    name.maxLength = 100;
    const form = document.createElement("form");
    form.className = "wb-bar";
    form.append(text("h3", "Whiteboards"), name);
    const create = text("button", "Create board", "", "wb-create");
    create.setAttribute("type", "submit");
    form.append(create);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.create(name.value.trim());
    });
    const list = document.createElement("ul");
    list.className = "wb-list";
    list.dataset.testid = "wb-list";
    for (const b of this.boards) {
      const li = document.createElement("li");
      li.dataset.testid = "wb-board";
      li.dataset.boardId = b.id;
      li.append(
        text("span", b.name, "wb-name", "wb-board-name"),
        text("span", `by ${b.createdBy}`, "wb-meta"),
      );
      li.append(button("Open", "wb-open", () => void this.open(b)));
      if (this.confirming === b.id) {
        li.append(
          button("Confirm delete", "wb-confirm-delete", () => void this.deleteBoard(b.id)),
          button("Cancel", "wb-cancel-delete", () => {
            this.confirming = null;
            this.renderList();
          }),
        );
      } else {
        li.append(
          button("Delete", "wb-delete", () => {
            this.confirming = b.id;
            this.renderList();
          }),
        );
      }
      list.append(li);
    }
    const nodes: Node[] = [form, list];
    if (this.boards.length === 0) nodes.push(text("p", "No boards yet.", "wb-empty"));
    this.body.replaceChildren(...nodes);
  }

  private async create(name: string): Promise<void> {
    const reply = await this.call("create", name === "" ? {} : { name });
    if (reply === null || !isJsonObject(reply)) return;
    this.showError("");
    const id = str(reply, "id");
    if (id === "") return void this.showList();
    await this.open({
      id,
      name: str(reply, "name", name || "Untitled"),
      createdBy: str(reply, "createdBy"),
    });
  }

  private async deleteBoard(boardId: string): Promise<void> {
    this.confirming = null;
    if ((await this.call("delete", { boardId })) === null) return;
    this.showError("");
    await this.showList();
  }

  // ------------------------------------------------------------------ open board

  private async open(board: BoardInfo): Promise<void> {
    this.closeBoard();
    const gen = ++this.generation;
    const bridge = this.bridge;
    if (bridge === null) return;
    const reply = await this.call("load", { boardId: board.id });
    if (reply === null || gen !== this.generation) return;
    this.showError("");
    this.loaded = elementsOf(reply);
    const sync = new BoardSync({
      boardId: board.id,
      user: bridge.user.username,
      send: (elements) => {
        void this.call("delta", { boardId: board.id, elements: elements as unknown as AppJson[] });
      },
    });
    sync.seed(this.loaded);
    this.sync = sync;

    const bar = document.createElement("div");
    bar.className = "wb-bar";
    bar.append(
      button("← Boards", "wb-back", () => void this.showList()),
      text("h3", str(isJsonObject(reply) ? reply : {}, "name", board.name), "", "wb-board-title"),
    );
    const canvas = document.createElement("div");
    canvas.className = "wb-canvas";
    canvas.dataset.testid = "wb-canvas";
    canvas.dataset.boardId = board.id;
    this.body.replaceChildren(bar, canvas);

    let editorModule: EditorModule;
    try {
      editorModule = await import("./editor");
    } catch {
      this.showError("The drawing editor could not be loaded.");
      return;
    }
    if (gen !== this.generation || this.sync !== sync) return;
    // data-elements: how many shapes are on the board (not deleted), for tests and a11y tools.
    const count = (elements: readonly WbElement[]) => {
      canvas.dataset.elements = String(elements.filter((e) => e.isDeleted !== true).length);
    };
    count(this.loaded);
    this.editor = editorModule.mountEditor(canvas, {
      initial: this.loaded,
      onChange: (elements) => {
        count(elements);
        sync.localChange(elements);
      },
    });
    canvas.dataset.ready = "true";
  }

  private onSync(payload: AppJson): void {
    const sync = this.sync;
    if (sync === null) return;
    if (this.editor === null) {
      // Still loading the editor: merge into what it will start with.
      const merged = sync.remoteSync(payload, this.loaded);
      if (merged !== null) this.loaded = merged;
      return;
    }
    const merged = sync.remoteSync(payload, this.editor.elements());
    if (merged !== null) this.editor.update(merged);
  }

  private closeBoard(): void {
    this.generation++;
    this.sync?.close();
    this.sync = null;
    this.editor?.destroy();
    this.editor = null;
    this.loaded = [];
  }
}

defineRoomApp("whiteboard", WhiteboardApp);

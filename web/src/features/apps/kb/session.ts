// One open KB page (system.md §8.5 with issue 13's ★): autosave 2 s after the last change with
// a "Saving…/Saved" state (a change during a save is saved right after it), `editing` on open
// and again every 20 s while the page stays open (kb-service keeps editing presence in a KV
// bucket that forgets an editor after ~60 s without it), `stopedit` on leave after a final
// save. Free of the DOM and the editor so the timing can be unit-tested.
import { type AppJson } from "../sdk";

export type SaveState = "clean" | "dirty" | "saving" | "saved" | "error";

export const kAutosaveMs = 2000;
export const kEditingRefreshMs = 20_000;

export function saveLabel(s: SaveState): string {
  switch (s) {
    case "dirty":
      return "Unsaved changes";
    case "saving":
      return "Saving…";
    case "saved":
      return "Saved";
    case "error":
      return "Not saved";
    default:
      return "";
  }
}

export interface KbSessionOptions {
  pageId: string;
  /** Saves the page; resolves true when the service stored it. */
  save(title: string, content: string): Promise<boolean>;
  /** Sends `editing` / `stopedit` (fire and forget). */
  presence(action: "editing" | "stopedit"): void;
  onState(state: SaveState): void;
  autosaveMs?: number;
  refreshMs?: number;
}

export class KbSession {
  private state: SaveState = "clean";
  private title = "";
  private content = "";
  private version = 0;
  private savedVersion = 0;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setInterval> | null = null;
  private saving: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: KbSessionOptions) {}

  get pageId(): string {
    return this.opts.pageId;
  }

  get saveState(): SaveState {
    return this.state;
  }

  /** True while there is nothing unsaved and nothing in flight. */
  get pristine(): boolean {
    return this.version === this.savedVersion && this.saving === null;
  }

  private set(s: SaveState): void {
    if (this.state === s) return;
    this.state = s;
    this.opts.onState(s);
  }

  /** The page is open with this title and content: announce editing and keep announcing it. */
  start(title: string, content: string): void {
    this.title = title;
    this.content = content;
    this.opts.presence("editing");
    this.refreshTimer = setInterval(
      () => this.opts.presence("editing"),
      this.opts.refreshMs ?? kEditingRefreshMs,
    );
  }

  /** The stored page was shown again (reloaded while pristine): the new baseline, no save. */
  rebase(title: string, content: string): void {
    if (!this.pristine) return;
    this.title = title;
    this.content = content;
  }

  /** A local edit; saving follows 2 s after the last one. */
  change(title: string, content: string): void {
    if (this.stopped) return;
    if (title === this.title && content === this.content) return;
    this.title = title;
    this.content = content;
    this.version++;
    this.set("dirty");
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.flush();
    }, this.opts.autosaveMs ?? kAutosaveMs);
  }

  /** Saves now if anything is unsaved (waits for a save in flight first). */
  async flush(): Promise<void> {
    if (this.saveTimer !== null) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    while (this.saving !== null) await this.saving;
    if (this.version === this.savedVersion) return;
    const version = this.version;
    this.set("saving");
    const run = (async () => {
      let ok: boolean;
      try {
        ok = await this.opts.save(this.title, this.content);
      } catch {
        ok = false;
      }
      if (ok) this.savedVersion = Math.max(this.savedVersion, version);
      if (this.stopped && this.version === this.savedVersion) return;
      if (!ok) this.set("error");
      else if (this.version === this.savedVersion) this.set("saved");
      else this.set("dirty");
    })();
    this.saving = run;
    try {
      await run;
    } finally {
      this.saving = null;
    }
    // Edited while saving: that change's own timer saves it (or the next flush does).
  }

  /**
   * Leaving the page: the final save, then `stopedit` (so another viewer reloading on that
   * presence change gets the saved text); later calls do nothing. `teardown`: the host closes
   * the bridge right after removing the app, so both are sent before this returns its promise
   * and nothing waits for a reply.
   */
  async stop(teardown = false): Promise<void> {
    if (this.stopped) return;
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    const final = this.flush();
    this.stopped = true;
    if (teardown) {
      this.opts.presence("stopedit");
      await final;
      return;
    }
    try {
      await final;
    } finally {
      this.opts.presence("stopedit");
    }
  }
}

/** The other editors of `pageId` from a `presence` event, or null when it is for another page. */
export function editorsFromPresence(payload: AppJson, pageId: string, me: string): string[] | null {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
  if (payload.pageId !== pageId) return null;
  return otherEditors(payload.editors, me);
}

/** Unique, sorted usernames other than `me` (strings or `{user}`/`{username}` objects). */
export function otherEditors(editors: AppJson | undefined, me: string): string[] {
  if (!Array.isArray(editors)) return [];
  const out = new Set<string>();
  for (const e of editors) {
    let name: AppJson | undefined = e;
    if (typeof e === "object" && e !== null && !Array.isArray(e)) name = e.user ?? e.username;
    if (typeof name === "string" && name !== "" && name !== me && name.length <= 64) out.add(name);
  }
  return [...out].sort();
}

export function chipText(user: string): string {
  return `${user} is editing`;
}

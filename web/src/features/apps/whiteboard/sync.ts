// Whiteboard synchronisation (system.md §8.4), kept free of Excalidraw and the DOM: the
// id → version map of what this tab has seen or sent; local changes (elements whose version is
// above it) queued and sent as ONE delta 300 ms after the last change; remote `sync` events for
// the open board from another sender merged by id, higher version wins, and recorded in the
// map first — so the scene update they cause is not sent back (no echo). Our own `sync` (the
// service broadcasts to every member, the sender included) is skipped by `sender`.

type Obj = { readonly [key: string]: unknown };

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface WbElement {
  readonly id: string;
  readonly version: number;
  readonly [key: string]: unknown;
}

export const kDeltaDebounceMs = 300;
/** whiteboard-service refuses larger deltas (CHAT_WHITEBOARD_MAX_DELTA_ELEMENTS, default 500). */
export const kMaxDeltaElements = 500;

export function isElement(v: unknown): v is WbElement {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as { id?: unknown; version?: unknown };
  return (
    typeof o.id === "string" &&
    o.id !== "" &&
    typeof o.version === "number" &&
    Number.isInteger(o.version) &&
    o.version >= 0
  );
}

/** Elements of a reply or event (`elements` array), invalid entries dropped. */
export function elementsOf(j: unknown): WbElement[] {
  if (!isObj(j) || !Array.isArray(j.elements)) return [];
  return (j.elements as unknown[]).filter(isElement);
}

/**
 * `remote` merged into `local` by id: an unknown id is appended, a known one replaced when the
 * remote version is higher (equal or lower: ours is kept). Order of `local` is preserved.
 */
export function mergeElements(
  local: readonly WbElement[],
  remote: readonly WbElement[],
): { elements: WbElement[]; changed: boolean } {
  const out = [...local];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(e.id, i));
  let changed = false;
  for (const r of remote) {
    const i = index.get(r.id);
    if (i === undefined) {
      index.set(r.id, out.length);
      out.push(r);
      changed = true;
    } else if (r.version > out[i]!.version) {
      out[i] = r;
      changed = true;
    }
  }
  return { elements: out, changed };
}

export interface BoardSyncOptions {
  boardId: string;
  user: string;
  /** Sends one delta (the bridge's `delta` request). */
  send(elements: WbElement[]): void;
  debounceMs?: number;
}

export class BoardSync {
  private readonly known = new Map<string, number>();
  private readonly pending = new Map<string, WbElement>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(private readonly opts: BoardSyncOptions) {}

  get boardId(): string {
    return this.opts.boardId;
  }

  /** The board as loaded: nothing of it is "new". */
  seed(elements: readonly WbElement[]): void {
    for (const e of elements) this.note(e.id, e.version);
  }

  private note(id: string, version: number): void {
    if (version > (this.known.get(id) ?? -1)) this.known.set(id, version);
  }

  /** The editor's scene after a change; queues what is newer than known, (re)arms the timer. */
  localChange(elements: readonly WbElement[]): number {
    if (this.closed) return 0;
    let queued = 0;
    for (const e of elements) {
      if (!isElement(e)) continue;
      if (e.version > (this.known.get(e.id) ?? -1)) {
        const prev = this.pending.get(e.id);
        if (prev === undefined || e.version >= prev.version) this.pending.set(e.id, e);
        queued++;
      }
    }
    if (queued > 0) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), this.opts.debounceMs ?? kDeltaDebounceMs);
    }
    return queued;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sends the queued elements now as one delta (nothing when empty). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const e of batch) this.note(e.id, e.version);
    // One delta; only a change of more elements than the service takes (a paste) is split.
    for (let i = 0; i < batch.length; i += kMaxDeltaElements)
      this.opts.send(batch.slice(i, i + kMaxDeltaElements));
  }

  /**
   * A `sync` event; returns the merged scene to show, or null when it is not for this board, is
   * our own echo, or changes nothing.
   */
  remoteSync(payload: unknown, current: readonly WbElement[]): WbElement[] | null {
    if (this.closed || !isObj(payload)) return null;
    if (payload.boardId !== this.opts.boardId) return null;
    if (payload.sender === this.opts.user) return null;
    const remote = elementsOf(payload);
    if (remote.length === 0) return null;
    for (const r of remote) {
      this.note(r.id, r.version);
      const mine = this.pending.get(r.id);
      if (mine !== undefined && mine.version <= r.version) this.pending.delete(r.id);
    }
    const merged = mergeElements(current, remote);
    return merged.changed ? merged.elements : null;
  }

  /** Leaving the board: what is queued is sent at once, then nothing more. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }
}

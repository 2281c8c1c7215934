// As-you-type user suggestions, free of React and NATS so they can be unit-tested: the query is
// trimmed, searched only from kMinQueryLength characters, debounced (300 ms, system.md §7.2),
// and a reply that arrives after a newer query was typed is dropped. Errors (rate limiting, the
// IdP being down) become a plain sentence in the state.
import type { UserSearchEntry } from "../../contracts/users";
import { kMaxUserSearchQueryBytes } from "../../contracts/users";
import { utf8Bytes } from "../../contracts/ids";

export const kDebounceMs = 300;
export const kMinQueryLength = 2;

export interface SuggestState {
  query: string;
  loading: boolean;
  users: UserSearchEntry[];
  error: string;
}

export const kIdle: SuggestState = { query: "", loading: false, users: [], error: "" };

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const kRealTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The text a search for `raw` sends, or null when it is too short or too long to send. */
export function searchableQuery(raw: string, minLength = kMinQueryLength): string | null {
  const q = raw.trim();
  if ([...q].length < minLength || utf8Bytes(q) > kMaxUserSearchQueryBytes) return null;
  // The service refuses control characters and JSON-looking bodies (plain text only).
  if ([...q].some((c) => c.charCodeAt(0) < 0x20 || c === "\u007f") || /^[[{]/.test(q)) return null;
  return q;
}

/** A plain sentence for a failed search (the code of an error reply, or a transport failure). */
export function searchErrorText(e: unknown): string {
  const type = typeof e === "object" && e !== null && "type" in e ? String(e.type) : "";
  const message = e instanceof Error ? e.message : "";
  switch (type) {
    case "rate_limited":
    case "resource_exhausted":
      return `Search rate limited: ${message || "wait a moment and try again"}.`;
    case "unavailable":
      return "User search is unavailable right now.";
    case "no_responders":
      return "User search is not running.";
    case "timeout":
      return "User search did not answer in time.";
    case "invalid_argument":
      return "That search text is not allowed.";
    default:
      return `User search failed${message ? `: ${message}` : "."}`;
  }
}

export class SuggestController {
  private state: SuggestState = kIdle;
  private timer: unknown = null;
  private seq = 0;

  constructor(
    private readonly search: (q: string) => Promise<UserSearchEntry[]>,
    private readonly onState: (s: SuggestState) => void,
    private readonly opts: {
      debounceMs?: number;
      minLength?: number;
      /** Usernames never suggested (the searcher, current members). */
      exclude?: () => ReadonlySet<string>;
      timers?: Timers;
    } = {},
  ) {}

  get current(): SuggestState {
    return this.state;
  }

  private set(s: SuggestState): void {
    this.state = s;
    this.onState(s);
  }

  private cancelTimer(): void {
    if (this.timer !== null) (this.opts.timers ?? kRealTimers).clear(this.timer);
    this.timer = null;
  }

  /** The input changed: schedule a search (or clear the suggestions for a short query). */
  input(raw: string): void {
    const q = searchableQuery(raw, this.opts.minLength ?? kMinQueryLength);
    this.cancelTimer();
    this.seq++;
    if (q === null) {
      if (this.state !== kIdle) this.set(kIdle);
      return;
    }
    if (q === this.state.query && !this.state.loading && this.state.error === "") return;
    const seq = this.seq;
    this.timer = (this.opts.timers ?? kRealTimers).set(() => {
      this.timer = null;
      void this.run(q, seq);
    }, this.opts.debounceMs ?? kDebounceMs);
  }

  /** Closes the suggestions (a user was picked, the input was left). */
  clear(): void {
    this.cancelTimer();
    this.seq++;
    if (this.state !== kIdle) this.set(kIdle);
  }

  private async run(q: string, seq: number): Promise<void> {
    this.set({ query: q, loading: true, users: this.state.users, error: "" });
    try {
      const users = await this.search(q);
      if (seq !== this.seq) return;
      const skip = this.opts.exclude?.() ?? new Set<string>();
      this.set({
        query: q,
        loading: false,
        users: users.filter((u) => !skip.has(u.username)),
        error: "",
      });
    } catch (e) {
      if (seq !== this.seq) return;
      this.set({ query: q, loading: false, users: [], error: searchErrorText(e) });
    }
  }
}

/** The `@word` being typed just before the caret, or null (for `@` autocomplete). */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const m = /(^|\s)@([\w-]*)$/.exec(text.slice(0, caret));
  if (m === null) return null;
  return { start: caret - m[2]!.length - 1, query: m[2]! };
}

/** Replaces the `@word` before the caret with `@username ` and returns the new text and caret. */
export function insertMention(
  text: string,
  caret: number,
  username: string,
): { text: string; caret: number } {
  const at = mentionAt(text, caret);
  if (at === null) return { text, caret };
  const insert = `@${username} `;
  const rest = text
    .slice(caret)
    .replace(/^[\w-]*/, "")
    .replace(/^ /, "");
  return { text: text.slice(0, at.start) + insert + rest, caret: at.start + insert.length };
}

// As-you-type suggestions: minimum length, debounce, stale replies dropped, exclusions, errors
// in words; the `@` mention helpers of the composer.
import { describe, expect, it } from "vitest";
import type { UserSearchEntry } from "../../contracts/users";
import { NatsCallError } from "../../nats/traced";
import {
  insertMention,
  kDebounceMs,
  kIdle,
  mentionAt,
  searchableQuery,
  searchErrorText,
  SuggestController,
  type SuggestState,
  type Timers,
} from "./suggest";

/** Manual timers: `tick(ms)` runs what is due. */
class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.due.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(h: unknown): void {
    this.due.delete(h as number);
  }
  tick(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.due]) {
      if (t.at <= this.now) {
        this.due.delete(id);
        t.fn();
      }
    }
  }
  get pending(): number {
    return this.due.size;
  }
}

const u = (username: string): UserSearchEntry => ({ username, firstName: "F", lastName: "L" });
const flush = () => new Promise((r) => setTimeout(r, 0));

function setup(search: (q: string) => Promise<UserSearchEntry[]>, exclude: string[] = []) {
  const timers = new FakeTimers();
  const states: SuggestState[] = [];
  const calls: string[] = [];
  const ctrl = new SuggestController(
    (q) => {
      calls.push(q);
      return search(q);
    },
    (s) => states.push(s),
    { timers, exclude: () => new Set(exclude) },
  );
  return { ctrl, timers, states, calls };
}

describe("searchableQuery", () => {
  it("needs at least 2 characters after trimming", () => {
    expect(searchableQuery("f")).toBeNull();
    expect(searchableQuery("  f ")).toBeNull();
    expect(searchableQuery(" fi ")).toBe("fi");
    expect(searchableQuery("fio", 4)).toBeNull();
  });
  it("never sends what the service refuses", () => {
    expect(searchableQuery("x".repeat(101))).toBeNull();
    expect(searchableQuery("a\u0001b")).toBeNull();
    expect(searchableQuery('{"q":1}')).toBeNull();
    expect(searchableQuery("[a]")).toBeNull();
  });
});

describe("SuggestController", () => {
  it("debounces typing into one search for the last text", async () => {
    const { ctrl, timers, calls, states } = setup(async () => [u("fiona")]);
    ctrl.input("f");
    ctrl.input("fi");
    timers.tick(kDebounceMs - 1);
    ctrl.input("fio");
    timers.tick(kDebounceMs - 1);
    expect(calls).toEqual([]);
    timers.tick(1);
    expect(calls).toEqual(["fio"]);
    expect(ctrl.current).toMatchObject({ query: "fio", loading: true });
    await flush();
    expect(ctrl.current).toEqual({ query: "fio", loading: false, users: [u("fiona")], error: "" });
    expect(states.at(-1)).toBe(ctrl.current);
  });

  it("does not search below the minimum length and clears the list", async () => {
    const { ctrl, timers, calls } = setup(async () => [u("fiona")]);
    ctrl.input("fi");
    timers.tick(kDebounceMs);
    await flush();
    expect(ctrl.current.users).toHaveLength(1);
    ctrl.input("f");
    expect(ctrl.current).toBe(kIdle);
    timers.tick(kDebounceMs * 2);
    expect(calls).toEqual(["fi"]);
    expect(timers.pending).toBe(0);
  });

  it("drops a reply that arrives after newer typing", async () => {
    const resolvers: ((v: UserSearchEntry[]) => void)[] = [];
    const { ctrl, timers } = setup(() => new Promise((r) => resolvers.push(r)));
    ctrl.input("fi");
    timers.tick(kDebounceMs);
    ctrl.input("fio");
    timers.tick(kDebounceMs);
    resolvers[1]!([u("fiona")]);
    await flush();
    resolvers[0]!([u("finn"), u("fiona")]);
    await flush();
    expect(ctrl.current).toMatchObject({ query: "fio", users: [u("fiona")] });
  });

  it("filters excluded users (the searcher, members)", async () => {
    const { ctrl, timers } = setup(async () => [u("alice"), u("fiona")], ["alice"]);
    ctrl.input("a");
    ctrl.input("al");
    timers.tick(kDebounceMs);
    await flush();
    expect(ctrl.current.users.map((x) => x.username)).toEqual(["fiona"]);
  });

  it("shows a rate limit refusal plainly", async () => {
    const { ctrl, timers } = setup(async () => {
      throw new NatsCallError(
        "resource_exhausted",
        "too many user searches; retry in 5 s",
        "resource_exhausted",
      );
    });
    ctrl.input("fio");
    timers.tick(kDebounceMs);
    await flush();
    expect(ctrl.current).toEqual({
      query: "fio",
      loading: false,
      users: [],
      error: "Search rate limited: too many user searches; retry in 5 s.",
    });
  });

  it("clear() cancels a pending search", () => {
    const { ctrl, timers, calls } = setup(async () => []);
    ctrl.input("fio");
    ctrl.clear();
    timers.tick(kDebounceMs);
    expect(calls).toEqual([]);
  });
});

describe("searchErrorText", () => {
  it("words each failure", () => {
    expect(searchErrorText(new NatsCallError("unavailable", "user directory unavailable: x"))).toBe(
      "User search is unavailable right now.",
    );
    expect(searchErrorText(new NatsCallError("no_responders", "no service is answering"))).toBe(
      "User search is not running.",
    );
    expect(searchErrorText(new NatsCallError("timeout", "the request timed out"))).toBe(
      "User search did not answer in time.",
    );
    expect(searchErrorText(new Error("boom"))).toBe("User search failed: boom");
  });
});

describe("mentions", () => {
  it("finds the @word before the caret", () => {
    expect(mentionAt("hi @fio", 7)).toEqual({ start: 3, query: "fio" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAt("mail a@b", 8)).toBeNull();
    expect(mentionAt("hi @fio there", 13)).toBeNull();
  });
  it("replaces it with @username and a space", () => {
    expect(insertMention("hi @fio", 7, "fiona")).toEqual({ text: "hi @fiona ", caret: 10 });
    expect(insertMention("hi @fi and more", 6, "fiona")).toEqual({
      text: "hi @fiona and more",
      caret: 10,
    });
    expect(insertMention("no mention", 10, "fiona")).toEqual({ text: "no mention", caret: 10 });
  });
});

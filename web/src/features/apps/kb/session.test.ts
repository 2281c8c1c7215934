import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  chipText,
  editorsFromPresence,
  kAutosaveMs,
  kEditingRefreshMs,
  KbSession,
  otherEditors,
  type SaveState,
  saveLabel,
} from "./session";

interface Harness {
  session: KbSession;
  saves: Array<{ title: string; content: string }>;
  presence: string[];
  states: SaveState[];
  /** Resolves the oldest pending save. */
  answer(ok: boolean): void;
}

function harness(autoAnswer = true): Harness {
  const saves: Array<{ title: string; content: string }> = [];
  const presence: string[] = [];
  const states: SaveState[] = [];
  const waiting: Array<(ok: boolean) => void> = [];
  const session = new KbSession({
    pageId: "p1",
    save: (title, content) => {
      saves.push({ title, content });
      return autoAnswer ? Promise.resolve(true) : new Promise<boolean>((r) => waiting.push(r));
    },
    presence: (a) => presence.push(a),
    onState: (s) => states.push(s),
  });
  return { session, saves, presence, states, answer: (ok) => waiting.shift()?.(ok) };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("autosave", () => {
  it("saves 2 s after the LAST change, once, then says Saved", async () => {
    const h = harness();
    h.session.start("T", "<p>a</p>");
    h.session.change("T", "<p>ab</p>");
    await vi.advanceTimersByTimeAsync(kAutosaveMs - 1);
    h.session.change("T", "<p>abc</p>");
    await vi.advanceTimersByTimeAsync(kAutosaveMs - 1);
    expect(h.saves).toEqual([]);
    expect(h.session.saveState).toBe("dirty");
    await vi.advanceTimersByTimeAsync(1);
    expect(h.saves).toEqual([{ title: "T", content: "<p>abc</p>" }]);
    expect(h.states).toEqual(["dirty", "saving", "saved"]);
    expect(saveLabel("saving")).toBe("Saving…");
    expect(saveLabel("saved")).toBe("Saved");
    expect(h.session.pristine).toBe(true);
  });

  it("a title change alone is saved; an unchanged value is not a change", async () => {
    const h = harness();
    h.session.start("T", "c");
    h.session.change("T", "c");
    await vi.advanceTimersByTimeAsync(kAutosaveMs * 2);
    expect(h.saves).toEqual([]);
    h.session.change("New title", "c");
    await vi.advanceTimersByTimeAsync(kAutosaveMs);
    expect(h.saves).toEqual([{ title: "New title", content: "c" }]);
  });

  it("shows Saving… while the save is in flight and saves a change made meanwhile afterwards", async () => {
    const h = harness(false);
    h.session.start("T", "a");
    h.session.change("T", "b");
    await vi.advanceTimersByTimeAsync(kAutosaveMs);
    expect(h.session.saveState).toBe("saving");
    h.session.change("T", "c");
    await vi.advanceTimersByTimeAsync(kAutosaveMs);
    // The second save waits for the first.
    expect(h.saves).toHaveLength(1);
    h.answer(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.saves).toEqual([
      { title: "T", content: "b" },
      { title: "T", content: "c" },
    ]);
    expect(h.session.saveState).toBe("saving");
    h.answer(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.session.saveState).toBe("saved");
  });

  it("a refused save shows the error state and is retried by the next change", async () => {
    const h = harness(false);
    h.session.start("T", "a");
    h.session.change("T", "b");
    await vi.advanceTimersByTimeAsync(kAutosaveMs);
    h.answer(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.session.saveState).toBe("error");
    expect(h.session.pristine).toBe(false);
    h.session.change("T", "bc");
    await vi.advanceTimersByTimeAsync(kAutosaveMs);
    h.answer(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.saves.map((s) => s.content)).toEqual(["b", "bc"]);
    expect(h.session.saveState).toBe("saved");
  });
});

describe("rebase", () => {
  it("takes a reloaded page as the new baseline only while nothing is unsaved", async () => {
    const h = harness();
    h.session.start("T", "a");
    h.session.rebase("T", "remote");
    h.session.change("T", "remote");
    await vi.advanceTimersByTimeAsync(kAutosaveMs);
    expect(h.saves).toEqual([]);
    h.session.change("T", "mine");
    h.session.rebase("T", "other");
    await vi.advanceTimersByTimeAsync(kAutosaveMs);
    expect(h.saves).toEqual([{ title: "T", content: "mine" }]);
    expect(h.presence).toEqual(["editing"]);
  });
});

describe("editing presence", () => {
  it("sends editing on open and every 20 s while open, stopedit on leave after the final save", async () => {
    const h = harness();
    h.session.start("T", "a");
    expect(h.presence).toEqual(["editing"]);
    await vi.advanceTimersByTimeAsync(kEditingRefreshMs * 3);
    expect(h.presence).toEqual(["editing", "editing", "editing", "editing"]);
    h.session.change("T", "unsaved");
    await h.session.stop();
    expect(h.saves).toEqual([{ title: "T", content: "unsaved" }]);
    expect(h.presence.at(-1)).toBe("stopedit");
    const n = h.presence.length;
    await vi.advanceTimersByTimeAsync(kEditingRefreshMs * 3);
    await h.session.stop();
    h.session.change("T", "after");
    await vi.advanceTimersByTimeAsync(kAutosaveMs);
    expect(h.presence).toHaveLength(n);
    expect(h.saves).toHaveLength(1);
  });

  it("sends the final save and stopedit synchronously (before a teardown closes the bridge)", () => {
    const h = harness(false);
    h.session.start("T", "a");
    h.session.change("T", "last words");
    void h.session.stop(true);
    expect(h.saves).toEqual([{ title: "T", content: "last words" }]);
    expect(h.presence).toEqual(["editing", "stopedit"]);
  });

  it("on a normal leave, stopedit follows the final save's reply", async () => {
    const h = harness(false);
    h.session.start("T", "a");
    h.session.change("T", "b");
    const stopping = h.session.stop();
    expect(h.presence).toEqual(["editing"]);
    h.answer(true);
    await stopping;
    expect(h.presence).toEqual(["editing", "stopedit"]);
  });

  it("sends stopedit even when the final save fails", async () => {
    const h = harness(false);
    h.session.start("T", "a");
    h.session.change("T", "b");
    const stopping = h.session.stop();
    h.answer(false);
    await stopping;
    expect(h.presence).toEqual(["editing", "stopedit"]);
  });
});

describe("editor chips", () => {
  it("lists the other editors of the open page only", () => {
    expect(
      editorsFromPresence(
        { pageId: "p1", editors: ["bob", "alice", "carol", "bob"] },
        "p1",
        "alice",
      ),
    ).toEqual(["bob", "carol"]);
    expect(editorsFromPresence({ pageId: "p2", editors: ["bob"] }, "p1", "alice")).toBeNull();
    expect(editorsFromPresence("x", "p1", "alice")).toBeNull();
    expect(editorsFromPresence({ pageId: "p1", editors: "bob" }, "p1", "alice")).toEqual([]);
    expect(otherEditors([{ user: "dave" }, { username: "erin" }, 3, null, ""], "alice")).toEqual([
      "dave",
      "erin",
    ]);
    expect(chipText("alice")).toBe("alice is editing");
  });
});

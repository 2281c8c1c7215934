import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  BoardSync,
  elementsOf,
  kDeltaDebounceMs,
  kMaxDeltaElements,
  mergeElements,
  type WbElement,
} from "./sync";

const el = (id: string, version: number, extra: Record<string, unknown> = {}): WbElement => ({
  id,
  version,
  type: "rectangle",
  ...extra,
});

describe("mergeElements", () => {
  it("appends unknown ids and replaces known ones only with a higher version", () => {
    const local = [el("a", 2), el("b", 5), el("c", 1)];
    const { elements, changed } = mergeElements(local, [
      el("b", 4, { x: 9 }),
      el("a", 3, { x: 1 }),
      el("d", 1),
      el("c", 1, { x: 7 }),
    ]);
    expect(changed).toBe(true);
    expect(elements).toEqual([el("a", 3, { x: 1 }), el("b", 5), el("c", 1), el("d", 1)]);
    expect(local).toEqual([el("a", 2), el("b", 5), el("c", 1)]);
  });
  it("reports no change when nothing is newer", () => {
    expect(mergeElements([el("a", 2)], [el("a", 2), el("a", 1)]).changed).toBe(false);
  });
  it("elementsOf drops entries without a string id and an integer version", () => {
    expect(
      elementsOf({
        elements: [el("a", 1), { id: "b" }, { id: 3, version: 1 }, { id: "c", version: 1.5 }, null],
      }),
    ).toEqual([el("a", 1)]);
    expect(elementsOf([])).toEqual([]);
  });
});

describe("BoardSync", () => {
  let sent: WbElement[][];
  let sync: BoardSync;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    sync = new BoardSync({ boardId: "b1", user: "alice", send: (e) => sent.push(e) });
    sync.seed([el("a", 1), el("b", 1)]);
  });
  afterEach(() => vi.useRealTimers());

  it("sends nothing for the loaded scene or changes without a new version", () => {
    expect(sync.localChange([el("a", 1), el("b", 1)])).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([]);
  });

  it("sends one delta 300 ms after the LAST change, with the newest version of each element", () => {
    sync.localChange([el("a", 2), el("b", 1)]);
    vi.advanceTimersByTime(kDeltaDebounceMs - 1);
    sync.localChange([el("a", 3), el("b", 1), el("c", 1)]);
    vi.advanceTimersByTime(kDeltaDebounceMs - 1);
    expect(sent).toEqual([]);
    sync.localChange([el("a", 4), el("b", 1), el("c", 2)]);
    vi.advanceTimersByTime(kDeltaDebounceMs - 1);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([[el("a", 4), el("c", 2)]]);
    // Sent versions are known: the same scene again queues nothing.
    expect(sync.localChange([el("a", 4), el("b", 1), el("c", 2)])).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(1);
  });

  it("splits only a change larger than the service's per-delta limit", () => {
    const many = Array.from({ length: kMaxDeltaElements + 3 }, (_, i) => el(`n${i}`, 1));
    sync.localChange(many);
    vi.advanceTimersByTime(kDeltaDebounceMs);
    expect(sent.map((d) => d.length)).toEqual([kMaxDeltaElements, 3]);
  });

  it("a deletion is a new version and is sent", () => {
    sync.localChange([el("a", 2, { isDeleted: true })]);
    vi.advanceTimersByTime(kDeltaDebounceMs);
    expect(sent).toEqual([[el("a", 2, { isDeleted: true })]]);
  });

  it("merges a remote sync from another user and does not echo it back", () => {
    const scene = [el("a", 1), el("b", 1)];
    const merged = sync.remoteSync(
      { boardId: "b1", sender: "bob", elements: [el("b", 3, { x: 5 }), el("n", 1)] },
      scene,
    );
    expect(merged).toEqual([el("a", 1), el("b", 3, { x: 5 }), el("n", 1)]);
    // Excalidraw reports the updated scene through onChange: nothing new to send.
    expect(sync.localChange(merged!)).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([]);
  });

  it("ignores its own echo, other boards and empty or malformed events", () => {
    const scene = [el("a", 1)];
    expect(sync.remoteSync({ boardId: "b1", sender: "alice", elements: [el("z", 1)] }, scene)).toBe(
      null,
    );
    expect(sync.remoteSync({ boardId: "b2", sender: "bob", elements: [el("z", 1)] }, scene)).toBe(
      null,
    );
    expect(sync.remoteSync({ boardId: "b1", sender: "bob", elements: [] }, scene)).toBeNull();
    expect(sync.remoteSync("garbage", scene)).toBeNull();
    expect(sync.remoteSync({ boardId: "b1", sender: "bob", elements: [el("a", 1)] }, scene)).toBe(
      null,
    );
  });

  it("drops a queued local version that a newer remote version supersedes", () => {
    sync.localChange([el("a", 2), el("b", 2)]);
    sync.remoteSync({ boardId: "b1", sender: "bob", elements: [el("a", 5)] }, [el("a", 2)]);
    vi.advanceTimersByTime(kDeltaDebounceMs);
    expect(sent).toEqual([[el("b", 2)]]);
  });

  it("close sends what is queued at once and then nothing more", () => {
    sync.localChange([el("a", 2)]);
    sync.close();
    expect(sent).toEqual([[el("a", 2)]]);
    expect(sync.localChange([el("a", 3)])).toBe(0);
    expect(sync.remoteSync({ boardId: "b1", sender: "bob", elements: [el("q", 1)] }, [])).toBe(
      null,
    );
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(1);
  });
});

import { describe, expect, it } from "vitest";
import {
  canClose,
  canVote,
  createRequest,
  decodePoll,
  decodeResults,
  optionRows,
  percentages,
  summary,
} from "./model";

const poll = {
  id: "ab12cd34",
  room: "general",
  question: "Lunch?",
  options: ["Pizza", "Sushi", "Salad"],
  createdBy: "alice",
  createdAt: "2026-12-07T09:00:00Z",
  closed: false,
};

describe("percentages", () => {
  it("is all zero without votes", () => {
    expect(percentages([0, 0, 0])).toEqual([0, 0, 0]);
  });
  it("adds up to 100 with thirds (largest remainder, ties to the first)", () => {
    expect(percentages([1, 1, 1])).toEqual([34, 33, 33]);
  });
  it("rounds 2/3 and 1/3", () => {
    expect(percentages([2, 1])).toEqual([67, 33]);
  });
  it("keeps exact values", () => {
    expect(percentages([3, 1, 0])).toEqual([75, 25, 0]);
    expect(percentages([5])).toEqual([100]);
  });
  it("always sums to 100 when there are votes", () => {
    for (const counts of [
      [1, 2, 3, 4, 5, 6, 7],
      [1, 1, 1, 1, 1, 1],
      [99, 1, 1],
      [7, 0, 3],
    ]) {
      expect(percentages(counts).reduce((a, b) => a + b, 0)).toBe(100);
    }
  });
});

describe("results", () => {
  it("decodes counts per option, the own vote and the total", () => {
    const r = decodeResults({
      poll,
      votes: [
        { optionIdx: 0, count: 2 },
        { optionIdx: 2, count: 1 },
      ],
      userVote: 2,
      totalVotes: 3,
    })!;
    expect(r.counts).toEqual([2, 0, 1]);
    expect(r.total).toBe(3);
    expect(r.userVote).toBe(2);
    expect(optionRows(r)).toEqual([
      { index: 0, label: "Pizza", count: 2, percent: 67, mine: false },
      { index: 1, label: "Sushi", count: 0, percent: 0, mine: false },
      { index: 2, label: "Salad", count: 1, percent: 33, mine: true },
    ]);
    expect(summary(r)).toBe("by alice · 3 votes");
  });

  it("ignores out-of-range, negative and fractional option indexes", () => {
    const r = decodeResults({
      poll,
      votes: [
        { optionIdx: 7, count: 5 },
        { optionIdx: -1, count: 5 },
        { optionIdx: 0.5, count: 5 },
        { optionIdx: 1, count: 1 },
      ],
      userVote: 9,
    })!;
    expect(r.counts).toEqual([0, 1, 0]);
    expect(r.total).toBe(1);
    expect(r.userVote).toBeNull();
    expect(summary(r)).toBe("by alice · 1 vote");
  });

  it("refuses error replies and polls with fewer than two options", () => {
    expect(decodeResults({ error: "not found" })).toBeNull();
    expect(decodeResults({ error: { code: "not_found", message: "not found" } })).toBeNull();
    expect(decodeResults({ poll: { ...poll, options: ["only"] }, votes: [] })).toBeNull();
    expect(decodePoll({ ...poll, id: "" })).toBeNull();
    expect(decodePoll("x")).toBeNull();
  });

  it("votes while open (another option changes the vote); only the creator closes", () => {
    const open = decodeResults({ poll, votes: [{ optionIdx: 1, count: 1 }], userVote: 1 })!;
    expect(canVote(open, 0)).toBe(true);
    expect(canVote(open, 1)).toBe(false);
    expect(canClose(open, "alice")).toBe(true);
    expect(canClose(open, "bob")).toBe(false);
    const closed = decodeResults({ poll: { ...poll, closed: true }, votes: [] })!;
    expect(canVote(closed, 0)).toBe(false);
    expect(canClose(closed, "alice")).toBe(false);
  });
});

describe("create form", () => {
  it("needs a question and two non-empty options (trimmed, blanks dropped)", () => {
    expect(createRequest("  Lunch? ", [" Pizza", "", "Sushi "])).toEqual({
      question: "Lunch?",
      options: ["Pizza", "Sushi"],
    });
    expect(createRequest("", ["a", "b"])).toEqual({ problem: "Enter a question." });
    expect(createRequest("Q", ["a", "  "])).toEqual({ problem: "Enter at least two options." });
    expect(createRequest("Q", ["a", "a"])).toEqual({ problem: "Options must differ." });
    expect(
      createRequest(
        "Q",
        Array.from({ length: 11 }, (_, i) => `o${i}`),
      ),
    ).toEqual({
      problem: "At most 10 options.",
    });
  });
});

// Poll view maths (system.md §8.3, §3.3.10): decoding the poll-service replies leniently (the
// element must not break on a missing field), result rows with counts and percentages that add
// up to 100 (largest remainder), who may vote or close, and the create form's rule (a question
// and at least two non-empty options).
import { type AppJson, isJsonObject, num, str } from "../sdk";

export interface Poll {
  id: string;
  question: string;
  options: string[];
  createdBy: string;
  createdAt: string;
  closed: boolean;
}

export interface PollResults {
  poll: Poll;
  /** Votes per option, same length as poll.options. */
  counts: number[];
  userVote: number | null;
  total: number;
}

export interface OptionRow {
  index: number;
  label: string;
  count: number;
  percent: number;
  mine: boolean;
}

export const kMaxOptions = 10;

export function decodePoll(j: AppJson | undefined): Poll | null {
  if (!isJsonObject(j)) return null;
  const id = str(j, "id");
  const options = Array.isArray(j.options)
    ? j.options.filter((o): o is string => typeof o === "string")
    : [];
  if (id === "" || options.length < 2) return null;
  return {
    id,
    question: str(j, "question"),
    options,
    createdBy: str(j, "createdBy"),
    createdAt: str(j, "createdAt"),
    closed: j.closed === true,
  };
}

/** The `results` reply; null when it is an error or not a results object. */
export function decodeResults(j: AppJson): PollResults | null {
  if (!isJsonObject(j) || "error" in j) return null;
  const poll = decodePoll(j.poll);
  if (poll === null) return null;
  const counts = poll.options.map(() => 0);
  if (Array.isArray(j.votes)) {
    for (const v of j.votes) {
      if (!isJsonObject(v)) continue;
      const idx = num(v, "optionIdx", -1);
      const count = num(v, "count", 0);
      if (Number.isInteger(idx) && idx >= 0 && idx < counts.length && count > 0)
        counts[idx]! += Math.floor(count);
    }
  }
  const sum = counts.reduce((a, b) => a + b, 0);
  const uv = j.userVote;
  const userVote =
    typeof uv === "number" && Number.isInteger(uv) && uv >= 0 && uv < counts.length ? uv : null;
  // The bars are drawn from the counts, so the total shown is their sum.
  return { poll, counts, userVote, total: sum };
}

/** Percentages of `counts` rounded so that they add up to exactly 100 (0s when no votes). */
export function percentages(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return counts.map(() => 0);
  const exact = counts.map((c) => (c * 100) / total);
  const out = exact.map(Math.floor);
  let left = 100 - out.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, i) => ({ i, rem: e - Math.floor(e) }))
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    out[i]!++;
    left--;
  }
  return out;
}

export function optionRows(r: PollResults): OptionRow[] {
  const pct = percentages(r.counts);
  return r.poll.options.map((label, index) => ({
    index,
    label,
    count: r.counts[index] ?? 0,
    percent: pct[index] ?? 0,
    mine: r.userVote === index,
  }));
}

/** Votes are taken while the poll is open; picking another option changes the vote. */
export function canVote(r: PollResults, option: number): boolean {
  return !r.poll.closed && r.userVote !== option;
}

export function canClose(r: PollResults, user: string): boolean {
  return !r.poll.closed && r.poll.createdBy === user;
}

export function summary(r: PollResults): string {
  return `by ${r.poll.createdBy || "unknown"} · ${r.total} ${r.total === 1 ? "vote" : "votes"}`;
}

/** The create request's fields, or why the form cannot be sent. */
export function createRequest(
  question: string,
  options: readonly string[],
): { question: string; options: string[] } | { problem: string } {
  const q = question.trim();
  const opts = options.map((o) => o.trim()).filter((o) => o !== "");
  if (q === "") return { problem: "Enter a question." };
  if (opts.length < 2) return { problem: "Enter at least two options." };
  if (opts.length > kMaxOptions) return { problem: `At most ${kMaxOptions} options.` };
  if (new Set(opts).size !== opts.length) return { problem: "Options must differ." };
  return { question: q, options: opts };
}

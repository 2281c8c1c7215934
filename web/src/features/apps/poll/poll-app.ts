// <room-app-poll> (system.md §8.3): an isolated (open) shadow DOM with the room's polls —
// question, CLOSED badge, "by {creator} · N votes", one bar per option with its percentage and
// count, the user's choice highlighted, voting (and changing the vote) while open, "Close poll"
// for the creator — and a create form (question, options starting at two, "+ Add option").
// Live: `updated` with a pollId refreshes that poll, without one reloads everything.
// Every text goes through textContent (never innerHTML): poll text is user input.
import { type AppBridge, type AppJson, defineRoomApp, callApp, listOf } from "../sdk";
import {
  canClose,
  canVote,
  createRequest,
  decodePoll,
  decodeResults,
  kMaxOptions,
  optionRows,
  type PollResults,
  summary,
} from "./model";

const kStyle = `
:host { display: block; color: #e6e8ee; font: 14px system-ui, sans-serif; padding: 12px 14px; overflow: auto; }
h3 { margin: 0 0 8px; font-size: 1rem; }
button, input { font: inherit; color: inherit; background: #252933; border: 1px solid #3a404d; border-radius: 6px; padding: 4px 8px; }
button:hover:not(:disabled) { border-color: #4f8cff; cursor: pointer; }
button:disabled { opacity: .6; }
form { display: flex; flex-direction: column; gap: 6px; max-width: 520px; margin-bottom: 16px; }
.row { display: flex; gap: 6px; }
.row input { flex: 1; }
.primary { background: #4f8cff; border-color: #4f8cff; color: #fff; }
.error { color: #e5484d; min-height: 1.2em; margin: 0; }
.card { border: 1px solid #2c313c; border-radius: 8px; padding: 10px; margin-bottom: 10px; max-width: 640px; background: #1d2027; }
.card header { display: flex; gap: 8px; align-items: baseline; }
.q { font-weight: 600; flex: 1; }
.badge { font-size: .75rem; color: #f5a524; border: 1px solid; border-radius: 6px; padding: 0 4px; }
.meta { color: #9aa1ae; font-size: .8rem; margin: 2px 0 8px; }
.opt { position: relative; display: flex; width: 100%; text-align: left; margin: 4px 0; padding: 6px 8px; overflow: hidden; }
.opt .bar { position: absolute; inset: 0 auto 0 0; background: #4f8cff33; pointer-events: none; }
.opt.mine { border-color: #4f8cff; }
.opt.mine .bar { background: #4f8cff66; }
.opt .label, .opt .nums { position: relative; }
.opt .label { flex: 1; }
.opt .nums { color: #9aa1ae; font-variant-numeric: tabular-nums; }
.empty { color: #9aa1ae; }
`;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

class PollApp extends HTMLElement {
  private bridge: AppBridge | null = null;
  private readonly root: ShadowRoot;
  private readonly list: HTMLElement;
  private readonly errorLine: HTMLElement;
  private readonly optionsBox: HTMLElement;
  private readonly question: HTMLInputElement;
  private order: string[] = [];
  private readonly polls = new Map<string, PollResults>();
  private unsubscribe: (() => void) | null = null;
  private generation = 0;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    this.question = el("input", {
      "data-testid": "poll-question",
      placeholder: "Ask a question…",
      "aria-label": "Question",
      maxlength: "500",
    });
    this.optionsBox = el("div", { class: "options" });
    this.errorLine = el("p", { class: "error", role: "alert", "data-testid": "poll-error" });
    const add = el("button", {
      type: "button",
      "data-testid": "poll-add-option",
      text: "+ Add option",
    });
    add.addEventListener("click", () => this.addOption(""));
    const form = el(
      "form",
      { "data-testid": "poll-create-form", "aria-label": "New poll" },
      el("h3", { text: "New poll" }),
      this.question,
      this.optionsBox,
      el(
        "div",
        { class: "row" },
        add,
        el("button", {
          type: "submit",
          class: "primary",
          "data-testid": "poll-create",
          text: "Create poll",
        }),
      ),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.create();
    });
    this.list = el("div", { "data-testid": "poll-list", "aria-live": "polite" });
    const style = el("style");
    style.textContent = kStyle;
    this.root.append(style, form, this.errorLine, this.list);
    this.addOption("");
    this.addOption("");
  }

  setBridge(bridge: AppBridge): void {
    this.bridge = bridge;
    this.unsubscribe?.();
    this.unsubscribe = bridge.subscribe("updated", (p) => {
      const id =
        typeof p === "object" && p !== null && !Array.isArray(p) && typeof p.pollId === "string"
          ? p.pollId
          : "";
      if (id !== "" && this.polls.has(id)) void this.refresh(id);
      else void this.loadAll();
    });
    void this.loadAll();
  }

  disconnectedCallback(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.generation++;
  }

  private showError(text: string): void {
    this.errorLine.textContent = text;
  }

  private call(action: string, data?: Record<string, AppJson>): Promise<AppJson | null> {
    return callApp(this.bridge, action, data, (text) => this.showError(text));
  }

  private addOption(value: string): void {
    const n = this.optionsBox.children.length;
    if (n >= kMaxOptions) return;
    const input = el("input", {
      "data-testid": `poll-option-${n}`,
      placeholder: `Option ${n + 1}`,
      "aria-label": `Option ${n + 1}`,
      maxlength: "200",
    });
    input.value = value;
    this.optionsBox.append(el("div", { class: "row" }, input));
  }

  private async create(): Promise<void> {
    const options = [...this.optionsBox.querySelectorAll("input")].map((i) => i.value);
    const req = createRequest(this.question.value, options);
    if ("problem" in req) {
      this.showError(req.problem);
      return;
    }
    const reply = await this.call("create", { question: req.question, options: req.options });
    if (reply === null) return;
    this.showError("");
    this.question.value = "";
    this.optionsBox.replaceChildren();
    this.addOption("");
    this.addOption("");
    await this.loadAll();
  }

  private async loadAll(): Promise<void> {
    const gen = ++this.generation;
    const reply = await this.call("list");
    if (reply === null || gen !== this.generation) return;
    const polls = listOf(reply, "polls")
      .map((p) => decodePoll(p))
      .filter((p) => p !== null);
    const results = await Promise.all(polls.map((p) => this.results(p.id)));
    if (gen !== this.generation) return;
    this.order = polls.map((p) => p.id);
    this.polls.clear();
    results.forEach((r, i) => {
      const p = polls[i]!;
      this.polls.set(
        p.id,
        r ?? { poll: p, counts: p.options.map(() => 0), userVote: null, total: 0 },
      );
    });
    this.render();
  }

  private async results(pollId: string): Promise<PollResults | null> {
    const reply = await this.call("results", { pollId });
    return reply === null ? null : decodeResults(reply);
  }

  private async refresh(pollId: string): Promise<void> {
    const gen = this.generation;
    const r = await this.results(pollId);
    if (r === null || gen !== this.generation) return;
    this.polls.set(pollId, r);
    this.render();
  }

  private async vote(pollId: string, optionIdx: number): Promise<void> {
    if ((await this.call("vote", { pollId, optionIdx })) === null) return;
    this.showError("");
    await this.refresh(pollId);
  }

  private async close(pollId: string): Promise<void> {
    if ((await this.call("close", { pollId })) === null) return;
    await this.refresh(pollId);
  }

  private render(): void {
    const me = this.bridge?.user.username ?? "";
    const cards = this.order
      .map((id) => this.polls.get(id))
      .filter((r) => r !== undefined)
      .map((r) => this.card(r, me));
    if (cards.length === 0) cards.push(el("p", { class: "empty", text: "No polls yet." }));
    this.list.replaceChildren(...cards);
  }

  private card(r: PollResults, me: string): HTMLElement {
    const head = el(
      "header",
      {},
      el("span", { class: "q", "data-testid": "poll-question-text", text: r.poll.question }),
    );
    if (r.poll.closed)
      head.append(el("span", { class: "badge", "data-testid": "poll-closed", text: "CLOSED" }));
    if (canClose(r, me)) {
      const b = el("button", { type: "button", "data-testid": "poll-close", text: "Close poll" });
      b.addEventListener("click", () => void this.close(r.poll.id));
      head.append(b);
    }
    const card = el(
      "article",
      {
        class: "card",
        "data-testid": "poll-card",
        "data-poll-id": r.poll.id,
        "data-closed": String(r.poll.closed),
      },
      head,
      el("div", {
        class: "meta",
        "data-testid": "poll-summary",
        "data-total": String(r.total),
        text: summary(r),
      }),
    );
    for (const row of optionRows(r)) {
      const bar = el("span", { class: "bar" });
      bar.style.width = `${row.percent}%`;
      const b = el(
        "button",
        {
          type: "button",
          class: `opt${row.mine ? " mine" : ""}`,
          "data-testid": `poll-option-button-${row.index}`,
          "data-count": String(row.count),
          "data-percent": String(row.percent),
          "aria-pressed": String(row.mine),
        },
        bar,
        el("span", { class: "label", text: row.label }),
        el("span", {
          class: "nums",
          "data-testid": "poll-option-result",
          text: `${row.percent}% · ${row.count}`,
        }),
      );
      if (canVote(r, row.index))
        b.addEventListener("click", () => void this.vote(r.poll.id, row.index));
      else b.disabled = r.poll.closed;
      card.append(b);
    }
    return card;
  }
}

defineRoomApp("poll", PollApp);

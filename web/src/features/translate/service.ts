// Translation on the bus (system.md §3.3.6, §7.8; services/translation/README.md):
// `translate.ping` (plain request, 2 s, never traced: observability.md §4.5) lists the pairs
// the backend really has; a translation is published on `translate.request.{user}` and streams
// back as TranslateChunks on `deliver.{user}.translate.response` (ChatClient.onTranslateChunk).
// Tracing: `translate_message` is an INTERNAL root from the click to the final chunk rendered,
// or 60 s → ERROR `timeout`; its `publish translate.request.{user}` PRODUCER child injects
// traceparent, so translation-service's `process translate.request` and `translate {pair}`
// spans are in the same trace. An error chunk fails the span with error.type = the error code.
import { type Tracer } from "@opentelemetry/api";
import { fromJson, toJson } from "../../contracts/reader";
import {
  type TranslatePair,
  TranslateChunkCodec,
  TranslatePingReplyCodec,
  TranslateRequestCodec,
} from "../../contracts/translate";
import { formatSubject, Subjects } from "../../contracts/subjects";
import type { Msg } from "../../nats/connection";
import { NatsCallError, natsErrorType, type TracedNats } from "../../nats/traced";
import { Action, errorTypeOf } from "../../telemetry/actions";
import { Attr, SpanNames } from "../../telemetry/attributes";
import { getTracer } from "../../telemetry/setup";
import {
  applyChunk,
  menuPairs,
  startTranslation,
  targetLangAttr,
  timedOut,
  type Translation,
  translationErrorText,
} from "./stream";

/** What the translate feature needs from the chat client. */
export interface TranslateHost {
  readonly nats: TracedNats | null;
  readonly user: string;
  onTranslateChunk(handler: (msg: Msg) => void): () => void;
}

export const kTranslateTimeoutMs = 60_000;
export const kPingTimeoutMs = 2_000;
/** While the service is unavailable the ping is retried at most this often (system.md §7.3). */
export const kPingRetryMs = 60_000;

export type Availability =
  | { state: "unknown" }
  | { state: "checking" }
  | { state: "available"; pairs: TranslatePair[] }
  | { state: "unavailable"; reason: string; at: number };

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class TranslateService {
  private translations = new Map<string, Translation>();
  private readonly actions = new Map<string, Action>();
  private availability: Availability = { state: "unknown" };
  private readonly listeners = new Set<() => void>();
  private detach: (() => void) | null;

  constructor(
    private readonly host: TranslateHost,
    private readonly tracer: Tracer = getTracer(),
    private readonly now: () => number = Date.now,
  ) {
    this.detach = host.onTranslateChunk((msg) => this.onChunk(msg));
  }

  close(): void {
    this.detach?.();
    this.detach = null;
    for (const a of this.actions.values()) a.end();
    this.actions.clear();
  }

  // ----------------------------------------------------------- store (useSyncExternalStore)

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  translation(msgKey: string): Translation | undefined {
    return this.translations.get(msgKey);
  }

  getAvailability = (): Availability => this.availability;

  private emit(): void {
    for (const l of this.listeners) l();
  }

  private put(t: Translation): void {
    this.translations = new Map(this.translations).set(t.msgKey, t);
    this.emit();
  }

  private setAvailability(a: Availability): void {
    this.availability = a;
    this.emit();
  }

  // ------------------------------------------------------------------------- ping

  /**
   * Asks `translate.ping` (untraced) unless the answer is known; an unavailable answer is
   * re-asked after kPingRetryMs. Never throws: the result is in getAvailability().
   */
  async checkAvailability(): Promise<Availability> {
    const a = this.availability;
    if (a.state === "available" || a.state === "checking") return a;
    if (a.state === "unavailable" && this.now() - a.at < kPingRetryMs) return a;
    this.setAvailability({ state: "checking" });
    const t = this.host.nats;
    if (t === null) {
      this.setAvailability({ state: "unavailable", reason: "not connected", at: this.now() });
      return this.availability;
    }
    try {
      const reply = await t.transport.request(
        formatSubject(Subjects.translatePing),
        encoder.encode(""),
        { timeout: kPingTimeoutMs },
      );
      const ping = fromJson(TranslatePingReplyCodec, decoder.decode(reply.data));
      const pairs = menuPairs(ping.languages);
      this.setAvailability(
        ping.available && pairs.length > 0
          ? { state: "available", pairs }
          : {
              state: "unavailable",
              reason: "the translation backend is not available",
              at: this.now(),
            },
      );
    } catch (e) {
      const type = natsErrorType(e);
      this.setAvailability({
        state: "unavailable",
        reason:
          type === "no_responders"
            ? "no translation service is running"
            : type === "timeout"
              ? "the translation service did not answer"
              : "the translation service could not be asked",
        at: this.now(),
      });
    }
    return this.availability;
  }

  // ------------------------------------------------------------------ translations

  /**
   * Translates a message: clears any previous result for it, starts `translate_message` and
   * publishes the request. The stream is then filled in by the chunks (onChunk).
   */
  async translate(m: { key: string; text: string }, pair: TranslatePair): Promise<void> {
    const msgKey = m.key;
    this.actions.get(msgKey)?.end();
    const action = new Action(this.tracer, SpanNames.translateMessage, {
      [Attr.translateTargetLang]: targetLangAttr(pair.target),
      [Attr.messageId]: msgKey,
    });
    this.actions.set(msgKey, action);
    this.put(startTranslation(msgKey, pair));
    action.deadline(kTranslateTimeoutMs, "timeout", "no final chunk within 60 s", () => {
      if (this.actions.get(msgKey) === action) this.actions.delete(msgKey);
      const cur = this.translations.get(msgKey);
      if (cur && cur.target === pair.target) this.put(timedOut(cur, kTranslateTimeoutMs / 1000));
    });
    try {
      const t = this.host.nats;
      if (t === null) throw new NatsCallError("connection_closed", "not connected");
      const body = toJson(TranslateRequestCodec, {
        text: m.text,
        targetLang: pair.target,
        sourceLang: pair.source,
        user: this.host.user,
        msgKey,
      });
      await t.publish(action.ctx, Subjects.translateRequest, { user: this.host.user }, body, {
        attributes: { [Attr.messageId]: msgKey },
      });
    } catch (e) {
      if (this.actions.get(msgKey) === action) this.actions.delete(msgKey);
      action.fail(errorTypeOf(e), e);
      const cur = this.translations.get(msgKey);
      if (cur && cur.status === "streaming") {
        this.put({
          ...cur,
          status: "error",
          error: translationErrorText({
            code: errorTypeOf(e),
            message: e instanceof Error ? e.message : "the request could not be sent",
          }),
        });
      }
    }
  }

  /** Forgets a message's translation (the "×" under it). */
  dismiss(msgKey: string): void {
    this.actions.get(msgKey)?.end();
    this.actions.delete(msgKey);
    if (!this.translations.has(msgKey)) return;
    const next = new Map(this.translations);
    next.delete(msgKey);
    this.translations = next;
    this.emit();
  }

  /** One delivered chunk: appended to its translation; the final one ends the action. */
  onChunk(msg: Pick<Msg, "data">): void {
    let chunk;
    try {
      chunk = fromJson(TranslateChunkCodec, decoder.decode(msg.data));
    } catch (e) {
      console.debug(`translation chunk ignored: ${errorTypeOf(e)}`);
      return;
    }
    const cur = this.translations.get(chunk.msgKey);
    if (cur === undefined) return;
    const next = applyChunk(cur, chunk);
    if (next === cur) return;
    this.put(next);
    if (next.status === "streaming") return;
    const action = this.actions.get(chunk.msgKey);
    this.actions.delete(chunk.msgKey);
    if (action === undefined) return;
    if (next.status === "error" && chunk.error !== undefined) {
      action.fail(chunk.error.code || "translation_failed", new Error(chunk.error.message));
    } else {
      // The final chunk is rendered by the React commit the emit above scheduled: end after it.
      setTimeout(() => action.end(), 0);
    }
  }
}

const services = new WeakMap<TranslateHost, TranslateService>();

/** The one TranslateService of a chat client (created on first use). */
export function translateServiceFor(host: TranslateHost): TranslateService {
  let s = services.get(host);
  if (s === undefined) {
    s = new TranslateService(host);
    services.set(host, s);
  }
  return s;
}

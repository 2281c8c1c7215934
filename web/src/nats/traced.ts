// THE traced NATS wrapper: every publish and request of the app goes through TracedNats
// (observability.md §3.1, §3.3, §4.1, §4.2, §4.5). A publish is a PRODUCER span
// `publish {template}`, a request a CLIENT span `request {template}`, both children of the
// action context the caller passes explicitly; the span's own context is injected as W3C
// `traceparent` (+ `tracestate`) into the nats.ws headers. Failures (publish error, timeout,
// no responders, an `{"error":{…}}` reply, an undecodable reply) end the span ERROR with an
// exception event and `error.type`. Inbound deliveries start CONSUMER root spans
// `process {template}` linked (chat.link.reason=recipient) to the context the message carries.
// Span names use templates only; concrete subjects go to messaging.destination.name.
import {
  type Attributes,
  type Context,
  createTraceState,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { ErrorCode, headers as natsHeaders, Match, type Msg, type MsgHdrs } from "nats.ws";
import { type Codec, fromJson } from "../contracts/reader";
import { ErrorReplyCodec, isErrorReply } from "../contracts/replies";
import { formatSubject } from "../contracts/subjects";
import { recordError } from "../telemetry/actions";
import { Attr } from "../telemetry/attributes";

/** The part of a nats.ws NatsConnection the wrapper uses (tests pass a recording fake). */
export interface NatsTransport {
  publish(subject: string, payload?: Uint8Array, options?: { headers?: MsgHdrs }): void;
  request(
    subject: string,
    payload?: Uint8Array,
    options?: { timeout: number; headers?: MsgHdrs },
  ): Promise<Msg>;
  flush(): Promise<void>;
  getServer(): string;
}

/** A failed publish/request; `type` is the span's error.type, `code` the reply's error code. */
export class NatsCallError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "NatsCallError";
  }
}

const propagator = new W3CTraceContextPropagator();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const kDefaultRequestTimeoutMs = 5000;

export interface CallOptions {
  timeoutMs?: number;
  /** Extra span attributes (chat.room, chat.message_id, …). */
  attributes?: Attributes;
}

/** nats.ws error codes that have their own error.type (observability.md §4.2). */
const kErrorTypes = new Map<string, string>([
  [ErrorCode.Timeout, "timeout"],
  [ErrorCode.NoResponders, "no_responders"],
  [ErrorCode.PermissionsViolation, "permission_denied"],
  [ErrorCode.ConnectionClosed, "connection_closed"],
  [ErrorCode.Disconnect, "connection_closed"],
]);

/** Maps a nats.ws error to the span's error.type; "" for any other error. */
export function natsErrorType(e: unknown): string {
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
  return kErrorTypes.get(code) ?? "";
}

/** Builds nats.ws headers carrying `span`'s context (traceparent, tracestate when non-empty). */
export function traceHeaders(ctx: Context): MsgHdrs {
  const h = natsHeaders();
  propagator.inject(ctx, h, {
    set: (carrier: MsgHdrs, key, value) => carrier.set(key, value),
  });
  return h;
}

/** Reads one header as W3C requires: exact lowercase key first, then any case; null if absent. */
function headerValues(h: MsgHdrs | undefined, key: string): string[] {
  if (!h) return [];
  const values = h.values(key);
  return values.length > 0 ? values : h.values(key, Match.IgnoreCase);
}

/** Why an inbound traceparent was refused (the reasons of observability.md §3.2). */
export type InvalidContextReason = "malformed" | "multiple" | "zero_id" | "bad_version";

export interface ParsedTraceparent {
  traceId: string;
  spanId: string;
  /** Only the sampled bit: the other flag bits are ignored and never forwarded (§3.2). */
  traceFlags: number;
}

const kHex = /^[0-9a-f]*$/;
const kV0Length = 55;

/**
 * The validation table of observability.md §3.2, a port of ParseTraceparent in
 * libs/telemetry/src/trace_context.cpp. Stricter than the OTel JS propagator, which accepts a
 * leading/trailing space (so a version-00 value of length 56) and forwards every flag bit.
 */
export function parseTraceparent(tp: string): ParsedTraceparent | InvalidContextReason {
  if (tp.length < 2 || !kHex.test(tp.slice(0, 2))) return "malformed";
  const version = parseInt(tp.slice(0, 2), 16);
  if (version === 0xff) return "bad_version";
  if (tp.length < kV0Length || tp[2] !== "-" || tp[35] !== "-" || tp[52] !== "-")
    return "malformed";
  if (version === 0 && tp.length !== kV0Length) return "malformed";
  // A future version may append fields; they must be introduced by '-'.
  if (version > 0 && tp.length > kV0Length && tp[kV0Length] !== "-") return "malformed";
  const traceId = tp.slice(3, 35);
  const spanId = tp.slice(36, 52);
  const flags = tp.slice(53, 55);
  if (!kHex.test(traceId) || !kHex.test(spanId) || !kHex.test(flags)) return "malformed";
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return "zero_id";
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED };
}

const kTracestateKey =
  /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
const kTracestateValue = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * tracestate as §3.2 keeps it: the whole header is dropped ("") when longer than 512
 * characters, with more than 32 members, or with a malformed or duplicated member (port of
 * ValidateTracestate in trace_context.cpp). Empty list members are allowed and ignored.
 */
export function validateTracestate(ts: string): string {
  if (ts.length > 512) return "";
  const keys = new Set<string>();
  const out: string[] = [];
  for (const raw of ts.split(",")) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, "");
    if (member === "") continue;
    const eq = member.indexOf("=");
    if (eq < 0) return "";
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!kTracestateKey.test(key) || !kTracestateValue.test(value) || keys.has(key)) return "";
    keys.add(key);
    if (keys.size > 32) return "";
    out.push(member);
  }
  return out.join(",");
}

/**
 * The producer context a delivered message carries, or null when absent or invalid (§3.2:
 * invalid context is ignored — no link — and logged at debug level only, reason without value).
 */
export function extractContext(h: MsgHdrs | undefined): Context | null {
  const tps = headerValues(h, "traceparent");
  if (tps.length === 0) return null;
  const parsed = tps.length > 1 ? "multiple" : parseTraceparent(tps[0]!);
  if (typeof parsed === "string") {
    console.debug(`inbound traceparent ignored: ${parsed}`);
    return null;
  }
  const states = headerValues(h, "tracestate");
  const tracestate = states.length === 1 ? validateTracestate(states[0]!) : "";
  const sc: SpanContext = {
    traceId: parsed.traceId,
    spanId: parsed.spanId,
    traceFlags: parsed.traceFlags,
    isRemote: true,
    ...(tracestate !== "" ? { traceState: createTraceState(tracestate) } : {}),
  };
  return trace.setSpanContext(ROOT_CONTEXT, sc);
}

/** An inbound delivery being handled: CONSUMER root span + its context for child requests. */
export class Delivery {
  private ended = false;
  constructor(
    readonly span: Span,
    readonly ctx: Context,
  ) {}

  rendered(): void {
    if (this.ended) return;
    this.span.addEvent("message_rendered");
    this.end();
  }

  fail(errorType: string, err: unknown): void {
    if (this.ended) return;
    recordError(this.span, errorType, err);
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }
}

export class TracedNats {
  constructor(
    private readonly nc: NatsTransport,
    private readonly tracer: Tracer,
    private readonly clientId: string,
  ) {}

  /** The raw connection (exposed for the console / permission tests: window.natsChat). */
  get transport(): NatsTransport {
    return this.nc;
  }

  private baseAttributes(
    template: string,
    subject: string,
    operation: "publish" | "request" | "process",
    bodySize: number,
  ): Attributes {
    const a: Attributes = {
      [Attr.messagingSystem]: "nats",
      [Attr.messagingOperationName]: operation,
      [Attr.messagingOperationType]: operation === "process" ? "process" : "send",
      [Attr.messagingDestinationName]: subject,
      [Attr.messagingDestinationTemplate]: template,
      [Attr.messagingBodySize]: bodySize,
      [Attr.messagingClientId]: this.clientId,
    };
    if (operation !== "process") {
      const server = safeServer(this.nc);
      if (server) {
        a[Attr.serverAddress] = server.host;
        if (server.port > 0) a[Attr.serverPort] = server.port;
      }
    }
    return a;
  }

  /**
   * Publishes `body` to `template` filled with `args`, as a PRODUCER child of `parent`.
   * Resolves once the server has the message (flush); rejects with NatsCallError.
   */
  async publish(
    parent: Context,
    template: string,
    args: Readonly<Record<string, string>>,
    body: string,
    opts: CallOptions = {},
  ): Promise<void> {
    const subject = formatSubject(template, args);
    const payload = encoder.encode(body);
    const span = this.tracer.startSpan(
      `publish ${template}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...this.baseAttributes(template, subject, "publish", payload.length),
          ...opts.attributes,
        },
      },
      parent,
    );
    try {
      const h = traceHeaders(trace.setSpan(parent, span));
      try {
        this.nc.publish(subject, payload, { headers: h });
        await this.nc.flush();
      } catch (e) {
        throw new NatsCallError(natsErrorType(e) || "publish_failed", "publish failed");
      }
    } catch (e) {
      recordError(span, (e as NatsCallError).type ?? "publish_failed", e);
      throw e;
    } finally {
      span.end();
    }
  }

  /**
   * Publishes WITHOUT a span or trace headers: only for presence heartbeats and the unload-time
   * disconnect, which observability.md §4.5 says are never traced (metrics only).
   */
  publishUntraced(template: string, args: Readonly<Record<string, string>>, body: string): void {
    this.nc.publish(formatSubject(template, args), encoder.encode(body));
  }

  /**
   * Requests `template` (filled with `args`) as a CLIENT child of `parent` and decodes the reply
   * with `codec`. An `{"error":{code,message}}` reply rejects with NatsCallError(code).
   */
  async request<T>(
    parent: Context,
    template: string,
    args: Readonly<Record<string, string>>,
    body: string,
    codec: Codec<T>,
    opts: CallOptions = {},
  ): Promise<T> {
    const subject = formatSubject(template, args);
    const payload = encoder.encode(body);
    const span = this.tracer.startSpan(
      `request ${template}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...this.baseAttributes(template, subject, "request", payload.length),
          ...opts.attributes,
        },
      },
      parent,
    );
    try {
      const h = traceHeaders(trace.setSpan(parent, span));
      let reply: Msg;
      try {
        reply = await this.nc.request(subject, payload, {
          timeout: opts.timeoutMs ?? kDefaultRequestTimeoutMs,
          headers: h,
        });
      } catch (e) {
        const type = natsErrorType(e) || "request_failed";
        throw new NatsCallError(
          type,
          type === "timeout"
            ? "the request timed out"
            : type === "no_responders"
              ? "no service is answering"
              : "the request failed",
        );
      }
      const text = decoder.decode(reply.data);
      if (isErrorReply(text)) {
        let code = "internal";
        let message = "error reply";
        try {
          const err = fromJson(ErrorReplyCodec, text);
          code = err.code;
          message = err.message;
        } catch {
          // A malformed error envelope is still an error.
        }
        throw new NatsCallError(code, message, code);
      }
      try {
        return fromJson(codec, text);
      } catch (e) {
        throw new NatsCallError(
          "invalid_payload",
          e instanceof Error ? e.message : "invalid reply",
        );
      }
    } catch (e) {
      recordError(span, e instanceof NatsCallError ? e.type : "request_failed", e);
      throw e;
    } finally {
      span.end();
    }
  }

  /**
   * Starts the CONSUMER root span for a delivered message (`process {template}`), linked to the
   * producer context it carries (§3.4: recipient deliveries are new traces with a link).
   */
  startDelivery(
    template: string,
    msg: Pick<Msg, "subject" | "data" | "headers">,
    attributes: Attributes = {},
  ): Delivery {
    const producer = extractContext(msg.headers);
    const links: Link[] = [];
    if (producer !== null) {
      const sc = trace.getSpanContext(producer);
      if (sc) links.push({ context: sc, attributes: { [Attr.linkReason]: "recipient" } });
    }
    const span = this.tracer.startSpan(
      `process ${template}`,
      {
        kind: SpanKind.CONSUMER,
        root: true,
        links,
        attributes: {
          ...this.baseAttributes(template, msg.subject, "process", msg.data.length),
          ...attributes,
        },
      },
      ROOT_CONTEXT,
    );
    return new Delivery(span, trace.setSpan(ROOT_CONTEXT, span));
  }
}

function safeServer(nc: NatsTransport): { host: string; port: number } | null {
  try {
    const s = nc.getServer();
    if (!s) return null;
    const m = /^(?:[a-z]+:\/\/)?\[?([^\]]+?)\]?(?::(\d+))?(?:\/.*)?$/.exec(s);
    if (!m) return { host: s, port: 0 };
    return { host: m[1]!, port: m[2] ? Number(m[2]) : 0 };
  } catch {
    return null;
  }
}

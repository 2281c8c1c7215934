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
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
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
  request(subject: string, payload?: Uint8Array, options?: { timeout: number; headers?: MsgHdrs }): Promise<Msg>;
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

/** Maps a nats.ws error to the span's error.type (observability.md §4.2). */
export function natsErrorType(e: unknown): string {
  const code = typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : "";
  switch (code) {
    case ErrorCode.Timeout:
      return "timeout";
    case ErrorCode.NoResponders:
      return "no_responders";
    case ErrorCode.PermissionsViolation:
      return "permission_denied";
    case ErrorCode.ConnectionClosed:
    case ErrorCode.Disconnect:
      return "connection_closed";
    default:
      return "";
  }
}

/** Builds nats.ws headers carrying `span`'s context (traceparent, tracestate when non-empty). */
export function traceHeaders(ctx: Context): MsgHdrs {
  const h = natsHeaders();
  propagator.inject(ctx, h, {
    set: (carrier, key, value) => carrier.set(key, value),
  });
  return h;
}

/** Reads one header as W3C requires: exact lowercase key first, then any case; null if 0 or >1 values. */
function headerValue(h: MsgHdrs | undefined, key: string): string | null {
  if (!h) return null;
  let values = h.values(key);
  if (values.length === 0) values = h.values(key, Match.IgnoreCase);
  return values.length === 1 ? values[0]! : null;
}

/** The producer context a delivered message carries, or null when absent/invalid (§3.2). */
export function extractContext(h: MsgHdrs | undefined): Context | null {
  const traceparent = headerValue(h, "traceparent");
  if (traceparent === null) return null;
  const tracestate = headerValue(h, "tracestate");
  const carrier: Record<string, string> = { traceparent };
  if (tracestate !== null && tracestate.length <= 512) carrier.tracestate = tracestate;
  const ctx = propagator.extract(ROOT_CONTEXT, carrier, {
    get: (c, k) => c[k],
    keys: (c) => Object.keys(c),
  });
  const sc = trace.getSpanContext(ctx);
  return sc && trace.isSpanContextValid(sc) ? ctx : null;
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
        attributes: { ...this.baseAttributes(template, subject, "publish", payload.length), ...opts.attributes },
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
        attributes: { ...this.baseAttributes(template, subject, "request", payload.length), ...opts.attributes },
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
        throw new NatsCallError(type, type === "timeout" ? "the request timed out" : type === "no_responders" ? "no service is answering" : "the request failed");
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
        throw new NatsCallError("invalid_payload", e instanceof Error ? e.message : "invalid reply");
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
  startDelivery(template: string, msg: Pick<Msg, "subject" | "data" | "headers">, attributes: Attributes = {}): Delivery {
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
        attributes: { ...this.baseAttributes(template, msg.subject, "process", msg.data.length), ...attributes },
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

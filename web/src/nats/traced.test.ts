// The traced wrapper under test is real; only the transport is a fake that records what would
// go on the wire (subject, payload, headers) and answers requests from a script.
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { ErrorCode, headers as natsHeaders, type Msg, type MsgHdrs, NatsError } from "nats.ws";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HistoryPageCodec } from "../contracts/messages";
import { Subjects } from "../contracts/subjects";
import { Action } from "../telemetry/actions";
import {
  extractContext,
  NatsCallError,
  type NatsTransport,
  parseTraceparent,
  TracedNats,
  traceHeaders,
  validateTracestate,
} from "./traced";

const kTraceparent = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/;
const enc = new TextEncoder();

interface Sent {
  subject: string;
  body: string;
  headers: MsgHdrs | undefined;
  kind: "publish" | "request";
}

class FakeTransport implements NatsTransport {
  sent: Sent[] = [];
  reply: (subject: string) => Promise<string> = async () => '{"messages":[],"hasMore":false}';
  failPublish = false;
  publish(subject: string, payload?: Uint8Array, options?: { headers?: MsgHdrs }): void {
    if (this.failPublish) throw new NatsError("closed", ErrorCode.ConnectionClosed);
    this.sent.push({
      subject,
      body: new TextDecoder().decode(payload),
      headers: options?.headers,
      kind: "publish",
    });
  }
  async request(
    subject: string,
    payload?: Uint8Array,
    options?: { timeout: number; headers?: MsgHdrs },
  ): Promise<Msg> {
    this.sent.push({
      subject,
      body: new TextDecoder().decode(payload),
      headers: options?.headers,
      kind: "request",
    });
    const data = enc.encode(await this.reply(subject));
    return { subject: "_INBOX.alice.x.1", sid: 1, data, headers: undefined } as unknown as Msg;
  }
  async flush(): Promise<void> {}
  getServer(): string {
    return "127.0.0.1:4223";
  }
}

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let nc: FakeTransport;
let traced: TracedNats;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  nc = new FakeTransport();
  traced = new TracedNats(nc, provider.getTracer("test"), "web-frontend:alice");
});
afterEach(async () => {
  await provider.shutdown();
});

function spansNamed(name: string) {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}

describe("TracedNats.publish", () => {
  it("injects a traceparent of its PRODUCER span, itself a child of the action span", async () => {
    const action = new Action(provider.getTracer("test"), "send_message", {
      "chat.room": "general",
    });
    await traced.publish(
      action.ctx,
      Subjects.deliverSend,
      { user: "alice", room: "general" },
      '{"x":1}',
    );
    action.end();

    expect(nc.sent).toHaveLength(1);
    const sent = nc.sent[0]!;
    expect(sent.subject).toBe("deliver.alice.send.general");
    const tp = sent.headers!.get("traceparent");
    expect(tp).toMatch(kTraceparent);
    const [, traceId, parentId, flags] = tp.split("-");

    const [producer] = spansNamed("publish deliver.{user}.send.{room}");
    const [root] = spansNamed("send_message");
    expect(producer).toBeDefined();
    expect(root).toBeDefined();
    expect(traceId).toBe(root!.spanContext().traceId);
    expect(parentId).toBe(producer!.spanContext().spanId);
    expect(flags).toBe("01");
    expect(producer!.kind).toBe(SpanKind.PRODUCER);
    expect(producer!.parentSpanContext?.spanId).toBe(root!.spanContext().spanId);
    expect(root!.parentSpanContext).toBeUndefined();
    expect(root!.kind).toBe(SpanKind.INTERNAL);
    // Set M; the name carries the template, the attribute the concrete subject.
    expect(producer!.attributes).toMatchObject({
      "messaging.system": "nats",
      "messaging.operation.type": "send",
      "messaging.operation.name": "publish",
      "messaging.destination.name": "deliver.alice.send.general",
      "messaging.destination.template": "deliver.{user}.send.{room}",
      "messaging.message.body.size": 7,
      "messaging.client.id": "web-frontend:alice",
      "server.address": "127.0.0.1",
      "server.port": 4223,
    });
    expect(producer!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("marks the PRODUCER span ERROR with an exception when the publish fails", async () => {
    nc.failPublish = true;
    const action = new Action(provider.getTracer("test"), "join_room");
    await expect(
      traced.publish(action.ctx, Subjects.roomJoin, { room: "general", user: "alice" }, "{}"),
    ).rejects.toBeInstanceOf(NatsCallError);
    action.end();
    const [producer] = spansNamed("publish room.join.{room}.{user}");
    expect(producer!.status.code).toBe(SpanStatusCode.ERROR);
    expect(producer!.attributes["error.type"]).toBe("connection_closed");
    expect(producer!.events.map((e) => e.name)).toContain("exception");
  });

  it("refuses an invalid subject token before anything is sent", async () => {
    const action = new Action(provider.getTracer("test"), "send_message");
    await expect(
      traced.publish(action.ctx, Subjects.deliverSend, { user: "alice", room: "a.b" }, "{}"),
    ).rejects.toThrow(/subject argument invalid: room/);
    expect(nc.sent).toHaveLength(0);
  });
});

describe("TracedNats.request", () => {
  it("injects the CLIENT span's context and decodes the reply", async () => {
    const action = new Action(provider.getTracer("test"), "load_history", {
      "chat.room": "general",
    });
    const page = await traced.request(
      action.ctx,
      Subjects.history,
      { room: "general" },
      "",
      HistoryPageCodec,
    );
    action.end();
    expect(page).toEqual({ messages: [], hasMore: false });
    const tp = nc.sent[0]!.headers!.get("traceparent");
    expect(tp).toMatch(kTraceparent);
    const [client] = spansNamed("request chat.history.{room}");
    const [root] = spansNamed("load_history");
    expect(client!.kind).toBe(SpanKind.CLIENT);
    expect(tp.split("-")[1]).toBe(root!.spanContext().traceId);
    expect(tp.split("-")[2]).toBe(client!.spanContext().spanId);
    expect(client!.parentSpanContext?.spanId).toBe(root!.spanContext().spanId);
    expect(client!.attributes["messaging.operation.name"]).toBe("request");
    expect(client!.attributes["messaging.destination.name"]).toBe("chat.history.general");
  });

  it("turns an error reply into an ERROR span with an exception and rejects with its code", async () => {
    nc.reply = async () => '{"error":{"code":"permission_denied","message":"not a member"}}';
    const action = new Action(provider.getTracer("test"), "load_history");
    const err = await traced
      .request(action.ctx, Subjects.history, { room: "secret" }, "", HistoryPageCodec)
      .catch((e: unknown) => e);
    action.end();
    expect(err).toBeInstanceOf(NatsCallError);
    expect((err as NatsCallError).code).toBe("permission_denied");
    expect((err as NatsCallError).message).toBe("not a member");
    const [client] = spansNamed("request chat.history.{room}");
    expect(client!.status.code).toBe(SpanStatusCode.ERROR);
    expect(client!.attributes["error.type"]).toBe("permission_denied");
    const exception = client!.events.find((e) => e.name === "exception");
    expect(exception?.attributes?.["exception.message"]).toBe("not a member");
  });

  it("maps timeouts and no-responders to error.type", async () => {
    for (const [code, type] of [
      [ErrorCode.Timeout, "timeout"],
      [ErrorCode.NoResponders, "no_responders"],
    ] as const) {
      exporter.reset();
      nc.reply = async () => {
        throw new NatsError("x", code);
      };
      const action = new Action(provider.getTracer("test"), "load_history");
      await expect(
        traced.request(action.ctx, Subjects.history, { room: "general" }, "", HistoryPageCodec),
      ).rejects.toMatchObject({
        type,
      });
      const [client] = spansNamed("request chat.history.{room}");
      expect(client!.status.code).toBe(SpanStatusCode.ERROR);
      expect(client!.attributes["error.type"]).toBe(type);
    }
  });

  it("rejects an undecodable reply as invalid_payload", async () => {
    nc.reply = async () => '{"messages":{}}';
    const action = new Action(provider.getTracer("test"), "load_history");
    await expect(
      traced.request(action.ctx, Subjects.history, { room: "general" }, "", HistoryPageCodec),
    ).rejects.toMatchObject({
      type: "invalid_payload",
    });
    expect(spansNamed("request chat.history.{room}")[0]!.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe("deliveries", () => {
  it("start a CONSUMER root linked to the producer context the message carries", async () => {
    const producerAction = new Action(provider.getTracer("test"), "fanout");
    const h = traceHeaders(producerAction.ctx);
    const producerCtx = producerAction.span.spanContext();
    producerAction.end();
    const d = traced.startDelivery(Subjects.roomNotify, {
      subject: "room.notify.general",
      data: enc.encode("{}"),
      headers: h,
    });
    // A child request made with the delivery's context belongs to the delivery's trace.
    nc.reply = async () => '{"messages":[],"hasMore":false}';
    await traced.request(d.ctx, Subjects.msgGet, {}, "{}", HistoryPageCodec);
    d.rendered();
    const [consumer] = spansNamed("process room.notify.{room}");
    expect(consumer!.kind).toBe(SpanKind.CONSUMER);
    expect(consumer!.parentSpanContext).toBeUndefined();
    expect(consumer!.spanContext().traceId).not.toBe(producerCtx.traceId);
    expect(consumer!.links).toHaveLength(1);
    expect(consumer!.links[0]!.context.traceId).toBe(producerCtx.traceId);
    expect(consumer!.links[0]!.context.spanId).toBe(producerCtx.spanId);
    expect(consumer!.links[0]!.attributes?.["chat.link.reason"]).toBe("recipient");
    expect(consumer!.events.map((e) => e.name)).toEqual(["message_rendered"]);
    const [get] = spansNamed("request msg.get");
    expect(get!.parentSpanContext?.spanId).toBe(consumer!.spanContext().spanId);
  });

  it("ignore invalid or duplicated traceparent headers (no link)", () => {
    const bad = natsHeaders();
    bad.set("traceparent", "00-00000000000000000000000000000000-0000000000000000-01");
    expect(extractContext(bad)).toBeNull();
    const twice = natsHeaders();
    twice.append("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    twice.append("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(extractContext(twice)).toBeNull();
    const upper = natsHeaders();
    upper.set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    const ctx = extractContext(upper);
    expect(trace.getSpanContext(ctx!)?.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    const d = traced.startDelivery(Subjects.roomNotify, {
      subject: "room.notify.general",
      data: enc.encode(""),
      headers: bad,
    });
    d.end();
    expect(spansNamed("process room.notify.{room}")[0]!.links).toHaveLength(0);
  });

  it("apply every rule of observability.md §3.2 to traceparent, stricter than the OTel propagator", () => {
    const id = "0af7651916cd43dd8448eb211c80319c";
    const parent = "b7ad6b7169203331";
    const ok = parseTraceparent(`00-${id}-${parent}-01`);
    expect(ok).toEqual({ traceId: id, spanId: parent, traceFlags: 1 });
    // The OTel regex allows one space on either side; §3.2: version 00 is exactly 55 chars.
    expect(parseTraceparent(` 00-${id}-${parent}-01`)).toBe("malformed");
    expect(parseTraceparent(`00-${id}-${parent}-01 `)).toBe("malformed");
    expect(parseTraceparent(`00-${id}-${parent}-01-extra`)).toBe("malformed");
    expect(parseTraceparent(`00-${id.toUpperCase()}-${parent}-01`)).toBe("malformed");
    expect(parseTraceparent(`00-${id}-${parent}-0G`)).toBe("malformed");
    expect(parseTraceparent(`00-${id.slice(1)}-${parent}-01`)).toBe("malformed");
    expect(parseTraceparent("")).toBe("malformed");
    expect(parseTraceparent(`ff-${id}-${parent}-01`)).toBe("bad_version");
    expect(parseTraceparent(`00-${"0".repeat(32)}-${parent}-01`)).toBe("zero_id");
    expect(parseTraceparent(`00-${id}-${"0".repeat(16)}-01`)).toBe("zero_id");
    // A higher version is parsed by its first four fields; extra parts must start with '-'.
    expect(parseTraceparent(`01-${id}-${parent}-01-what-ever`)).toEqual({
      traceId: id,
      spanId: parent,
      traceFlags: 1,
    });
    expect(parseTraceparent(`01-${id}-${parent}-01what`)).toBe("malformed");
    // Flag bits other than "sampled" are ignored and not forwarded.
    expect(parseTraceparent(`00-${id}-${parent}-ff`)).toEqual({
      traceId: id,
      spanId: parent,
      traceFlags: 1,
    });
    expect(parseTraceparent(`00-${id}-${parent}-fe`)).toEqual({
      traceId: id,
      spanId: parent,
      traceFlags: 0,
    });
  });

  it("drop an invalid traceparent (new root, no link) and mask unknown flags on the link", () => {
    const id = "0af7651916cd43dd8448eb211c80319c";
    const padded = natsHeaders();
    // (nats.ws trims header values itself, so spaces never reach the parser from the wire.)
    padded.set("traceparent", `00-${id}-b7ad6b7169203331-01-x`);
    expect(extractContext(padded)).toBeNull();
    const d = traced.startDelivery(Subjects.roomNotify, {
      subject: "room.notify.general",
      data: enc.encode("{}"),
      headers: padded,
    });
    d.end();
    const [root] = spansNamed("process room.notify.{room}");
    expect(root!.links).toHaveLength(0);
    expect(root!.parentSpanContext).toBeUndefined();

    const flagged = natsHeaders();
    flagged.set("traceparent", `00-${id}-b7ad6b7169203331-03`);
    const sc = trace.getSpanContext(extractContext(flagged)!);
    expect(sc?.traceFlags).toBe(1);
    expect(sc?.isRemote).toBe(true);
  });

  it("keep tracestate only when the whole header is valid (§3.2)", () => {
    expect(validateTracestate("congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")).toBe(
      "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
    );
    expect(validateTracestate("tenant@vendor=x,,a=b")).toBe("tenant@vendor=x,a=b");
    expect(validateTracestate("a=1,a=2")).toBe("");
    expect(validateTracestate("Upper=1")).toBe("");
    expect(validateTracestate("a=1,novalue")).toBe("");
    expect(validateTracestate("a=x=y")).toBe("");
    expect(validateTracestate(`a=${"x".repeat(520)}`)).toBe("");
    const members = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",");
    expect(validateTracestate(members)).toBe("");
    expect(validateTracestate(Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(","))).not.toBe(
      "",
    );

    const h = natsHeaders();
    h.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    h.set("tracestate", "a=1,a=2");
    const sc = trace.getSpanContext(extractContext(h)!);
    expect(sc?.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(sc?.traceState).toBeUndefined();
    h.set("tracestate", "a=1,b=2");
    expect(trace.getSpanContext(extractContext(h)!)?.traceState?.serialize()).toBe("a=1,b=2");
  });
});

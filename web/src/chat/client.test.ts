// ChatClient flows over the real TracedNats wrapper and a scripted fake transport, with spans
// recorded in memory: the join_room/load_history span shapes (§4.4 retry/fallback events, §4.5
// "presence and history loaded") and what a bad inbound message does (rejected, recorded, never
// thrown). The store's afterRender callbacks are flushed the way the App's effect does.
import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { ErrorCode, headers as natsHeaders, type Msg, type MsgHdrs, NatsError } from "nats.ws";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type NatsTransport, TracedNats } from "../nats/traced";
import { ChatClient } from "./client";
import { chatMessage } from "../contracts/messages";
import { fromChat, newRoom } from "./model";

const enc = new TextEncoder();

type Answer = string | NatsError | (() => Promise<string>);

class ScriptedTransport implements NatsTransport {
  published: string[] = [];
  bodies: string[] = [];
  requests: string[] = [];
  /** Answers by subject prefix; a queue per prefix is consumed first-to-last (last one sticks). */
  answers = new Map<string, Answer[]>();

  answer(prefix: string, ...a: Answer[]): void {
    this.answers.set(prefix, a);
  }

  publish(subject: string, payload?: Uint8Array): void {
    this.published.push(subject);
    this.bodies.push(new TextDecoder().decode(payload));
  }

  async request(subject: string): Promise<Msg> {
    this.requests.push(subject);
    for (const [prefix, queue] of this.answers) {
      if (!subject.startsWith(prefix)) continue;
      const a = queue.length > 1 ? queue.shift()! : queue[0]!;
      if (a instanceof NatsError) throw a;
      const text = typeof a === "function" ? await a() : a;
      return {
        subject: "_INBOX.alice.1",
        sid: 1,
        data: enc.encode(text),
        headers: undefined,
      } as unknown as Msg;
    }
    throw new NatsError("no responders", ErrorCode.NoResponders);
  }

  async flush(): Promise<void> {}

  getServer(): string {
    return "127.0.0.1:4223";
  }
}

/** The private parts of ChatClient a test wires (TS `private` is compile-time only). */
interface ClientInternals {
  tracer: Tracer;
  traced: TracedNats;
  onNotification(template: string, msg: Msg): Promise<void>;
  onAdminMessage(msg: Msg): Promise<void>;
  onDeliver(msg: Msg): Promise<void> | void;
  echoes: Map<string, unknown[]>;
}

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let nc: ScriptedTransport;
let client: ChatClient;
let internals: ClientInternals;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  nc = new ScriptedTransport();
  client = new ChatClient();
  internals = client as unknown as ClientInternals;
  internals.tracer = provider.getTracer("test");
  internals.traced = new TracedNats(nc, internals.tracer, "web-frontend:alice");
  // What the App's effect does after each commit.
  client.store.subscribe(() => queueMicrotask(() => client.store.flushRendered()));
  client.store.update(() => ({
    phase: "ready",
    connection: "connected",
    user: "alice",
    tier: "user",
    rooms: { general: newRoom("general", "public") },
    roomOrder: ["general"],
  }));
  nc.answer("read.state.", '[{"userId":"alice","lastRead":1740650000123}]');
  nc.answer("chat.history.", '{"messages":[],"hasMore":false}');
  nc.answer("presence.room.", '[{"userId":"alice","status":"online"}]');
});

afterEach(async () => {
  vi.restoreAllMocks();
  await provider.shutdown();
});

function spans(name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}

function one(name: string): ReadableSpan {
  const found = spans(name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

function delivered(subject: string, body: string, headers?: MsgHdrs): Msg {
  const data = enc.encode(body);
  return {
    subject,
    sid: 1,
    data,
    headers,
    string: () => new TextDecoder().decode(data),
  } as unknown as Msg;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
}

describe("join_room (observability.md §4.5, §5.4)", () => {
  it("ends only after presence is loaded, with presence and load_history as children", async () => {
    let releasePresence: () => void = () => {};
    nc.answer(
      "presence.room.",
      () =>
        new Promise<string>((resolve) => {
          releasePresence = () => resolve('[{"userId":"bob","status":"away"}]');
        }),
    );
    const joined = client.joinRoom("general", { open: true });
    await settle();
    // History is rendered, presence is still outstanding: join_room must not have ended.
    expect(spans("load_history")).toHaveLength(1);
    expect(spans("join_room")).toHaveLength(0);
    releasePresence();
    await joined;
    const join = one("join_room");
    const presence = one("request presence.room.{room}");
    expect(presence.parentSpanContext?.spanId).toBe(join.spanContext().spanId);
    expect(one("load_history").parentSpanContext?.spanId).toBe(join.spanContext().spanId);
    expect(client.store.getState().rooms.general!.presence).toEqual({ bob: "away" });
    expect(join.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("records a retried permission_denied as a `retry` event and an absorbed presence failure as `fallback` (§4.4)", async () => {
    const errorReply = '{"error":{"code":"permission_denied","message":"not a member"}}';
    nc.answer("chat.history.", errorReply, '{"messages":[],"hasMore":false}');
    nc.answer("presence.room.", new NatsError("t", ErrorCode.Timeout));
    await client.joinRoom("general", { open: true });
    const join = one("join_room");
    const history = one("load_history");
    expect(history.status.code).toBe(SpanStatusCode.UNSET);
    const retry = history.events.find((e) => e.name === "retry");
    expect(retry?.attributes?.["error.type"]).toBe("permission_denied");
    expect(history.events.map((e) => e.name)).toContain("history_rendered");
    // Two history requests: the refused one is ERROR, the retry is not.
    const requests = spans("request chat.history.{room}");
    expect(requests.map((s) => s.status.code).sort()).toEqual(
      [SpanStatusCode.UNSET, SpanStatusCode.ERROR].sort(),
    );
    // Presence failed and was absorbed: its own span is ERROR, join_room stays UNSET + fallback.
    expect(one("request presence.room.{room}").status.code).toBe(SpanStatusCode.ERROR);
    expect(join.status.code).toBe(SpanStatusCode.UNSET);
    const fallback = join.events.find((e) => e.name === "fallback");
    expect(fallback?.attributes?.["error.type"]).toBe("timeout");
  });
});

describe("inbound messages (robustness)", () => {
  it("an undecodable notification is an ERROR CONSUMER root (invalid_payload), never thrown", async () => {
    const h = natsHeaders();
    h.set("traceparent", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01");
    await expect(
      internals.onNotification(
        "room.notify.{room}",
        delivered("room.notify.general", "{not json", h),
      ),
    ).resolves.toBeUndefined();
    const root = one("process room.notify.{room}");
    expect(root.status.code).toBe(SpanStatusCode.ERROR);
    expect(root.attributes["error.type"]).toBe("invalid_payload");
    expect(root.events.map((e) => e.name)).toContain("exception");
    // The uppercase (invalid) traceparent gave no link and no parent: a new root.
    expect(root.links).toHaveLength(0);
    expect(root.parentSpanContext).toBeUndefined();
  });

  it("an oversized notification is rejected the same way", async () => {
    const big = JSON.stringify({
      notifyId: "x",
      room: "general",
      action: "message",
      user: "bob",
      timestamp: 1,
      emoji: "a".repeat(70_000),
    });
    await internals.onNotification("room.notify.{room}", delivered("room.notify.general", big));
    const root = one("process room.notify.{room}");
    expect(root.attributes["error.type"]).toBe("invalid_payload");
  });

  it("a failed msg.get leaves the root UNSET with a `fallback` event carrying error.type (registered keys only)", async () => {
    nc.answer("msg.get", new NatsError("t", ErrorCode.Timeout));
    const n =
      '{"notifyId":"general.7.a1b2","room":"general","action":"message","user":"bob","timestamp":1740650000123}';
    await internals.onNotification("room.notify.{room}", delivered("room.notify.general", n));
    const root = one("process room.notify.{room}");
    expect(root.status.code).toBe(SpanStatusCode.UNSET);
    const fallback = root.events.find((e) => e.name === "fallback");
    expect(fallback?.attributes).toEqual({ "error.type": "timeout" });
    expect(root.events.map((e) => e.name)).not.toContain("message_rendered");
    expect(one("request msg.get").status.code).toBe(SpanStatusCode.ERROR);
  });

  it("a notification for a room we cannot see ends without message_rendered (fallback event)", async () => {
    nc.answer("room.info.", '{"error":{"code":"not_found","message":"no such room"}}');
    const n =
      '{"notifyId":"secret.7.a1b2","room":"secret","action":"message","user":"bob","timestamp":1740650000123}';
    await internals.onNotification(
      "deliver.{user}.notify.{room}",
      delivered("deliver.alice.notify.secret", n),
    );
    const root = one("process deliver.{user}.notify.{room}");
    expect(root.events.map((e) => e.name)).toEqual(["fallback"]);
    expect(client.store.getState().rooms.secret).toBeUndefined();
    expect(nc.requests.some((s) => s.startsWith("msg.get"))).toBe(false);
  });

  it("a bad presence diff is dropped with a debug line only; a bad admin message is an ERROR root", async () => {
    const debug = vi.spyOn(console, "debug").mockImplementation(() => {});
    expect(() =>
      internals.onDeliver(delivered("deliver.alice.presence.general", "[]")),
    ).not.toThrow();
    expect(debug).toHaveBeenCalledWith("presence diff rejected: invalid payload");
    expect(client.store.getState().rooms.general!.presence).toEqual({});
    await internals.onAdminMessage(delivered("deliver.alice.admin.chat", '{"user":"bob"}'));
    expect(one("process deliver.{user}.admin.{room}").attributes["error.type"]).toBe(
      "invalid_payload",
    );
  });

  it("a message rendered from a notification ends its root with message_rendered", async () => {
    nc.answer("msg.get", '{"user":"bob","text":"hi","timestamp":1740650000123,"room":"general"}');
    const n =
      '{"notifyId":"general.7.a1b2","room":"general","action":"message","user":"bob","timestamp":1740650000123}';
    await internals.onNotification("room.notify.{room}", delivered("room.notify.general", n));
    await settle();
    const root = one("process room.notify.{room}");
    expect(root.events.map((e) => e.name)).toEqual(["message_rendered"]);
    expect(client.store.getState().rooms.general!.messages.map((m) => m.text)).toEqual(["hi"]);
  });
});

describe("memory", () => {
  it("replies to threads this page never opened only bump the parent's reply count", async () => {
    const parent = fromChat(
      chatMessage({ user: "bob", text: "q", timestamp: 1740650000000, room: "general" }),
    );
    client.store.updateRoom("general", () => ({ messages: [parent], historyLoaded: true }));
    for (let i = 1; i <= 3; i++) {
      client.apply(
        chatMessage({
          user: "carol",
          text: `r${i}`,
          timestamp: 1740650000000 + i,
          room: "general",
          threadId: "general-1740650000000",
          parentTimestamp: 1740650000000,
        }),
      );
    }
    expect(client.store.getState().threads).toEqual({});
    expect(
      client.store.getState().rooms.general!.messages.map((m) => [m.text, m.replyCount]),
    ).toEqual([["q", 3]]);
  });
});

describe("echo settling (§4.5 send/edit/delete/react end at their echo)", () => {
  it("a reaction toggled on and off quickly ends both actions at their own echoes, no false timeout", async () => {
    const bobs = fromChat(
      chatMessage({ user: "bob", text: "hello", timestamp: 1740650000123, room: "general" }),
    );
    client.store.updateRoom("general", () => ({ messages: [bobs], historyLoaded: true }));
    await client.react(bobs, "👍");
    await client.react(bobs, "👍");
    expect(nc.published.filter((s) => s === "deliver.alice.send.general")).toHaveLength(2);
    const echo =
      '{"notifyId":"general.9.ab","room":"general","action":"react","user":"alice","timestamp":1740650000123,"emoji":"👍","targetUser":"bob"}';
    await internals.onNotification("room.notify.{room}", delivered("room.notify.general", echo));
    await settle();
    expect(spans("react_message")).toHaveLength(1);
    await internals.onNotification("room.notify.{room}", delivered("room.notify.general", echo));
    await settle();
    const reacts = spans("react_message");
    expect(reacts).toHaveLength(2);
    for (const r of reacts) {
      expect(r.status.code).toBe(SpanStatusCode.UNSET);
      expect(r.events.map((e) => e.name)).toEqual(["echo_rendered"]);
      expect(r.attributes["chat.action"]).toBe("react");
      expect(r.attributes["chat.message_id"]).toBe("1740650000123-bob");
    }
    // Nothing is left waiting (no timers, no entries): the map does not grow with use.
    expect(internals.echoes.size).toBe(0);
    expect(client.store.getState().rooms.general!.messages[0]!.reactions).toEqual([]);
    expect(client.store.getState().errors).toEqual([]);
  });
});

describe("feature hooks (stickers, translation)", () => {
  it("send with a stickerUrl publishes a sticker message (no text) under send_message kind=sticker", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      await client.send("general", "", undefined, "/stickers/party/cake.svg");
      expect(nc.published).toEqual(["deliver.alice.send.general"]);
      const body = JSON.parse(nc.bodies[0]!) as Record<string, unknown>;
      expect(body.stickerUrl).toBe("/stickers/party/cake.svg");
      expect(body.text).toBeUndefined();
      const pending = client.store.getState().rooms.general!.messages[0]!;
      expect(pending).toMatchObject({ stickerUrl: "/stickers/party/cake.svg", state: "pending" });
      vi.advanceTimersByTime(10_001);
      expect(one("send_message").attributes["chat.message.kind"]).toBe("sticker");
    } finally {
      vi.useRealTimers();
    }
  });

  it("send with neither text nor sticker publishes nothing", async () => {
    await client.send("general", "   ");
    expect(nc.published).toEqual([]);
  });

  it("deliver.{user}.translate.response goes to the onTranslateChunk handlers until removed", async () => {
    const seen: string[] = [];
    const off = client.onTranslateChunk((m) => seen.push(m.subject));
    const msg = delivered(
      "deliver.alice.translate.response",
      '{"translatedText":"Hola","targetLang":"es","msgKey":"1-bob","done":true}',
    );
    await internals.onDeliver(msg);
    off();
    await internals.onDeliver(msg);
    expect(seen).toEqual(["deliver.alice.translate.response"]);
  });
});

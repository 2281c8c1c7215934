// The host side on the wire: app_request / install_app spans with bounded chat.app.* values,
// traceparent of the request span in the NATS headers (the trace continues into the service),
// the acting user as the subject's last token, error replies handed back, events dispatched.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { headers as natsHeaders, type Msg, type MsgHdrs } from "nats.ws";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type NatsTransport, TracedNats } from "../../nats/traced";
import { createBridge } from "./bridge";
import { AppsService, type AppsHost } from "./service";
import type { AppJson } from "./sdk";

const enc = new TextEncoder();

interface Sent {
  subject: string;
  body: string;
  headers: MsgHdrs | undefined;
}

class FakeNats implements NatsTransport {
  sent: Sent[] = [];
  reply: (subject: string) => string = () => '{"ok":true}';
  publish(): void {}
  async request(
    subject: string,
    payload?: Uint8Array,
    options?: { timeout: number; headers?: MsgHdrs },
  ): Promise<Msg> {
    this.sent.push({ subject, body: new TextDecoder().decode(payload), headers: options?.headers });
    return { subject: "_INBOX.alice.1", data: enc.encode(this.reply(subject)) } as unknown as Msg;
  }
  async flush(): Promise<void> {}
  getServer(): string {
    return "127.0.0.1:4223";
  }
}

class FakeHost implements AppsHost {
  handlers = new Set<(m: Msg) => void>();
  constructor(readonly nats: TracedNats) {}
  readonly user = "alice";
  onAppEvent(h: (m: Msg) => void): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
  deliver(subject: string, body: string, h?: MsgHdrs): void {
    const msg = { subject, data: enc.encode(body), headers: h } as unknown as Msg;
    for (const fn of this.handlers) fn(msg);
  }
}

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let nc: FakeNats;
let host: FakeHost;
let service: AppsService;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  nc = new FakeNats();
  const tracer = provider.getTracer("test");
  host = new FakeHost(new TracedNats(nc, tracer, "web-frontend:alice"));
  service = new AppsService(host, tracer);
});
afterEach(async () => {
  await provider.shutdown();
});

const span = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name);

describe("app_request", () => {
  it("requests app.{app}.{room}.{action}.{user} under an app_request root carrying traceparent", async () => {
    const { bridge } = createBridge({
      appId: "poll",
      room: "general",
      user: "alice",
      transport: service,
      hub: service.hub,
    });
    await expect(
      bridge.request("vote", { pollId: "p1", optionIdx: 0, user: "bob" }),
    ).resolves.toEqual({ ok: true });
    expect(nc.sent).toHaveLength(1);
    expect(nc.sent[0]!.subject).toBe("app.poll.general.vote.alice");
    expect(JSON.parse(nc.sent[0]!.body)).toEqual({ pollId: "p1", optionIdx: 0, user: "alice" });
    const root = span("app_request")!;
    const req = span("request app.{app}.{room}.{action}.{user}")!;
    expect(root.kind).toBe(SpanKind.INTERNAL);
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.attributes).toMatchObject({
      "chat.app.id": "poll",
      "chat.app.action": "vote",
      "chat.room": "general",
    });
    expect(req.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    const tp = nc.sent[0]!.headers!.get("traceparent");
    expect(tp).toBe(`00-${root.spanContext().traceId}-${req.spanContext().spanId}-01`);
  });

  it("records unknown apps and actions as `unknown`, never the client's string", async () => {
    await service.request("paint", "general", "scribble", { user: "alice" }, 5000);
    expect(span("app_request")!.attributes).toMatchObject({
      "chat.app.id": "unknown",
      "chat.app.action": "unknown",
    });
    await service.request("kb", "general", "delta", { user: "alice" }, 5000);
    expect(
      exporter.getFinishedSpans().filter((s) => s.name === "app_request")[1]!.attributes[
        "chat.app.action"
      ],
    ).toBe("unknown");
  });

  it("returns an error reply to the app and marks the spans ERROR", async () => {
    nc.reply = () => '{"error":{"code":"failed_precondition","message":"poll is closed"}}';
    const reply = await service.request("poll", "general", "vote", { user: "alice" }, 5000);
    expect(reply).toEqual({ error: { code: "failed_precondition", message: "poll is closed" } });
    expect(span("app_request")!.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe("registry", () => {
  it("install_app requests apps.install.{room}.{user} with the app id", async () => {
    await service.setInstalled("proj-x", "poll", true);
    expect(nc.sent[0]!.subject).toBe("apps.install.proj-x.alice");
    expect(JSON.parse(nc.sent[0]!.body)).toEqual({ appId: "poll", user: "alice" });
    const root = span("install_app")!;
    expect(root.attributes).toMatchObject({ "chat.app.id": "poll", "chat.room": "proj-x" });
    expect(nc.sent[0]!.headers!.get("traceparent")).toContain(root.spanContext().traceId);
  });

  it("uninstall throws the registry's refusal with its code", async () => {
    nc.reply = () =>
      '{"error":{"code":"permission_denied","message":"only admins may manage a public room\'s apps"}}';
    await expect(service.setInstalled("general", "kb", false)).rejects.toMatchObject({
      code: "permission_denied",
    });
    expect(JSON.parse(nc.sent[0]!.body)).toEqual({ appId: "kb", user: "alice" });
    expect(nc.sent[0]!.subject).toBe("apps.uninstall.general.alice");
    expect(span("uninstall_app")!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("refuses a bad app id before sending", async () => {
    await expect(service.setInstalled("general", "a.b", true)).rejects.toThrow();
    expect(nc.sent).toHaveLength(0);
  });

  it("lists the catalogue and the room's apps with the contracts codecs", async () => {
    const app = {
      id: "poll",
      name: "Polls",
      componentUrl: "/apps/poll/poll-app.js",
      subjectPrefix: "app.poll",
    };
    const installed = { ...app, installedBy: "alice", installedAt: "2026-02-27T10:15:30.123Z" };
    nc.reply = (s) => JSON.stringify(s === "apps.list" ? [app] : [installed]);
    expect((await service.list(null))[0]!.componentUrl).toBe("/apps/poll/poll-app.js");
    const room = await service.list("general");
    expect(room[0]!.installedBy).toBe("alice");
    expect(nc.sent.map((s) => s.subject)).toEqual(["apps.list", "apps.room.general"]);
  });

  it("refuses a room list whose entries lack who installed them", async () => {
    const app = { id: "poll", name: "Polls", componentUrl: "/a.js", subjectPrefix: "app.poll" };
    nc.reply = () => JSON.stringify([app]);
    await expect(service.list("general")).rejects.toThrow("installedBy");
    expect(span("load_apps")!.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe("app events", () => {
  it("dispatches deliver.{user}.app.{app}.{room}.{event} under a linked CONSUMER root", () => {
    const got: AppJson[] = [];
    service.hub.add("poll", "general", "updated", (p) => got.push(p));
    const h = natsHeaders();
    h.set("traceparent", "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01");
    host.deliver("deliver.alice.app.poll.general.updated", '{"pollId":"p1"}', h);
    host.deliver("deliver.alice.app.poll.general.updated", "not json");
    host.deliver("deliver.alice.app.poll.general", "{}");
    expect(got).toEqual([{ pollId: "p1" }]);
    const spans = exporter
      .getFinishedSpans()
      .filter((s) => s.name === "process deliver.{user}.app.{app}.{room}.{event}");
    expect(spans).toHaveLength(2);
    expect(spans[0]!.kind).toBe(SpanKind.CONSUMER);
    expect(spans[0]!.links[0]!.context.traceId).toBe("0123456789abcdef0123456789abcdef");
    expect(spans[0]!.events.map((e) => e.name)).toContain("message_rendered");
    expect(spans[1]!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("close stops the dispatch", () => {
    const got: AppJson[] = [];
    service.hub.add("kb", "general", "presence", (p) => got.push(p));
    service.close();
    host.deliver("deliver.alice.app.kb.general.presence", "{}");
    expect(got).toEqual([]);
  });
});

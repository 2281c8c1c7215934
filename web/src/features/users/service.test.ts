// search_users on the wire: a root span around `request users.search.{user}` (under the signed-in
// user's own name) with the plain-text query and traceparent; error replies (rate limit) fail the
// span and reach the caller.
import { SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { type Msg, type MsgHdrs } from "nats.ws";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type NatsTransport, TracedNats } from "../../nats/traced";
import { UserSearchService } from "./service";

const enc = new TextEncoder();

class FakeNats implements NatsTransport {
  sent: { subject: string; body: string; headers: MsgHdrs | undefined }[] = [];
  reply = "[]";
  publish(): void {}
  async request(
    subject: string,
    payload?: Uint8Array,
    options?: { timeout: number; headers?: MsgHdrs },
  ): Promise<Msg> {
    this.sent.push({ subject, body: new TextDecoder().decode(payload), headers: options?.headers });
    return { subject: "_INBOX.alice.1", data: enc.encode(this.reply) } as unknown as Msg;
  }
  async flush(): Promise<void> {}
  getServer(): string {
    return "127.0.0.1:4223";
  }
}

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let nc: FakeNats;
let svc: UserSearchService;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  nc = new FakeNats();
  const tracer = provider.getTracer("test");
  svc = new UserSearchService(
    { nats: new TracedNats(nc, tracer, "web-frontend:alice"), user: "alice" },
    tracer,
  );
});
afterEach(async () => {
  await provider.shutdown();
});

describe("UserSearchService", () => {
  it("sends the query as plain text under a search_users root", async () => {
    nc.reply = '[{"username":"fiona","firstName":"Fiona","lastName":"Apple"}]';
    await expect(svc.search("fio")).resolves.toEqual([
      { username: "fiona", firstName: "Fiona", lastName: "Apple" },
    ]);
    expect(nc.sent[0]!.subject).toBe("users.search.alice");
    expect(nc.sent[0]!.body).toBe("fio");
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === "search_users")!;
    const req = spans.find((s) => s.name === "request users.search.{user}")!;
    expect(req.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(nc.sent[0]!.headers!.get("traceparent")).toContain(req.spanContext().spanId);
  });

  it("fails on a rate-limit error reply", async () => {
    nc.reply =
      '{"error":{"code":"resource_exhausted","message":"too many user searches; retry in 5 s"}}';
    await expect(svc.search("fio")).rejects.toMatchObject({
      type: "resource_exhausted",
      message: "too many user searches; retry in 5 s",
    });
    const root = exporter.getFinishedSpans().find((s) => s.name === "search_users")!;
    expect(root.status.code).toBe(SpanStatusCode.ERROR);
    expect(root.attributes["error.type"]).toBe("resource_exhausted");
  });
});

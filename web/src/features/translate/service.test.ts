// translate_message on the wire: the request published on translate.request.{user} with the
// publish span's traceparent (so the service's spans join the trace), chunks streamed into the
// store, the span ended by the final chunk, failed by an error chunk or by the 60 s deadline;
// translate.ping untraced.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { type Msg, type MsgHdrs } from "nats.ws";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type NatsTransport, TracedNats } from "../../nats/traced";
import { kTranslateTimeoutMs, type TranslateHost, TranslateService } from "./service";

const enc = new TextEncoder();
const dec = new TextDecoder();

class FakeNats implements NatsTransport {
  published: { subject: string; body: string; headers: MsgHdrs | undefined }[] = [];
  requests: { subject: string; headers: MsgHdrs | undefined }[] = [];
  pingReply =
    '{"available":true,"languages":[{"source":"en","target":"es"},{"source":"es","target":"en"}]}';
  publish(subject: string, payload?: Uint8Array, options?: { headers?: MsgHdrs }): void {
    this.published.push({ subject, body: dec.decode(payload), headers: options?.headers });
  }
  async request(
    subject: string,
    _payload?: Uint8Array,
    options?: { timeout: number; headers?: MsgHdrs },
  ): Promise<Msg> {
    this.requests.push({ subject, headers: options?.headers });
    return { subject: "_INBOX.alice.1", data: enc.encode(this.pingReply) } as unknown as Msg;
  }
  async flush(): Promise<void> {}
  getServer(): string {
    return "127.0.0.1:4223";
  }
}

class FakeHost implements TranslateHost {
  handlers = new Set<(m: Msg) => void>();
  readonly user = "alice";
  constructor(readonly nats: TracedNats) {}
  onTranslateChunk(h: (m: Msg) => void): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
  deliver(chunk: object): void {
    const msg = {
      subject: "deliver.alice.translate.response",
      data: enc.encode(JSON.stringify(chunk)),
    } as unknown as Msg;
    for (const fn of this.handlers) fn(msg);
  }
}

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let nc: FakeNats;
let host: FakeHost;
let svc: TranslateService;
const m = { key: "1700000000000-bob", text: "Hello, how are you?" };
const enEs = { source: "en", target: "es" };

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  nc = new FakeNats();
  const tracer = provider.getTracer("test");
  host = new FakeHost(new TracedNats(nc, tracer, "web-frontend:alice"));
  svc = new TranslateService(host, tracer);
});
afterEach(async () => {
  vi.useRealTimers();
  svc.close();
  await provider.shutdown();
});

const finished = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name);

describe("translate", () => {
  it("publishes the request under translate_message with the publish span's traceparent", async () => {
    await svc.translate(m, enEs);
    expect(nc.published).toHaveLength(1);
    const p = nc.published[0]!;
    expect(p.subject).toBe("translate.request.alice");
    expect(JSON.parse(p.body)).toEqual({
      text: "Hello, how are you?",
      targetLang: "es",
      sourceLang: "en",
      user: "alice",
      msgKey: "1700000000000-bob",
    });
    const pub = finished("publish translate.request.{user}")!;
    expect(pub.kind).toBe(SpanKind.PRODUCER);
    expect(p.headers!.get("traceparent")).toBe(
      `00-${pub.spanContext().traceId}-${pub.spanContext().spanId}-01`,
    );
    // The action is still open until the final chunk.
    expect(finished("translate_message")).toBeUndefined();
    expect(svc.translation(m.key)).toMatchObject({ status: "streaming", text: "" });
  });

  it("streams chunks into the store and ends the span after the final one", async () => {
    vi.useFakeTimers();
    const seen: string[] = [];
    svc.subscribe(() => seen.push(svc.translation(m.key)?.text ?? ""));
    await svc.translate(m, enEs);
    host.deliver({ translatedText: "Hola, ", targetLang: "es", msgKey: m.key, done: false });
    host.deliver({ translatedText: "¿cómo estás?\n", targetLang: "es", msgKey: m.key, done: true });
    expect(svc.translation(m.key)).toMatchObject({ text: "Hola, ¿cómo estás?", status: "done" });
    expect(seen).toContain("Hola, ");
    vi.advanceTimersByTime(1);
    const root = finished("translate_message")!;
    expect(root.kind).toBe(SpanKind.INTERNAL);
    expect(root.status.code).toBe(SpanStatusCode.UNSET);
    expect(root.attributes["chat.translate.target_lang"]).toBe("es");
    expect(root.attributes["chat.message_id"]).toBe(m.key);
    const pub = finished("publish translate.request.{user}")!;
    expect(pub.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
  });

  it("shows an error chunk plainly and fails the span with its code", async () => {
    await svc.translate(m, { source: "en", target: "ca" });
    host.deliver({
      translatedText: "",
      targetLang: "ca",
      msgKey: m.key,
      done: true,
      error: { code: "unavailable", message: "language pair not offered" },
    });
    expect(svc.translation(m.key)).toMatchObject({
      status: "error",
      error: "Translation unavailable: language pair not offered",
    });
    const root = finished("translate_message")!;
    expect(root.status.code).toBe(SpanStatusCode.ERROR);
    expect(root.attributes["error.type"]).toBe("unavailable");
    expect(root.attributes["chat.translate.target_lang"]).toBe("other");
  });

  it("times out when no done arrives within 60 s", async () => {
    vi.useFakeTimers();
    await svc.translate(m, enEs);
    host.deliver({ translatedText: "Hola", targetLang: "es", msgKey: m.key, done: false });
    vi.advanceTimersByTime(kTranslateTimeoutMs + 1);
    expect(svc.translation(m.key)).toMatchObject({ status: "timeout", text: "Hola" });
    const root = finished("translate_message")!;
    expect(root.status.code).toBe(SpanStatusCode.ERROR);
    expect(root.attributes["error.type"]).toBe("timeout");
    // A late chunk changes nothing.
    host.deliver({ translatedText: "!", targetLang: "es", msgKey: m.key, done: true });
    expect(svc.translation(m.key)).toMatchObject({ status: "timeout", text: "Hola" });
  });

  it("ignores undecodable chunks and chunks for unknown messages", async () => {
    await svc.translate(m, enEs);
    const bad = { subject: "x", data: enc.encode("{nope") } as unknown as Msg;
    for (const fn of host.handlers) fn(bad);
    host.deliver({ translatedText: "x", targetLang: "es", msgKey: "1-carol", done: true });
    expect(svc.translation(m.key)).toMatchObject({ status: "streaming", text: "" });
    expect(svc.translation("1-carol")).toBeUndefined();
  });

  it("a new request for the same message clears the previous result", async () => {
    await svc.translate(m, enEs);
    host.deliver({ translatedText: "Hola", targetLang: "es", msgKey: m.key, done: true });
    await svc.translate(m, enEs);
    expect(svc.translation(m.key)).toMatchObject({ status: "streaming", text: "" });
  });
});

describe("translate.ping", () => {
  it("lists the backend's pairs without a span or trace headers", async () => {
    const a = await svc.checkAvailability();
    expect(a).toEqual({
      state: "available",
      pairs: [
        { source: "en", target: "es" },
        { source: "es", target: "en" },
      ],
    });
    expect(nc.requests[0]!.subject).toBe("translate.ping");
    expect(nc.requests[0]!.headers).toBeUndefined();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await svc.checkAvailability();
    expect(nc.requests).toHaveLength(1);
  });

  it("reports an unavailable backend and asks again only after 60 s", async () => {
    let now = 1_000_000;
    svc.close();
    svc = new TranslateService(host, provider.getTracer("test"), () => now);
    nc.pingReply = '{"available":false,"languages":[]}';
    expect(await svc.checkAvailability()).toMatchObject({ state: "unavailable" });
    await svc.checkAvailability();
    expect(nc.requests).toHaveLength(1);
    now += 60_001;
    nc.pingReply = '{"available":true,"languages":[{"source":"en","target":"es"}]}';
    expect(await svc.checkAvailability()).toMatchObject({ state: "available" });
  });
});

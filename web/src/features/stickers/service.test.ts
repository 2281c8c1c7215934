// Sticker catalogue loads: load_stickers roots around request stickers.products /
// stickers.product.{product} (traceparent of the request span in the headers), foreign URLs
// dropped, one load per pack, a failed load retried.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { type Msg, type MsgHdrs } from "nats.ws";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type NatsTransport, TracedNats } from "../../nats/traced";
import { StickerService } from "./service";

const enc = new TextEncoder();

class FakeNats implements NatsTransport {
  sent: { subject: string; headers: MsgHdrs | undefined }[] = [];
  reply: (subject: string) => string = () => "[]";
  publish(): void {}
  async request(
    subject: string,
    _payload?: Uint8Array,
    options?: { timeout: number; headers?: MsgHdrs },
  ): Promise<Msg> {
    this.sent.push({ subject, headers: options?.headers });
    return { subject: "_INBOX.alice.1", data: enc.encode(this.reply(subject)) } as unknown as Msg;
  }
  async flush(): Promise<void> {}
  getServer(): string {
    return "127.0.0.1:4223";
  }
}

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let nc: FakeNats;
let svc: StickerService;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  nc = new FakeNats();
  const tracer = provider.getTracer("test");
  svc = new StickerService({ nats: new TracedNats(nc, tracer, "web-frontend:alice") }, tracer);
});
afterEach(async () => {
  await provider.shutdown();
});

describe("StickerService", () => {
  it("loads the packs under a load_stickers root, keeping only /stickers/ URLs", async () => {
    nc.reply = () =>
      JSON.stringify([
        { id: "cats", name: "Cats", thumbnailUrl: "/stickers/cats/thumb.svg" },
        { id: "evil", name: "Evil", thumbnailUrl: "https://evil.example/x.svg" },
      ]);
    const packs = await svc.loadPacks();
    expect(packs.map((p) => p.id)).toEqual(["cats"]);
    expect(nc.sent[0]!.subject).toBe("stickers.products");
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === "load_stickers")!;
    const req = spans.find((s) => s.name === "request stickers.products")!;
    expect(root.kind).toBe(SpanKind.INTERNAL);
    expect(req.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(nc.sent[0]!.headers!.get("traceparent")).toContain(req.spanContext().spanId);
    // Cached: a second open does not ask again.
    await svc.loadPacks();
    expect(nc.sent).toHaveLength(1);
  });

  it("loads one pack's stickers from stickers.product.{product}", async () => {
    nc.reply = () =>
      JSON.stringify([
        { id: "cake", imageUrl: "/stickers/party/cake.svg" },
        { id: "bad", imageUrl: "/stickers/../secret.svg" },
      ]);
    const stickers = await svc.loadStickers("party");
    expect(stickers).toEqual([{ id: "cake", imageUrl: "/stickers/party/cake.svg" }]);
    expect(nc.sent[0]!.subject).toBe("stickers.product.party");
    expect(exporter.getFinishedSpans().some((s) => s.name === "load_stickers")).toBe(true);
  });

  it("refuses an invalid pack id without asking", async () => {
    await expect(svc.loadStickers("a.b")).rejects.toThrow(/a-z, 0-9/);
    expect(nc.sent).toHaveLength(0);
  });

  it("fails the span on an error reply and retries on the next call", async () => {
    nc.reply = () => '{"error":{"code":"unavailable","message":"catalogue unavailable"}}';
    await expect(svc.loadPacks()).rejects.toThrow("catalogue unavailable");
    const root = exporter.getFinishedSpans().find((s) => s.name === "load_stickers")!;
    expect(root.status.code).toBe(SpanStatusCode.ERROR);
    expect(root.attributes["error.type"]).toBe("unavailable");
    nc.reply = () => "[]";
    await expect(svc.loadPacks()).resolves.toEqual([]);
    expect(nc.sent).toHaveLength(2);
  });
});

// Action spans: one INTERNAL root per user action, ended once; the echo deadline turns into
// ERROR delivery_timeout (observability.md §4.5).
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Action, errorTypeOf, runAction } from "./actions";

const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter)],
}).getTracer("t");

afterEach(() => {
  exporter.reset();
  vi.useRealTimers();
});

describe("Action", () => {
  it("is an INTERNAL root that ends once, with its events", () => {
    const a = new Action(tracer, "send_message", { "chat.room": "general" });
    a.event("echo_rendered");
    a.end();
    a.end();
    a.fail("late", new Error("ignored after end"));
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.kind).toBe(SpanKind.INTERNAL);
    expect(spans[0]!.parentSpanContext).toBeUndefined();
    expect(spans[0]!.events.map((e) => e.name)).toEqual(["echo_rendered"]);
    expect(spans[0]!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("fails with delivery_timeout when no echo arrives before the deadline", () => {
    vi.useFakeTimers();
    let timedOut = false;
    const a = new Action(tracer, "send_message").deadline(
      10_000,
      "delivery_timeout",
      "no echo",
      () => {
        timedOut = true;
      },
    );
    vi.advanceTimersByTime(9_999);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(timedOut).toBe(true);
    expect(a.done).toBe(true);
    const [span] = exporter.getFinishedSpans();
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes["error.type"]).toBe("delivery_timeout");
    expect(span!.events.map((e) => e.name)).toEqual(["exception"]);
  });

  it("an echo before the deadline cancels it", () => {
    vi.useFakeTimers();
    const a = new Action(tracer, "edit_message").deadline(10_000, "delivery_timeout", "no echo");
    a.event("echo_rendered").end();
    vi.advanceTimersByTime(20_000);
    expect(exporter.getFinishedSpans()[0]!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("child actions share the trace; runAction records thrown errors", async () => {
    const parent = new Action(tracer, "join_room");
    const child = new Action(tracer, "load_history", {}, parent.ctx);
    child.end();
    await expect(
      runAction(new Action(tracer, "create_room"), async () => {
        throw Object.assign(new Error("exists"), { type: "already_exists" });
      }),
    ).rejects.toThrow("exists");
    parent.end();
    const byName = Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.name, s]));
    expect(byName.load_history!.spanContext().traceId).toBe(
      byName.join_room!.spanContext().traceId,
    );
    expect(byName.load_history!.parentSpanContext?.spanId).toBe(
      byName.join_room!.spanContext().spanId,
    );
    expect(byName.create_room!.attributes["error.type"]).toBe("already_exists");
    expect(errorTypeOf(new TypeError("x"))).toBe("TypeError");
  });
});

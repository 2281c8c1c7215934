// Browser tracing set-up, exactly as observability.md §8.7 prescribes: a WebTracerProvider with
// a resource built by resourceFromAttributes merged onto defaultResource(), one
// BatchSpanProcessor (512 / 64 / 2 s) around an OTLP/HTTP JSON exporter on the same origin,
// the ZoneContextManager and the W3C propagator, forceFlush when the tab is hidden. Any
// failure here leaves the no-op API tracer in place: telemetry must never break chat (§1.6),
// and export errors never reach the UI (the exporter reports through diag, which is silent).
import { type Tracer, trace } from "@opentelemetry/api";
import { ZoneContextManager } from "@opentelemetry/context-zone";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { WebTracerProvider } from "@opentelemetry/sdk-trace-web";

export const kServiceName = "web-frontend";
const kInstanceKey = "nats-chat.service-instance-id";

let provider: WebTracerProvider | null = null;

export interface TelemetryOptions {
  otlpTracesUrl: string;
  version: string;
  environment: string;
}

/** One UUIDv4 per tab (sessionStorage), observability.md §2.1. */
function instanceId(): string {
  try {
    let id = sessionStorage.getItem(kInstanceKey);
    if (!id) {
      id = crypto.randomUUID();
      sessionStorage.setItem(kInstanceKey, id);
    }
    return id;
  } catch {
    return crypto.randomUUID();
  }
}

export function initTelemetry(opts: TelemetryOptions): boolean {
  try {
    const resource = defaultResource().merge(
      resourceFromAttributes({
        "service.name": kServiceName,
        "service.namespace": "nats-chat",
        "service.version": opts.version,
        "deployment.environment.name": opts.environment,
        "service.instance.id": instanceId(),
      }),
    );
    const exporter = new OTLPTraceExporter({ url: opts.otlpTracesUrl });
    provider = new WebTracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor(exporter, {
          maxQueueSize: 512,
          maxExportBatchSize: 64,
          scheduledDelayMillis: 2000,
        }),
      ],
    });
    provider.register({
      contextManager: new ZoneContextManager(),
      propagator: new W3CTraceContextPropagator(),
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") void flushTelemetry();
    });
    window.addEventListener("pagehide", () => void flushTelemetry());
    return true;
  } catch {
    // One console line, as the C++ services write one stderr line; chat goes on untraced.
    console.warn("tracing disabled: telemetry initialisation failed");
    provider = null;
    return false;
  }
}

export async function flushTelemetry(): Promise<void> {
  try {
    await provider?.forceFlush();
  } catch {
    // Export failures never reach the UI.
  }
}

export function getTracer(): Tracer {
  return trace.getTracer(kServiceName);
}

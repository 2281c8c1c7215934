// The telemetry sink's query API (tools/telemetry-sink/README.md): traces by id and by search,
// logs by trace id. It stands in for Tempo and Loki locally.
import { env } from "./env.js";
import { waitFor } from "./wait.js";

export interface SinkSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: string;
  service_name: string;
  status: { code: string; message?: string };
  attributes: Record<string, unknown>;
  events: { name: string; attributes?: Record<string, unknown> }[];
  links: { trace_id: string; span_id: string; attributes?: Record<string, unknown> }[];
}
export interface SinkTrace {
  trace_id: string;
  spans: SinkSpan[];
}
export interface SinkLog {
  level: string;
  msg: string;
  service: string;
  trace_id?: string;
  span_id?: string;
  attributes: Record<string, unknown>;
}

async function getJson<T>(pathAndQuery: string): Promise<T | undefined> {
  const res = await fetch(`${env.sinkUrl}${pathAndQuery}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`sink ${pathAndQuery}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export async function getTrace(traceId: string): Promise<SinkTrace | undefined> {
  return getJson<SinkTrace>(`/api/traces/${traceId}`);
}

export interface TraceSummary {
  trace_id: string;
  root_service: string;
  root_name: string;
  services: string[];
}

export async function searchTraces(filters: Record<string, string>): Promise<TraceSummary[]> {
  const q = new URLSearchParams({ limit: "50", ...filters });
  const r = await getJson<{ traces: TraceSummary[] }>(`/api/traces?${q}`);
  return r?.traces ?? [];
}

export async function logsOf(traceId: string): Promise<SinkLog[]> {
  const r = await getJson<{ logs: SinkLog[] }>(
    `/api/logs?trace_id=${traceId}&limit=500&direction=forward`,
  );
  return r?.logs ?? [];
}

// Waits until the trace holds spans satisfying `complete` (spans arrive in batches from each
// process: the browser every 2 s, the services on their own schedule).
export async function waitForTrace(
  traceId: string,
  complete: (t: SinkTrace) => boolean,
  timeoutMs = 45_000,
): Promise<SinkTrace> {
  let last: SinkTrace | undefined;
  try {
    return await waitFor(
      `trace ${traceId} to be complete in the sink`,
      async () => {
        last = await getTrace(traceId);
        return last && complete(last) ? last : undefined;
      },
      timeoutMs,
      500,
    );
  } catch (e) {
    const have = last?.spans.map((s) => `${s.service_name}:${s.name}`).join(", ") ?? "nothing";
    throw new Error(`${(e as Error).message}; the sink has: ${have}`, { cause: e });
  }
}

export function findSpan(t: SinkTrace, service: string, name: string): SinkSpan | undefined {
  return t.spans.find((s) => s.service_name === service && s.name === name);
}

export function childrenOf(t: SinkTrace, parent: SinkSpan): SinkSpan[] {
  return t.spans.filter((s) => s.parent_span_id === parent.span_id);
}

export function attr(s: SinkSpan, key: string): string | undefined {
  const v = s.attributes[key];
  return v === undefined ? undefined : String(v);
}

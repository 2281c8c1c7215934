// Traced HTTP client calls (`POST {url.template}` CLIENT, observability.md §4.2 set H, §4.5):
// the IdP token endpoint (cross-origin: no traceparent, it would fail the IdP's CORS preflight)
// and the same-origin credential route (traceparent sent, so auth-service continues the trace).
import { type Context, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { recordError } from "./actions";
import { Attr } from "./attributes";

const propagator = new W3CTraceContextPropagator();

export class HttpError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface TracedFetchOptions {
  urlTemplate: string;
  sendTraceparent: boolean;
  peerService?: string;
}

function urlWithoutQuery(url: string): URL {
  const u = new URL(url, window.location.href);
  u.search = "";
  u.hash = "";
  u.username = "";
  u.password = "";
  return u;
}

/** fetch() inside a CLIENT span; resolves with the parsed JSON body (or throws HttpError). */
export async function tracedFetchJson(
  tracer: Tracer,
  parent: Context,
  url: string,
  init: RequestInit,
  opts: TracedFetchOptions,
): Promise<unknown> {
  const method = (init.method ?? "GET").toUpperCase();
  const u = urlWithoutQuery(url);
  const span = tracer.startSpan(
    `${method} ${opts.urlTemplate}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [Attr.httpRequestMethod]: method,
        [Attr.urlFull]: u.toString(),
        [Attr.urlTemplate]: opts.urlTemplate,
        [Attr.serverAddress]: u.hostname,
        [Attr.serverPort]: Number(u.port || (u.protocol === "https:" ? 443 : 80)),
        ...(opts.peerService ? { [Attr.peerService]: opts.peerService } : {}),
      },
    },
    parent,
  );
  const headers = new Headers(init.headers);
  if (opts.sendTraceparent) {
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(parent, span), carrier, {
      set: (c: Record<string, string>, k, v) => {
        c[k] = v;
      },
    });
    for (const [k, v] of Object.entries(carrier)) headers.set(k, v);
  }
  try {
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers });
    } catch {
      throw new HttpError("connection_error", "the server could not be reached", 0, null);
    }
    span.setAttribute(Attr.httpResponseStatusCode, res.status);
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (!res.ok) throw new HttpError(String(res.status), `HTTP ${res.status}`, res.status, body);
    return body;
  } catch (e) {
    recordError(span, e instanceof HttpError ? e.type : "error", e);
    throw e;
  } finally {
    span.end();
  }
}

// User actions as spans (observability.md §4.5): each action is ONE INTERNAL root span whose
// context is passed explicitly to every NATS/HTTP call it makes (context.with/trace.setSpan;
// the zone context manager cannot follow native async/await, §3.3). An Action ends exactly
// once: ok, failed (ERROR + exception event + error.type), or by its timeout.
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { Attr } from "./attributes";

export class Action {
  readonly span: Span;
  readonly ctx: Context;
  private ended = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(tracer: Tracer, name: string, attributes: Attributes = {}, parent?: Context) {
    const root = parent === undefined;
    this.span = tracer.startSpan(
      name,
      { kind: SpanKind.INTERNAL, attributes, root },
      parent ?? ROOT_CONTEXT,
    );
    this.ctx = trace.setSpan(parent ?? ROOT_CONTEXT, this.span);
  }

  get done(): boolean {
    return this.ended;
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  setAttributes(a: Attributes): this {
    if (!this.ended) this.span.setAttributes(a);
    return this;
  }

  event(name: string, a?: Attributes): this {
    if (!this.ended) this.span.addEvent(name, a);
    return this;
  }

  /** Fails the action after `ms` unless it ended before (send/edit/… echo deadline). */
  deadline(ms: number, errorType: string, message: string, onTimeout?: () => void): this {
    this.timer = setTimeout(() => {
      if (this.ended) return;
      this.fail(errorType, new Error(message));
      onTimeout?.();
    }, ms);
    return this;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.span.end();
  }

  /** ERROR + exception event + error.type, then end (§4.4). */
  fail(errorType: string, err: unknown): void {
    if (this.ended) return;
    recordError(this.span, errorType, err);
    this.end();
  }
}

export function recordError(span: Span, errorType: string, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException({ name: e.name || errorType, message: e.message });
  span.setAttribute(Attr.errorType, errorType);
  // The status message is a short fixed text (§4.4): the error type, never user data.
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
}

/** Runs `fn` as the action: ends on success, fails with the error's type otherwise. */
export async function runAction<T>(action: Action, fn: (a: Action) => Promise<T>): Promise<T> {
  try {
    const out = await fn(action);
    action.end();
    return out;
  } catch (e) {
    action.fail(errorTypeOf(e), e);
    throw e;
  }
}

/** error.type of an error thrown by our wrappers (`type` field), else its class name. */
export function errorTypeOf(e: unknown): string {
  if (typeof e === "object" && e !== null && "type" in e && typeof e.type === "string") {
    return (e as { type: string }).type;
  }
  if (e instanceof Error && e.name && e.name !== "Error") return e.name;
  return "error";
}

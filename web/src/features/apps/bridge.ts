// The bridge of system.md §8.2, free of NATS and the DOM so it can be unit-tested: name
// validation (an action or event becomes one subject token: no '.', '*', '>', whitespace), the
// acting user forced to the signed-in one (ADR 0001: the subject's last token is what services
// trust; the body's `user` is only the reference's convention and is overwritten, never taken
// from the app), a 5 s request deadline, and per-bridge subscriptions that the host's teardown
// removes in one go. The transport (service.ts) does the traced NATS request.
import type { AppBridge, AppJson, AppJsonObject } from "./sdk";

export const kAppRequestTimeoutMs = 5000;
const kMaxNameBytes = 64;

/** Why a bridge call failed: a bad name, the deadline, or a torn-down bridge. */
export class BridgeError extends Error {
  constructor(
    readonly type: "invalid_name" | "timeout" | "closed",
    message: string,
  ) {
    super(message);
    this.name = "BridgeError";
  }
}

/** Null when `name` can be an action/event subject token, else why not. */
export function appNameProblem(name: unknown): string | null {
  if (typeof name !== "string" || name === "") return "must be a non-empty string";
  if (/[.*>]/.test(name)) return "must not contain '.', '*' or '>'";
  if (/[\s{}]/.test(name)) return "must not contain whitespace or braces";
  if (new TextEncoder().encode(name).length > kMaxNameBytes) return "is longer than 64 bytes";
  return null;
}

/** Sends one app request; `body` already carries the acting user. */
export interface AppTransport {
  request(
    appId: string,
    room: string,
    action: string,
    body: AppJsonObject,
    timeoutMs: number,
  ): Promise<AppJson>;
}

type Callback = (payload: AppJson) => void;

/** Callbacks per `{appId}.{room}.{event}`; the host feeds it the deliver.{user}.app.… messages. */
export class AppEventHub {
  private readonly handlers = new Map<string, Set<Callback>>();

  private static key(appId: string, room: string, event: string): string {
    return `${appId}.${room}.${event}`;
  }

  add(appId: string, room: string, event: string, cb: Callback): () => void {
    const key = AppEventHub.key(appId, room, event);
    let set = this.handlers.get(key);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(key, set);
    }
    // A wrapper per registration: the same function subscribed twice is two subscriptions.
    const entry: Callback = (p) => cb(p);
    set.add(entry);
    return () => {
      const s = this.handlers.get(key);
      if (s === undefined) return;
      s.delete(entry);
      if (s.size === 0) this.handlers.delete(key);
    };
  }

  /** Runs every callback of the event (one throwing does not stop the others); returns how many. */
  dispatch(appId: string, room: string, event: string, payload: AppJson): number {
    const set = this.handlers.get(AppEventHub.key(appId, room, event));
    if (set === undefined) return 0;
    let n = 0;
    for (const cb of [...set]) {
      n++;
      try {
        cb(payload);
      } catch (e) {
        console.debug(`app event handler failed: ${e instanceof Error ? e.name : "error"}`);
      }
    }
    return n;
  }

  /** Number of live registrations (tests and teardown checks). */
  get size(): number {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
}

export interface BridgeOptions {
  appId: string;
  room: string;
  user: string;
  transport: AppTransport;
  hub: AppEventHub;
  timeoutMs?: number;
}

/** A bridge and the teardown that closes it and removes all its subscriptions. */
export interface BridgeHandle {
  readonly bridge: AppBridge;
  dispose(): void;
  readonly closed: boolean;
}

function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export function createBridge(opts: BridgeOptions): BridgeHandle {
  const { appId, room, user, transport, hub } = opts;
  const timeoutMs = opts.timeoutMs ?? kAppRequestTimeoutMs;
  const subs = new Set<() => void>();
  let closed = false;

  const request = async (action: string, data?: AppJsonObject): Promise<AppJson> => {
    const problem = appNameProblem(action);
    if (problem !== null) throw new BridgeError("invalid_name", `app action ${problem}`);
    if (closed) throw new BridgeError("closed", "the app was closed");
    if (data !== undefined && (typeof data !== "object" || data === null || Array.isArray(data)))
      throw new BridgeError("invalid_name", "app request data must be an object");
    const body: AppJsonObject = { ...(data ?? {}), user };
    const reply = await withDeadline(
      transport.request(appId, room, action, body, timeoutMs),
      timeoutMs,
      () => new BridgeError("timeout", "the app service did not answer in time"),
    );
    if (closed) throw new BridgeError("closed", "the app was closed");
    return reply;
  };

  const subscribe = (event: string, cb: (payload: AppJson) => void): (() => void) => {
    const problem = appNameProblem(event);
    if (problem !== null) throw new BridgeError("invalid_name", `app event ${problem}`);
    if (typeof cb !== "function")
      throw new BridgeError("invalid_name", "app event callback must be a function");
    if (closed) return () => {};
    const remove = hub.add(appId, room, event, cb);
    const unsubscribe = () => {
      if (subs.delete(unsubscribe)) remove();
    };
    subs.add(unsubscribe);
    return unsubscribe;
  };

  const bridge: AppBridge = Object.freeze({
    appId,
    room,
    user: Object.freeze({ username: user }),
    request,
    subscribe,
  });
  return {
    bridge,
    get closed() {
      return closed;
    },
    dispose() {
      closed = true;
      for (const u of [...subs]) u();
    },
  };
}

// A service-account NATS subscriber on the message stream subjects (observability.md §11.3):
// it finds the published copy of a message by a nonce in its text and reads the traceparent
// the copy carries, which names the trace the browser's action started.
import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type NatsConnection, type Subscription } from "nats";
import { env } from "./env.js";
import { waitFor } from "./wait.js";

export interface Captured {
  subject: string;
  traceparent?: string;
  body: Record<string, unknown>;
}

export class StreamTap {
  private readonly seen: Captured[] = [];
  private constructor(
    private readonly nc: NatsConnection,
    private readonly sub: Subscription,
  ) {}

  static async open(subject = "chat.>"): Promise<StreamTap> {
    const nc = await connect({
      servers: env.natsUrl,
      authenticator: credsAuthenticator(new Uint8Array(readFileSync(env.natsCreds))),
      name: "web-e2e-tap",
    });
    const sub = nc.subscribe(subject);
    const tap = new StreamTap(nc, sub);
    void (async () => {
      for await (const m of sub) {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>;
        } catch {
          // Not a chat message payload: keep it with an empty body.
        }
        tap.seen.push({ subject: m.subject, traceparent: m.headers?.get("traceparent"), body });
      }
    })();
    await nc.flush();
    return tap;
  }

  // The first copy whose body satisfies `match` (e.g. text contains the nonce, action edit).
  async waitFor(
    what: string,
    match: (c: Captured) => boolean,
    timeoutMs = 20_000,
  ): Promise<Captured> {
    return waitFor(what, async () => this.seen.find(match), timeoutMs);
  }

  // A round trip to the server: whatever was routed to this subscriber before now has arrived.
  async flush(): Promise<void> {
    await this.nc.flush();
  }

  // Every copy seen so far that satisfies `match`, oldest first.
  all(match: (c: Captured) => boolean): Captured[] {
    return this.seen.filter(match);
  }

  count(match: (c: Captured) => boolean): number {
    return this.seen.filter(match).length;
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
    await this.nc.drain();
  }
}

// The trace id in a W3C traceparent ("00-<trace>-<span>-<flags>").
export function traceIdOf(traceparent: string | undefined): string {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent ?? "");
  if (!m) throw new Error(`not a valid traceparent: ${String(traceparent)}`);
  return m[1];
}

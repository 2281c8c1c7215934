// The one NATS connection of the tab: nats.ws over WebSocket with the user JWT minted for this
// tab's own nkey (jwtAuthenticator signs the server nonce with the seed; the JWT is read through
// a function so reconnects use the newest credentials), the per-user inbox prefix
// `_INBOX.{user}` (ADR 0001: services answer read-only requests only to the caller's own
// inbox), infinite reconnects 2 s apart. `connect nats` is a CLIENT span of the login trace.
import { type Context, SpanKind, type Tracer } from "@opentelemetry/api";
import { connect, jwtAuthenticator, type NatsConnection } from "nats.ws";
import { inboxPrefix } from "../contracts/subjects";
import { recordError } from "../telemetry/actions";
import { Attr, SpanNames } from "../telemetry/attributes";
import { natsErrorType } from "./traced";

export interface ConnectOptions {
  url: string;
  user: string;
  name: string;
  jwt: () => string;
  seed: Uint8Array;
}

export class ConnectError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = "ConnectError";
  }
}

export async function connectNats(
  tracer: Tracer,
  parent: Context,
  opts: ConnectOptions,
): Promise<NatsConnection> {
  const u = new URL(opts.url);
  const span = tracer.startSpan(
    SpanNames.connectNats,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [Attr.messagingSystem]: "nats",
        [Attr.serverAddress]: u.hostname,
        [Attr.serverPort]: Number(u.port || (u.protocol === "wss:" ? 443 : 80)),
      },
    },
    parent,
  );
  try {
    const nc = await connect({
      servers: opts.url,
      name: opts.name,
      authenticator: jwtAuthenticator(opts.jwt, () => opts.seed),
      inboxPrefix: inboxPrefix(opts.user),
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 2000,
      timeout: 10_000,
    });
    return nc;
  } catch (e) {
    const type =
      natsErrorType(e) ||
      (String((e as { code?: unknown }).code ?? "").includes("AUTH")
        ? "unauthenticated"
        : "connect_failed");
    const message =
      type === "unauthenticated"
        ? "the chat server refused the credentials"
        : "the chat server could not be reached";
    recordError(span, type, e);
    throw new ConnectError(type, message);
  } finally {
    span.end();
  }
}

// The one NATS connection of the tab: nats.ws over WebSocket with the user JWT minted for this
// tab's own nkey (jwtAuthenticator signs the server nonce with the seed; the JWT is read through
// a function so reconnects use the newest credentials), the per-user inbox prefix
// `_INBOX.{user}` (ADR 0001: services answer read-only requests only to the caller's own
// inbox), infinite reconnects 2 s apart. `connect nats` is a CLIENT span of the login trace.
// src/nats/ is the only place that imports nats.ws (eslint no-restricted-imports); the names the
// chat client needs are re-exported here.
import { type Context, SpanKind, type Tracer } from "@opentelemetry/api";
import { connect, ErrorCode, jwtAuthenticator, type NatsConnection, nkeys } from "nats.ws";
import { inboxPrefix } from "../contracts/subjects";
import { recordError } from "../telemetry/actions";
import { Attr, SpanNames } from "../telemetry/attributes";
import { natsErrorType } from "./traced";

export { DebugEvents, Events, type Msg, type NatsConnection, type Subscription } from "nats.ws";

export interface UserKey {
  publicKey: string;
  seed: Uint8Array;
}

/** The part of nats.ws's `nkeys` (declared `any` there) this module uses. */
interface Nkeys {
  createUser(): { getPublicKey(): string; getSeed(): Uint8Array };
}

/** A new user nkey for this tab; the seed never leaves the browser. */
export function createUserKey(): UserKey {
  const kp = (nkeys as Nkeys).createUser();
  return { publicKey: kp.getPublicKey(), seed: kp.getSeed() };
}

/**
 * Why the server refused something, from the `data` of an `error` status event (nats.ws puts
 * the error code there): a permission violation, refused or expired credentials, or null.
 */
export function refusalOf(data: unknown): "permission" | "credentials" | null {
  switch (data) {
    case ErrorCode.PermissionsViolation:
      return "permission";
    case ErrorCode.AuthorizationViolation:
    case ErrorCode.AuthenticationExpired:
      return "credentials";
    default:
      return null;
  }
}

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
    const code = (e as { code?: unknown }).code;
    const type =
      natsErrorType(e) ||
      (typeof code === "string" && code.includes("AUTH") ? "unauthenticated" : "connect_failed");
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

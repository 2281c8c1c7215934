// NATS credentials for this tab (decisions.md §4, services/auth/README.md): the browser makes
// its own user nkey (the seed stays in this tab's memory and never leaves the browser), sends
// the PUBLIC key with its OIDC access token to auth-service, and gets a short-lived user JWT
// whose permissions follow the user's realm roles. The call is a `POST {url.template}` CLIENT
// span that sends traceparent (same origin), so auth-service's SERVER span joins the trace.
import type { Context, Tracer } from "@opentelemetry/api";
import type { UserKey } from "../nats/connection";
import { tracedFetchJson } from "../telemetry/http";

export type Tier = "admin" | "user" | "none";

export interface NatsCredentials {
  jwt: string;
  /** ms since epoch */
  expiresAt: number;
  user: string;
  tier: Tier;
}

export class CredentialsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "CredentialsError";
  }
}

export async function fetchCredentials(
  tracer: Tracer,
  parent: Context,
  credentialsUrl: string,
  accessToken: string,
  key: UserKey,
): Promise<NatsCredentials> {
  let body: unknown;
  try {
    body = await tracedFetchJson(
      tracer,
      parent,
      credentialsUrl,
      {
        method: "POST",
        headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ nkey: key.publicKey }),
      },
      {
        urlTemplate: new URL(credentialsUrl).pathname,
        sendTraceparent: new URL(credentialsUrl).origin === window.location.origin,
      },
    );
  } catch (e) {
    const status = (e as { status?: number }).status ?? 0;
    const err = (e as { body?: { error?: { code?: unknown; message?: unknown } } }).body?.error;
    const msg =
      typeof err?.message === "string"
        ? err.message
        : status === 0
          ? "auth-service could not be reached"
          : `HTTP ${status}`;
    throw new CredentialsError(
      typeof err?.code === "string" ? err.code : "credentials_failed",
      `could not get chat credentials: ${msg}`,
      status,
    );
  }
  const b = body as Record<string, unknown>;
  const tier = b?.tier;
  if (
    typeof b?.jwt !== "string" ||
    typeof b.expires_at !== "number" ||
    typeof b.user !== "string" ||
    (tier !== "admin" && tier !== "user" && tier !== "none")
  ) {
    throw new CredentialsError(
      "invalid_payload",
      "could not get chat credentials: malformed answer",
      200,
    );
  }
  return { jwt: b.jwt, expiresAt: b.expires_at, user: b.user, tier };
}

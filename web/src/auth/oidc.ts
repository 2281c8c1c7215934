// OIDC authorization code + PKCE (S256, state, nonce) against the issuer's discovery document
// (dev-idp locally, Keycloak in production). The SPA handles its own callback at /callback.
// Tokens live in sessionStorage only (never localStorage): closing the tab ends the session.
// Token endpoint calls are traced as `POST {url.template}` CLIENT spans with peer.service=idp
// and no traceparent (cross-origin; it would fail the IdP's CORS preflight, §4.5).
import type { Context, Tracer } from "@opentelemetry/api";
import { tracedFetchJson } from "../telemetry/http";
import { codeChallengeS256, createCodeVerifier, randomToken } from "./pkce";

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  /** ms since epoch */
  expiresAt: number;
}

export interface Claims {
  preferredUsername: string;
  email: string;
  name: string;
  roles: string[];
  exp: number;
}

export class AuthError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

const kPendingKey = "nats-chat.oidc.pending";
const kTokensKey = "nats-chat.oidc.tokens";
// Roles the IdP adds to everyone; not shown (system.md §2.2).
const kHiddenRoles = new Set(["default-roles-nats-chat", "offline_access", "uma_authorization"]);

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
}

export function redirectUri(): string {
  return `${window.location.origin}/callback`;
}

let discoveryCache: Promise<Discovery> | null = null;

export function discover(issuer: string): Promise<Discovery> {
  if (discoveryCache === null) {
    discoveryCache = (async () => {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`);
      if (!res.ok)
        throw new AuthError(
          "discovery_failed",
          `the identity provider answered HTTP ${res.status}`,
        );
      const d = (await res.json()) as Discovery;
      if (d.issuer !== issuer)
        throw new AuthError(
          "discovery_failed",
          "the identity provider's issuer does not match the configuration",
        );
      return d;
    })().catch((e: unknown) => {
      discoveryCache = null;
      if (e instanceof AuthError) throw e;
      throw new AuthError("discovery_failed", "the identity provider could not be reached");
    });
  }
  return discoveryCache;
}

/** `/realms/nats-chat/protocol/…` → `/realms/{realm}/protocol/…` (low-cardinality url.template). */
export function urlTemplate(url: string): string {
  const path = new URL(url).pathname;
  return path.replace(/\/realms\/[^/]+\//, "/realms/{realm}/");
}

/** Redirects to the IdP's login page. */
export async function beginLogin(issuer: string, clientId: string): Promise<never> {
  const d = await discover(issuer);
  const pending: Pending = {
    state: randomToken(),
    nonce: randomToken(),
    verifier: createCodeVerifier(64),
    redirectUri: redirectUri(),
  };
  sessionStorage.setItem(kPendingKey, JSON.stringify(pending));
  const u = new URL(d.authorization_endpoint);
  u.searchParams.set("response_type", "code");
  u.searchParams.set("client_id", clientId);
  u.searchParams.set("redirect_uri", pending.redirectUri);
  u.searchParams.set("scope", "openid profile email");
  u.searchParams.set("state", pending.state);
  u.searchParams.set("nonce", pending.nonce);
  u.searchParams.set("code_challenge", await codeChallengeS256(pending.verifier));
  u.searchParams.set("code_challenge_method", "S256");
  window.location.assign(u.toString());
  return new Promise<never>(() => {});
}

/** True when the current URL is the IdP's redirect back to us. */
export function isCallback(): boolean {
  const q = new URLSearchParams(window.location.search);
  return window.location.pathname === "/callback" && (q.has("code") || q.has("error"));
}

function decodeJwtPayload(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1];
  if (!part) throw new AuthError("bad_token", "the identity provider returned a malformed token");
  const b64 = part
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

export function claimsOf(accessToken: string): Claims {
  const p = decodeJwtPayload(accessToken);
  const realm = p.realm_access as { roles?: unknown } | undefined;
  const roles = Array.isArray(realm?.roles)
    ? realm.roles.filter((r): r is string => typeof r === "string")
    : [];
  return {
    preferredUsername: typeof p.preferred_username === "string" ? p.preferred_username : "",
    email: typeof p.email === "string" ? p.email : "",
    name: typeof p.name === "string" ? p.name : "",
    roles: roles.filter((r) => !kHiddenRoles.has(r)),
    exp: typeof p.exp === "number" ? p.exp : 0,
  };
}

function tokensFrom(body: unknown): Tokens {
  const b = body as Record<string, unknown>;
  if (typeof b?.access_token !== "string")
    throw new AuthError("bad_token", "the identity provider returned no access token");
  const expiresIn = typeof b.expires_in === "number" ? b.expires_in : 300;
  return {
    accessToken: b.access_token,
    refreshToken: typeof b.refresh_token === "string" ? b.refresh_token : null,
    idToken: typeof b.id_token === "string" ? b.id_token : null,
    expiresAt: Date.now() + expiresIn * 1000,
  };
}

async function tokenRequest(
  tracer: Tracer,
  parent: Context,
  d: Discovery,
  form: Record<string, string>,
): Promise<Tokens> {
  let body: unknown;
  try {
    body = await tracedFetchJson(
      tracer,
      parent,
      d.token_endpoint,
      {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form).toString(),
      },
      { urlTemplate: urlTemplate(d.token_endpoint), sendTraceparent: false, peerService: "idp" },
    );
  } catch (e) {
    const b = (e as { body?: { error_description?: unknown; error?: unknown } }).body;
    const why =
      typeof b?.error_description === "string"
        ? b.error_description
        : typeof b?.error === "string"
          ? b.error
          : "the token request failed";
    throw new AuthError("token_request_failed", `login failed: ${why}`);
  }
  return tokensFrom(body);
}

/** Exchanges the callback's code for tokens (state and nonce checked); cleans the URL. */
export async function completeLogin(
  tracer: Tracer,
  parent: Context,
  issuer: string,
  clientId: string,
): Promise<Tokens> {
  const q = new URLSearchParams(window.location.search);
  const raw = sessionStorage.getItem(kPendingKey);
  sessionStorage.removeItem(kPendingKey);
  window.history.replaceState(null, "", "/");
  if (q.has("error")) {
    throw new AuthError(
      "login_refused",
      `login failed: ${q.get("error_description") ?? q.get("error")}`,
    );
  }
  if (!raw)
    throw new AuthError(
      "no_pending_login",
      "login failed: this tab did not start a login (try again)",
    );
  const pending = JSON.parse(raw) as Pending;
  if (q.get("state") !== pending.state)
    throw new AuthError("state_mismatch", "login failed: the state does not match (try again)");
  const d = await discover(issuer);
  const tokens = await tokenRequest(tracer, parent, d, {
    grant_type: "authorization_code",
    code: q.get("code") ?? "",
    redirect_uri: pending.redirectUri,
    client_id: clientId,
    code_verifier: pending.verifier,
  });
  if (tokens.idToken !== null) {
    const id = decodeJwtPayload(tokens.idToken);
    if (id.nonce !== pending.nonce)
      throw new AuthError("nonce_mismatch", "login failed: the ID token's nonce does not match");
    if (id.iss !== issuer)
      throw new AuthError("issuer_mismatch", "login failed: the ID token's issuer does not match");
  }
  saveTokens(tokens);
  return tokens;
}

/** Refresh-token grant; throws AuthError when there is no refresh token or the IdP refuses. */
export async function refreshTokens(
  tracer: Tracer,
  parent: Context,
  issuer: string,
  clientId: string,
  current: Tokens,
): Promise<Tokens> {
  if (current.refreshToken === null)
    throw new AuthError("no_refresh_token", "the session expired: please sign in again");
  const d = await discover(issuer);
  const next = await tokenRequest(tracer, parent, d, {
    grant_type: "refresh_token",
    refresh_token: current.refreshToken,
    client_id: clientId,
  });
  if (next.idToken === null) next.idToken = current.idToken;
  saveTokens(next);
  return next;
}

export function saveTokens(t: Tokens): void {
  sessionStorage.setItem(kTokensKey, JSON.stringify(t));
}

export function loadTokens(): Tokens | null {
  try {
    const raw = sessionStorage.getItem(kTokensKey);
    if (!raw) return null;
    const t = JSON.parse(raw) as Tokens;
    return typeof t.accessToken === "string" ? t : null;
  } catch {
    return null;
  }
}

export function clearTokens(): void {
  sessionStorage.removeItem(kTokensKey);
  sessionStorage.removeItem(kPendingKey);
}

/** Ends the IdP session (RP-initiated logout) and comes back to the app's origin. */
export async function logout(issuer: string, clientId: string): Promise<void> {
  const t = loadTokens();
  clearTokens();
  try {
    const d = await discover(issuer);
    if (d.end_session_endpoint) {
      const u = new URL(d.end_session_endpoint);
      if (t?.idToken) u.searchParams.set("id_token_hint", t.idToken);
      u.searchParams.set("client_id", clientId);
      u.searchParams.set("post_logout_redirect_uri", `${window.location.origin}/`);
      window.location.assign(u.toString());
      return;
    }
  } catch {
    // The IdP is unreachable: the local session is gone anyway.
  }
  window.location.assign("/");
}

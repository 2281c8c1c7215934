// What the host adds to the registry's wire types (src/contracts/apps.ts): app replies passed
// through unchanged, the bounded telemetry values of observability.md §4.3 (chat.app.id /
// chat.app.action are enums: a client-chosen string never becomes an attribute value), and the
// same-origin rule for component URLs.
import type { Codec } from "../../contracts/reader";
import type { AppJson } from "./sdk";

/** Any JSON reply, unchanged: app replies are opaque to the host. */
export const AnyJsonCodec: Codec<AppJson> = {
  type: "AppReply",
  decode: (j) => j,
  encode: (v) => v,
};

const kAppActions: Readonly<Record<string, readonly string[]>> = {
  poll: ["create", "list", "vote", "results", "close"],
  kb: ["list", "create", "load", "save", "delete", "editing", "stopedit"],
  whiteboard: ["list", "create", "load", "delta", "delete"],
};

/** chat.app.id: a known app, else `unknown`. */
export function appIdAttr(appId: string): string {
  return Object.hasOwn(kAppActions, appId) ? appId : "unknown";
}

/** chat.app.action: one of the app's actions (observability.md §6.3), else `unknown`. */
export function appActionAttr(appId: string, action: string): string {
  const list = Object.hasOwn(kAppActions, appId) ? kAppActions[appId]! : [];
  return list.includes(action) ? action : "unknown";
}

/**
 * A component URL the host may load: same origin as the page only (the bundles are built by
 * the project and served by nginx under /apps/; no third-party script runs in the chat page).
 */
export function sameOriginUrl(url: string, pageHref: string): string | null {
  try {
    const u = new URL(url, pageHref);
    if (u.origin !== new URL(pageHref).origin) return null;
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return u.href;
  } catch {
    return null;
  }
}

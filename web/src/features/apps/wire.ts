// Wire shapes of the app registry (system.md §3.3.9 with ADR 0001 subjects) and the bounded
// telemetry values of observability.md §4.3 (chat.app.id / chat.app.action are enums: a
// client-chosen string never becomes an attribute value).
import { type Codec, type Json, isObject } from "../../contracts/reader";
import { ValidationError } from "../../contracts/ids";
import type { AppJson } from "./sdk";

export interface AppInfo {
  id: string;
  name: string;
  description: string;
  iconUrl: string;
  componentUrl: string;
  subjectPrefix: string;
}

export interface RoomApp extends AppInfo {
  installedBy: string;
  installedAt: string;
}

/** App ids are one subject token of [a-z0-9-] (they name a custom element room-app-{id}). */
export function appIdProblem(id: string): string | null {
  return /^[a-z][a-z0-9-]{0,31}$/.test(id) ? null : "app id must match [a-z][a-z0-9-]{0,31}";
}

function s(o: { [k: string]: Json }, key: string): string {
  const v = o[key];
  return typeof v === "string" ? v : "";
}

function decodeApp(j: Json, path: string): RoomApp {
  if (!isObject(j)) throw new ValidationError(`${path}: must be a JSON object`);
  const app: RoomApp = {
    id: s(j, "id"),
    name: s(j, "name"),
    description: s(j, "description"),
    iconUrl: s(j, "iconUrl"),
    componentUrl: s(j, "componentUrl"),
    subjectPrefix: s(j, "subjectPrefix"),
    installedBy: s(j, "installedBy"),
    installedAt: s(j, "installedAt"),
  };
  const problem = appIdProblem(app.id);
  if (problem !== null) throw new ValidationError(`${path}: field 'id' ${problem}`);
  if (app.componentUrl === "") throw new ValidationError(`${path}: field 'componentUrl' is empty`);
  if (app.name === "") app.name = app.id;
  return app;
}

/** apps.list / apps.room.{room}: a JSON array (system.md) or `{"apps":[…]}`. */
export const AppListCodec: Codec<RoomApp[]> = {
  type: "AppList",
  decode(j, path) {
    const list = Array.isArray(j) ? j : isObject(j) && Array.isArray(j.apps) ? j.apps : null;
    if (list === null) throw new ValidationError(`${path}: must be an array of apps`);
    return list.map((a, i) => decodeApp(a, `${path}[${i}]`));
  },
  encode: (v) => v.map((a) => ({ ...a })),
};

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

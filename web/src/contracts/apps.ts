// App registry wire types (libs/contracts apps.hpp/.cpp; system.md §3.3.9 with ADR 0001's
// apps.install.{room}.{user} / apps.uninstall.{room}.{user}).
import { utf8Bytes } from "./ids";
import {
  type Codec,
  decodeArray,
  expectObject,
  type Json,
  type JsonObject,
  kMaxUrlBytes,
  Need,
  putStr,
  Reader,
} from "./reader";

export const kMaxAppIdBytes = 64;
export const kMaxAppConfigBytes = 4096;

/** null when `id` is a valid app id (1-64 bytes of [a-z0-9-]), else the problem. */
export function appIdProblem(id: string): string | null {
  if (id.length === 0 || utf8Bytes(id) > kMaxAppIdBytes) return "app id must be 1-64 bytes";
  if (!/^[a-z0-9-]+$/.test(id)) return "app id may contain only a-z, 0-9 and '-'";
  return null;
}

export interface AppInfo {
  id: string;
  name: string;
  description: string;
  iconUrl: string;
  componentUrl: string;
  subjectPrefix: string;
  /** apps.room.{room} only. */
  installedBy: string;
  installedAt: string;
  config: JsonObject | null;
}

function configField(r: Reader): JsonObject | null {
  const v = r.find("config", Need.Optional);
  if (v === undefined) return null;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    r.fail("config", "must be an object");
    return null;
  }
  if (utf8Bytes(JSON.stringify(v)) > kMaxAppConfigBytes) {
    r.fail("config", `exceeds ${kMaxAppConfigBytes} bytes`);
    return null;
  }
  return v;
}

function appIdField(r: Reader, key: string): string {
  const id = r.str(key, Need.NonEmpty, kMaxAppIdBytes);
  if (r.ok) r.checkValid(key, appIdProblem(id));
  return id;
}

function decodeApp(j: Json, path: string, installed: boolean): AppInfo {
  const r = new Reader(expectObject(j, path), path);
  const id = appIdField(r, "id");
  const name = r.str("name", Need.NonEmpty);
  const description = r.str("description", Need.Optional, kMaxUrlBytes);
  const iconUrl = r.str("iconUrl", Need.Optional, kMaxUrlBytes);
  const componentUrl = r.str("componentUrl", Need.NonEmpty, kMaxUrlBytes);
  const subjectPrefix = r.str("subjectPrefix", Need.NonEmpty);
  let installedBy = "";
  let installedAt = "";
  let config: JsonObject | null = null;
  if (installed) {
    installedBy = r.user("installedBy", Need.Required);
    installedAt = r.str("installedAt", Need.NonEmpty);
    config = configField(r);
  }
  r.check();
  return {
    id,
    name,
    description,
    iconUrl,
    componentUrl,
    subjectPrefix,
    installedBy,
    installedAt,
    config,
  };
}

function encodeApp(v: AppInfo, installed: boolean): JsonObject {
  const j: JsonObject = { id: v.id, name: v.name };
  putStr(j, "description", v.description);
  putStr(j, "iconUrl", v.iconUrl);
  j.componentUrl = v.componentUrl;
  j.subjectPrefix = v.subjectPrefix;
  if (installed) {
    j.installedBy = v.installedBy;
    j.installedAt = v.installedAt;
    if (v.config !== null) j.config = v.config;
  }
  return j;
}

export interface AppList {
  apps: AppInfo[];
}

export const AppListCodec: Codec<AppList> = {
  type: "AppList",
  decode: (j, path) => ({ apps: decodeArray(j, path, (e, p) => decodeApp(e, p, false)) }),
  encode: (v) => v.apps.map((a) => encodeApp(a, false)),
};

export interface RoomAppList {
  apps: AppInfo[];
}

export const RoomAppListCodec: Codec<RoomAppList> = {
  type: "RoomAppList",
  decode: (j, path) => ({ apps: decodeArray(j, path, (e, p) => decodeApp(e, p, true)) }),
  encode: (v) => v.apps.map((a) => encodeApp(a, true)),
};

export interface AppInstallRequest {
  appId: string;
  config: JsonObject | null;
  user: string;
}

export const AppInstallRequestCodec: Codec<AppInstallRequest> = {
  type: "AppInstallRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const appId = appIdField(r, "appId");
    const config = configField(r);
    const user = r.user("user", Need.Optional);
    r.check();
    return { appId, config, user };
  },
  encode(v) {
    const j: JsonObject = { appId: v.appId };
    if (v.config !== null) j.config = v.config;
    putStr(j, "user", v.user);
    return j;
  },
};

export interface AppUninstallRequest {
  appId: string;
  user: string;
}

export const AppUninstallRequestCodec: Codec<AppUninstallRequest> = {
  type: "AppUninstallRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const appId = appIdField(r, "appId");
    const user = r.user("user", Need.Optional);
    r.check();
    return { appId, user };
  },
  encode(v) {
    const j: JsonObject = { appId: v.appId };
    putStr(j, "user", v.user);
    return j;
  },
};

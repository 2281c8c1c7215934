// Presence wire types (libs/contracts presence.hpp/.cpp; system.md §3.3.4).
import {
  type Codec,
  decodeArray,
  expectObject,
  type Json,
  type JsonObject,
  Need,
  putStr,
  Reader,
} from "./reader";

export type PresenceStatus = "online" | "away" | "busy" | "offline";
export const kPresenceStatuses: PresenceStatus[] = ["online", "away", "busy", "offline"];

const kMaxConnIdBytes = 64;

function readStatus(r: Reader, need: Need): PresenceStatus | null {
  const name = r.str("status", need === Need.Optional ? Need.Optional : Need.NonEmpty);
  if (!r.ok || name === "") return null;
  if ((kPresenceStatuses as string[]).includes(name)) return name as PresenceStatus;
  r.fail("status", "must be online, away, busy or offline");
  return null;
}

export interface PresenceHeartbeat {
  userId: string;
  connId: string;
}

export const PresenceHeartbeatCodec: Codec<PresenceHeartbeat> = {
  type: "PresenceHeartbeat",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const userId = r.user("userId", Need.Optional);
    const connId = r.str("connId", Need.NonEmpty, kMaxConnIdBytes);
    if (r.ok && !/^[A-Za-z0-9_-]*$/.test(connId)) r.fail("connId", "must match [A-Za-z0-9_-]");
    r.check();
    return { userId, connId };
  },
  encode(v) {
    const j: JsonObject = {};
    putStr(j, "userId", v.userId);
    j.connId = v.connId;
    return j;
  },
};

export interface PresenceUpdate {
  userId: string;
  status: PresenceStatus;
}

export const PresenceUpdateCodec: Codec<PresenceUpdate> = {
  type: "PresenceUpdate",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const userId = r.user("userId", Need.Optional);
    const status = readStatus(r, Need.Required);
    r.check();
    return { userId, status: status ?? "online" };
  },
  encode(v) {
    const j: JsonObject = {};
    putStr(j, "userId", v.userId);
    j.status = v.status;
    return j;
  },
};

export interface PresenceDiff {
  action: "online" | "offline" | "status";
  userId: string;
  status: PresenceStatus | null;
}

export const PresenceDiffCodec: Codec<PresenceDiff> = {
  type: "PresenceDiff",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const a = r.str("action", Need.NonEmpty);
    let action: PresenceDiff["action"] = "online";
    if (r.ok) {
      if (a === "online" || a === "offline" || a === "status") action = a;
      else r.fail("action", "must be online, offline or status");
    }
    const userId = r.user("userId", Need.Required);
    let status: PresenceStatus | null = null;
    if (r.find("status", Need.Optional) !== undefined) {
      status = readStatus(r, Need.Required);
    } else if (r.ok && action === "status") {
      r.fail("status", "is required for action status");
    }
    r.check();
    return { action, userId, status };
  },
  encode(v) {
    const j: JsonObject = { action: v.action, userId: v.userId };
    if (v.status !== null) j.status = v.status;
    return j;
  },
};

export interface PresenceEntry {
  userId: string;
  status: PresenceStatus;
}

function decodeEntry(j: Json, path: string): PresenceEntry {
  const r = new Reader(expectObject(j, path), path);
  const userId = r.user("userId", Need.Required);
  const status = readStatus(r, Need.Required);
  r.check();
  return { userId, status: status ?? "offline" };
}

export const PresenceEntryCodec: Codec<PresenceEntry> = {
  type: "PresenceEntry",
  decode: decodeEntry,
  encode: (v) => ({ userId: v.userId, status: v.status }),
};

export interface PresenceRoomReply {
  members: PresenceEntry[];
}

export const PresenceRoomReplyCodec: Codec<PresenceRoomReply> = {
  type: "PresenceRoomReply",
  decode: (j, path) => ({ members: decodeArray(j, path, decodeEntry) }),
  encode: (v) => v.members.map((e) => ({ userId: e.userId, status: e.status })),
};

// Read-receipt wire types (libs/contracts receipts.hpp/.cpp; system.md §3.3.5 plus the optional
// `unread` count on the caller's own read.state entry).
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

export interface ReadUpdate {
  userId: string;
  lastRead: number;
}

export const ReadUpdateCodec: Codec<ReadUpdate> = {
  type: "ReadUpdate",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const userId = r.user("userId", Need.Optional);
    const lastRead = r.int("lastRead", Need.Required, 1);
    r.check();
    return { userId, lastRead };
  },
  encode(v) {
    const j: JsonObject = {};
    putStr(j, "userId", v.userId);
    j.lastRead = v.lastRead;
    return j;
  },
};

export interface ReadStateEntry {
  userId: string;
  lastRead: number;
  unread: number | null;
}

function decodeEntry(j: Json, path: string): ReadStateEntry {
  const r = new Reader(expectObject(j, path), path);
  const userId = r.user("userId", Need.Required);
  const lastRead = r.int("lastRead", Need.Required, 1);
  let unread: number | null = null;
  if (r.find("unread", Need.Optional) !== undefined) {
    const u = r.int("unread", Need.Optional, 0);
    if (r.ok) unread = u;
  }
  r.check();
  return { userId, lastRead, unread };
}

function encodeEntry(v: ReadStateEntry): JsonObject {
  const j: JsonObject = { userId: v.userId, lastRead: v.lastRead };
  if (v.unread !== null) j.unread = v.unread;
  return j;
}

export const ReadStateEntryCodec: Codec<ReadStateEntry> = {
  type: "ReadStateEntry",
  decode: decodeEntry,
  encode: encodeEntry,
};

export interface ReadStateReply {
  entries: ReadStateEntry[];
}

export const ReadStateReplyCodec: Codec<ReadStateReply> = {
  type: "ReadStateReply",
  decode: (j, path) => ({ entries: decodeArray(j, path, decodeEntry) }),
  encode: (v) => v.entries.map(encodeEntry),
};

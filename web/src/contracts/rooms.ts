// Room wire types (libs/contracts rooms.hpp/.cpp; system.md §3.3.3 with ADR 0001's optional
// body user fields): RoomChanged, RoomMember, RoomInfo, the request bodies and list replies.
import { isDmRoom, kAdminRoom, ValidationError, usernameProblem } from "./ids";
import {
  type Codec,
  decodeArray,
  expectObject,
  type JsonObject,
  Need,
  putInt,
  putStr,
  Reader,
} from "./reader";

export type RoomType = "public" | "private" | "dm";
export type RoomRole = "owner" | "admin" | "member";

const kMaxDisplayNameBytes = 100;

export function isReservedRoomName(name: string): boolean {
  return (
    name === "general" ||
    name === "random" ||
    name === "help" ||
    name === kAdminRoom ||
    isDmRoom(name)
  );
}

function readRoomType(r: Reader, need: Need): RoomType {
  const t = r.str("type", need === Need.Optional ? Need.Optional : Need.NonEmpty);
  if (!r.ok || t === "") return "public";
  if (t === "public" || t === "private" || t === "dm") return t;
  r.fail("type", "must be public, private or dm");
  return "public";
}

export interface RoomChanged {
  room: string;
  action: "join" | "leave";
  userId: string;
  type: RoomType;
}

export const RoomChangedCodec: Codec<RoomChanged> = {
  type: "RoomChanged",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const room = r.room("room", Need.Required);
    const a = r.str("action", Need.NonEmpty);
    let action: "join" | "leave" = "join";
    if (r.ok) {
      if (a === "join" || a === "leave") action = a;
      else r.fail("action", "must be join or leave");
    }
    const userId = r.user("userId", Need.Required);
    const type = readRoomType(r, Need.Optional);
    if (r.ok && (type === "dm") !== isDmRoom(room))
      r.fail("type", "must be dm exactly for dm- rooms");
    r.check();
    return { room, action, userId, type };
  },
  encode(v) {
    const j: JsonObject = { room: v.room, action: v.action, userId: v.userId };
    if (v.type !== "public") j.type = v.type;
    return j;
  },
};

export interface RoomMember {
  username: string;
  role: RoomRole;
}

function decodeRoomMember(j: Parameters<Codec<RoomMember>["decode"]>[0], path: string): RoomMember {
  const r = new Reader(expectObject(j, path), path);
  const username = r.user("username", Need.Required);
  const role = r.str("role", Need.NonEmpty);
  let out: RoomRole = "member";
  if (r.ok) {
    if (role === "owner" || role === "admin" || role === "member") out = role;
    else r.fail("role", "must be owner, admin or member");
  }
  r.check();
  return { username, role: out };
}

export const RoomMemberCodec: Codec<RoomMember> = {
  type: "RoomMember",
  decode: decodeRoomMember,
  encode: (v) => ({ username: v.username, role: v.role }),
};

export interface RoomInfo {
  name: string;
  displayName: string;
  creator: string;
  type: RoomType;
  memberCount: number;
  members: RoomMember[];
}

function decodeRoomInfo(j: Parameters<Codec<RoomInfo>["decode"]>[0], path: string): RoomInfo {
  const r = new Reader(expectObject(j, path), path);
  const name = r.room("name", Need.Required);
  const displayName = r.str("displayName", Need.Optional, kMaxDisplayNameBytes);
  const creator = r.user("creator", Need.Required);
  const type = readRoomType(r, Need.Required);
  const memberCount = r.int("memberCount", Need.Optional, 0);
  let members: RoomMember[] = [];
  const mj = r.find("members", Need.Optional);
  if (mj !== undefined) {
    r.checkNested("members", () => {
      members = decodeArray(mj, r.sub("members"), decodeRoomMember);
    });
  }
  r.check();
  return { name, displayName, creator, type, memberCount, members };
}

function encodeRoomInfo(v: RoomInfo): JsonObject {
  const j: JsonObject = { name: v.name };
  putStr(j, "displayName", v.displayName);
  j.creator = v.creator;
  j.type = v.type;
  putInt(j, "memberCount", v.memberCount);
  if (v.members.length > 0)
    j.members = v.members.map((m) => ({ username: m.username, role: m.role }));
  return j;
}

export const RoomInfoCodec: Codec<RoomInfo> = {
  type: "RoomInfo",
  decode: decodeRoomInfo,
  encode: encodeRoomInfo,
};

// {"<key>"?} bodies whose only field is the (optional) acting user.
function userOnlyCodec<K extends string>(type: string, key: K): Codec<Record<K, string>> {
  return {
    type,
    allowEmpty: true,
    decode(j, path) {
      const r = new Reader(expectObject(j, path), path);
      const user = r.user(key, Need.Optional);
      r.check();
      return { [key]: user } as Record<K, string>;
    },
    encode(v) {
      const j: JsonObject = {};
      putStr(j, key, v[key]);
      return j;
    },
  };
}

export type RoomMembershipRequest = { userId: string };
export const RoomMembershipRequestCodec = userOnlyCodec("RoomMembershipRequest", "userId");
export type RoomListRequest = { user: string };
export const RoomListRequestCodec = userOnlyCodec("RoomListRequest", "user");
export type RoomDepartRequest = { user: string };
export const RoomDepartRequestCodec = userOnlyCodec("RoomDepartRequest", "user");

export interface RoomCreateRequest {
  name: string;
  displayName: string;
  user: string;
}

export const RoomCreateRequestCodec: Codec<RoomCreateRequest> = {
  type: "RoomCreateRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const name = r.room("name", Need.Required);
    if (r.ok && isReservedRoomName(name)) {
      r.fail("name", "is reserved (general, random, help, __admin__ or dm-…)");
    }
    const displayName = r.str("displayName", Need.Optional, kMaxDisplayNameBytes);
    const user = r.user("user", Need.Optional);
    r.check();
    return { name, displayName, user };
  },
  encode(v) {
    const j: JsonObject = { name: v.name };
    putStr(j, "displayName", v.displayName);
    putStr(j, "user", v.user);
    return j;
  },
};

export interface RoomTargetRequest {
  target: string;
  user: string;
}

export const RoomTargetRequestCodec: Codec<RoomTargetRequest> = {
  type: "RoomTargetRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const target = r.user("target", Need.Required);
    const user = r.user("user", Need.Optional);
    r.check();
    return { target, user };
  },
  encode(v) {
    const j: JsonObject = { target: v.target };
    putStr(j, "user", v.user);
    return j;
  },
};

export interface RoomListReply {
  rooms: RoomInfo[];
}

export const RoomListReplyCodec: Codec<RoomListReply> = {
  type: "RoomListReply",
  decode: (j, path) => ({ rooms: decodeArray(j, path, decodeRoomInfo) }),
  encode: (v) => v.rooms.map(encodeRoomInfo),
};

/** room.members.{room} (services only); `type` absent = room-service could not tell. */
export interface RoomMembersReply {
  users: string[];
  type?: RoomType;
}

export const RoomMembersReplyCodec: Codec<RoomMembersReply> = {
  type: "RoomMembersReply",
  decode: (j, path) => {
    const o = expectObject(j, path);
    if (!("users" in o)) throw new ValidationError(`${path}.users: is required`);
    const users = decodeArray(o.users, `${path}.users`, (e, p) => {
      if (typeof e !== "string") throw new ValidationError(`${p}: must be a string`);
      if (usernameProblem(e) !== null) throw new ValidationError(`${p}: is not a valid username`);
      return e;
    });
    const r = new Reader(o, path);
    const present = o.type !== undefined && o.type !== null;
    const type = present ? readRoomType(r, Need.NonEmpty) : undefined;
    r.check();
    return type === undefined ? { users } : { users, type };
  },
  encode: (v) => {
    const j: JsonObject = { users: [...v.users] };
    if (v.type !== undefined) j.type = v.type;
    return j;
  },
};

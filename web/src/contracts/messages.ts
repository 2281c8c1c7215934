// Message-path wire types (libs/contracts messages.hpp/.cpp; system.md §3.2, §3.3.2): ChatMessage,
// Notification, MsgGetRequest, HistoryRequest, HistoryMessage, HistoryPage, HistoryThreadReply,
// DmListReply. Same validation rules and canonical key order as the C++ codecs.
import {
  isDmRoom,
  kMaxTextBytes,
  kSystemUser,
  parseThreadId,
  roomKeyProblem,
  usernameProblem,
  ValidationError,
} from "./ids";
import {
  type Codec,
  decodeArray,
  expectObject,
  isObject,
  type Json,
  type JsonObject,
  kMaxUrlBytes,
  Need,
  putBool,
  putInt,
  putStr,
  putStrList,
  Reader,
} from "./reader";

export type MessageAction = "send" | "edit" | "delete" | "react" | "system";

const kMaxEmojiBytes = 64;
const kMaxMentions = 100;
export const kDefaultHistoryLimit = 25;
export const kMaxHistoryLimit = 100;

/** Wire `action` → MessageAction; absent/"" is send; anything else (also "send") is invalid. */
export function messageActionFromWire(wire: string): MessageAction | null {
  switch (wire) {
    case "":
      return "send";
    case "edit":
    case "delete":
    case "react":
    case "system":
      return wire;
    default:
      return null;
  }
}

export interface ChatMessage {
  user: string;
  text: string;
  timestamp: number;
  room: string;
  threadId: string;
  parentTimestamp: number;
  broadcast: boolean;
  action: MessageAction;
  emoji: string;
  targetUser: string;
  mentions: string[];
  stickerUrl: string;
}

export function chatMessage(
  fields: Pick<ChatMessage, "user" | "timestamp" | "room"> & Partial<ChatMessage>,
): ChatMessage {
  return {
    text: "",
    threadId: "",
    parentTimestamp: 0,
    broadcast: false,
    action: "send",
    emoji: "",
    targetUser: "",
    mentions: [],
    stickerUrl: "",
    ...fields,
  };
}

// Thread fields shared by ChatMessage, Notification and HistoryMessage.
function readThread(
  r: Reader,
  room: string,
  withParent: boolean,
): { threadId: string; parentTimestamp: number } {
  const threadId = r.str("threadId", Need.Optional);
  const parentTimestamp = withParent ? r.int("parentTimestamp", Need.Optional, 0) : 0;
  if (!r.ok) return { threadId, parentTimestamp };
  if (threadId !== "") {
    let parsed: { room: string; parentTimestamp: number };
    try {
      parsed = parseThreadId(threadId);
    } catch (e) {
      r.checkValid("threadId", (e as Error).message);
      return { threadId, parentTimestamp };
    }
    if (room !== "" && parsed.room !== room) {
      r.fail("threadId", "does not belong to the message's room");
    } else if (withParent && parentTimestamp !== 0 && parsed.parentTimestamp !== parentTimestamp) {
      r.fail("parentTimestamp", "does not match threadId");
    }
  } else if (withParent && parentTimestamp !== 0) {
    r.fail("threadId", "is required when parentTimestamp is set");
  }
  return { threadId, parentTimestamp };
}

function decodeChatMessage(j: Json, path: string): ChatMessage {
  const o = expectObject(j, path);
  const r = new Reader(o, path);
  const user = r.user("user", Need.Required);
  const text = r.str("text", Need.Optional, kMaxTextBytes);
  const timestamp = r.int("timestamp", Need.Required, 1);
  const room = r.room("room", Need.Required);
  const { threadId, parentTimestamp } = readThread(r, room, true);
  const broadcast = r.bool("broadcast", Need.Optional);
  const actionWire = r.str("action", Need.Optional);
  let action: MessageAction = "send";
  if (r.ok) {
    const a = messageActionFromWire(actionWire);
    if (a !== null) action = a;
    else r.fail("action", "must be absent, edit, delete, react or system");
  }
  const emoji = r.str("emoji", Need.Optional, kMaxEmojiBytes);
  const targetUser = r.user("targetUser", Need.Optional);
  const mentions = r.strList("mentions", Need.Optional, kMaxMentions);
  for (const u of mentions) {
    if (!r.ok) break;
    if (usernameProblem(u) !== null) r.fail("mentions", "contains an invalid username");
  }
  const stickerUrl = r.str("stickerUrl", Need.Optional, kMaxUrlBytes);
  r.check();

  const systemUser = user === kSystemUser;
  if (systemUser !== (action === "system")) {
    r.fail("action", "system is used exactly by user __system__");
  }
  switch (action) {
    case "send":
      if (text === "" && stickerUrl === "") r.fail("text", "or stickerUrl is required");
      break;
    case "edit":
    case "system":
      if (text === "") r.fail("text", "is required for this action");
      break;
    case "react":
      if (emoji === "") r.fail("emoji", "is required for react");
      if (targetUser === "") r.fail("targetUser", "is required for react");
      break;
    case "delete":
      break;
  }
  r.check();
  return {
    user,
    text,
    timestamp,
    room,
    threadId,
    parentTimestamp,
    broadcast,
    action,
    emoji,
    targetUser,
    mentions,
    stickerUrl,
  };
}

function encodeChatMessage(m: ChatMessage): Json {
  const j: JsonObject = {};
  j.user = m.user;
  putStr(j, "text", m.text);
  j.timestamp = m.timestamp;
  j.room = m.room;
  putStr(j, "threadId", m.threadId);
  putInt(j, "parentTimestamp", m.parentTimestamp);
  putBool(j, "broadcast", m.broadcast);
  if (m.action !== "send") j.action = m.action;
  putStr(j, "emoji", m.emoji);
  putStr(j, "targetUser", m.targetUser);
  putStrList(j, "mentions", m.mentions);
  putStr(j, "stickerUrl", m.stickerUrl);
  return j;
}

export const ChatMessageCodec: Codec<ChatMessage> = {
  type: "ChatMessage",
  decode: decodeChatMessage,
  encode: encodeChatMessage,
};

export interface Notification {
  notifyId: string;
  room: string;
  action: MessageAction; // "send" is "message" on the wire
  user: string;
  timestamp: number;
  threadId: string;
  emoji: string;
  targetUser: string;
}

export const NotificationCodec: Codec<Notification> = {
  type: "Notification",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const notifyId = r.str("notifyId", Need.NonEmpty);
    const room = r.room("room", Need.Required);
    const actionWire = r.str("action", Need.NonEmpty);
    let action: MessageAction = "send";
    if (r.ok) {
      const a =
        actionWire === "message"
          ? "send"
          : actionWire === ""
            ? null
            : messageActionFromWire(actionWire);
      if (a !== null) action = a;
      else r.fail("action", "must be message, edit, delete, react or system");
    }
    const user = r.user("user", Need.Required);
    const timestamp = r.int("timestamp", Need.Optional, 0);
    const { threadId } = readThread(r, room, false);
    const emoji = r.str("emoji", Need.Optional, kMaxEmojiBytes);
    const targetUser = r.user("targetUser", Need.Optional);
    if (r.ok && /[ \t\r\n*>]/.test(notifyId))
      r.fail("notifyId", "contains whitespace or wildcards");
    r.check();
    return { notifyId, room, action, user, timestamp, threadId, emoji, targetUser };
  },
  encode(n) {
    const j: JsonObject = {};
    j.notifyId = n.notifyId;
    j.room = n.room;
    j.action = n.action === "send" ? "message" : n.action;
    j.user = n.user;
    putInt(j, "timestamp", n.timestamp);
    putStr(j, "threadId", n.threadId);
    putStr(j, "emoji", n.emoji);
    putStr(j, "targetUser", n.targetUser);
    return j;
  },
};

export interface MsgGetRequest {
  notifyId: string;
  room: string;
}

export const MsgGetRequestCodec: Codec<MsgGetRequest> = {
  type: "MsgGetRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const notifyId = r.str("notifyId", Need.NonEmpty);
    const room = r.room("room", Need.Optional);
    r.check();
    return { notifyId, room };
  },
  encode(v) {
    const j: JsonObject = { notifyId: v.notifyId };
    putStr(j, "room", v.room);
    return j;
  },
};

export interface HistoryRequest {
  before: number; // 0 = newest page
  limit: number; // 0 = default (25)
}

export const HistoryRequestCodec: Codec<HistoryRequest> = {
  type: "HistoryRequest",
  allowEmpty: true,
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const before = r.int("before", Need.Optional, 0);
    const limit = r.int("limit", Need.Optional, 1);
    if (r.ok && limit > kMaxHistoryLimit) r.fail("limit", `must be <= ${kMaxHistoryLimit}`);
    r.check();
    return { before, limit };
  },
  encode(v) {
    const j: JsonObject = {};
    putInt(j, "before", v.before);
    putInt(j, "limit", v.limit);
    return j;
  },
};

export interface Reaction {
  emoji: string;
  users: string[];
}

export interface HistoryMessage {
  user: string;
  text: string;
  timestamp: number;
  room: string;
  threadId: string;
  parentTimestamp: number;
  replyCount: number;
  isDeleted: boolean;
  editedAt: number;
  reactions: Reaction[];
  stickerUrl: string;
}

function decodeHistoryMessage(j: Json, path: string): HistoryMessage {
  const r = new Reader(expectObject(j, path), path);
  const user = r.user("user", Need.Required);
  const text = r.str("text", Need.Required, kMaxTextBytes);
  const timestamp = r.int("timestamp", Need.Required, 1);
  const room = r.room("room", Need.Required);
  const { threadId, parentTimestamp } = readThread(r, room, true);
  const replyCount = r.int("replyCount", Need.Optional, 0);
  const isDeleted = r.bool("isDeleted", Need.Optional);
  const editedAt = r.int("editedAt", Need.Optional, 0);
  const reactions: Reaction[] = [];
  const rj = r.find("reactions", Need.Optional);
  if (rj !== undefined) {
    if (!isObject(rj)) {
      r.fail("reactions", "must be an object of emoji to usernames");
    } else {
      for (const emoji of Object.keys(rj)) {
        if (emoji === "" || new TextEncoder().encode(emoji).length > kMaxEmojiBytes) {
          r.fail("reactions", "has an empty or over-long emoji key");
          break;
        }
        const ur = new Reader(rj, r.sub("reactions"));
        const list = ur.strList(emoji, Need.Required);
        if (!ur.ok) {
          r.fail("reactions", "must map each emoji to an array of usernames");
          break;
        }
        reactions.push({ emoji, users: list });
      }
    }
  }
  const stickerUrl = r.str("stickerUrl", Need.Optional, kMaxUrlBytes);
  if (r.ok && isDeleted && text !== "") r.fail("text", "must be empty when isDeleted");
  r.check();
  return {
    user,
    text,
    timestamp,
    room,
    threadId,
    parentTimestamp,
    replyCount,
    isDeleted,
    editedAt,
    reactions,
    stickerUrl,
  };
}

function encodeHistoryMessage(m: HistoryMessage): Json {
  const j: JsonObject = {};
  j.user = m.user;
  j.text = m.text;
  j.timestamp = m.timestamp;
  j.room = m.room;
  putStr(j, "threadId", m.threadId);
  putInt(j, "parentTimestamp", m.parentTimestamp);
  putInt(j, "replyCount", m.replyCount);
  putBool(j, "isDeleted", m.isDeleted);
  putInt(j, "editedAt", m.editedAt);
  if (m.reactions.length > 0) {
    const o: JsonObject = {};
    for (const reaction of m.reactions) o[reaction.emoji] = [...reaction.users];
    j.reactions = o;
  }
  putStr(j, "stickerUrl", m.stickerUrl);
  return j;
}

export const HistoryMessageCodec: Codec<HistoryMessage> = {
  type: "HistoryMessage",
  decode: decodeHistoryMessage,
  encode: encodeHistoryMessage,
};

export interface HistoryPage {
  messages: HistoryMessage[];
  hasMore: boolean;
}

export const HistoryPageCodec: Codec<HistoryPage> = {
  type: "HistoryPage",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    let messages: HistoryMessage[] = [];
    const mj = r.find("messages", Need.Required);
    if (mj !== undefined) {
      r.checkNested("messages", () => {
        messages = decodeArray(mj, r.sub("messages"), decodeHistoryMessage);
      });
    }
    const hasMore = r.bool("hasMore", Need.Required);
    r.check();
    return { messages, hasMore };
  },
  encode(v) {
    return { messages: v.messages.map(encodeHistoryMessage), hasMore: v.hasMore };
  },
};

export interface HistoryThreadReply {
  messages: HistoryMessage[];
}

export const HistoryThreadReplyCodec: Codec<HistoryThreadReply> = {
  type: "HistoryThreadReply",
  decode(j, path) {
    return { messages: decodeArray(j, path, decodeHistoryMessage) };
  },
  encode(v) {
    return v.messages.map(encodeHistoryMessage);
  },
};

export interface DmListReply {
  rooms: string[];
}

export const DmListReplyCodec: Codec<DmListReply> = {
  type: "DmListReply",
  decode(j, path) {
    return {
      rooms: decodeArray(j, path, (e, p) => {
        if (typeof e !== "string") throw new ValidationError(`${p}: must be a string`);
        if (!isDmRoom(e) || roomKeyProblem(e) !== null) {
          throw new ValidationError(`${p}: is not a valid DM room key`);
        }
        return e;
      }),
    };
  },
  encode(v) {
    return [...v.rooms];
  },
};

/** The same-origin path the sticker set is served from (CHAT_FANOUT_STICKER_BASE_URL's default). */
export const kStickerBasePath = "/stickers/";

/**
 * libs/contracts IsAllowedStickerUrl: `url` names an image under `base` — a relative path of
 * [A-Za-z0-9._-] segments with no "..", query or fragment. The client renders nothing else, so a
 * stickerUrl that slipped past the server could still not make this browser fetch a foreign URL.
 */
export function isAllowedStickerUrl(url: string, base: string = kStickerBasePath): boolean {
  if (base === "" || !base.endsWith("/") || url.length <= base.length || !url.startsWith(base))
    return false;
  const rest = url.slice(base.length);
  if (rest.length > 256) return false;
  return rest
    .split("/")
    .every((seg) => seg !== "" && seg !== "." && seg !== ".." && /^[A-Za-z0-9._-]+$/.test(seg));
}

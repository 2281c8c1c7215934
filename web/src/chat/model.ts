// The client-side chat model: rooms, their timelines, threads, presence and unread counts, and
// the pure functions that apply history pages and live messages to it (system.md §3.5, §7.4,
// §7.5). Messages are keyed "{timestamp}-{author}" (contracts messageId); edits, deletes and
// reactions address that key. Kept free of React and NATS so it can be unit-tested.
import type { ChatMessage, HistoryMessage, Reaction } from "../contracts/messages";
import type { PresenceStatus } from "../contracts/presence";
import type { RoomMember } from "../contracts/rooms";
import { dmPeer, isAdminRoom, isDmRoom, kSystemUser, messageId } from "../contracts/ids";

export type RoomKind = "public" | "private" | "dm" | "admin";
export type DeliveryState = "pending" | "sent" | "failed";

export interface MessageView {
  key: string;
  user: string;
  text: string;
  timestamp: number;
  room: string;
  threadId: string;
  edited: boolean;
  deleted: boolean;
  reactions: Reaction[];
  replyCount: number;
  stickerUrl: string;
  system: boolean;
  state: DeliveryState;
}

export interface RoomView {
  key: string;
  kind: RoomKind;
  displayName: string;
  messages: MessageView[];
  historyLoaded: boolean;
  hasMore: boolean;
  loadingMore: boolean;
  unread: number;
  lastRead: number;
  presence: Record<string, PresenceStatus>;
  members: RoomMember[] | null;
  joined: boolean;
}

export interface ThreadView {
  threadId: string;
  room: string;
  parentTimestamp: number;
  messages: MessageView[];
  loaded: boolean;
}

export const kDefaultRooms = ["general", "random", "help"];
export const kMaxLiveMessages = 200;
export const kReactionEmojis = ["👍", "👎", "❤️", "😂", "😮", "😢", "🎉", "🔥"];

export function roomKindOf(key: string, type?: string): RoomKind {
  if (isAdminRoom(key)) return "admin";
  if (isDmRoom(key)) return "dm";
  return type === "private" ? "private" : "public";
}

export function newRoom(key: string, kind: RoomKind, displayName = ""): RoomView {
  return {
    key,
    kind,
    displayName,
    messages: [],
    historyLoaded: false,
    hasMore: false,
    loadingMore: false,
    unread: 0,
    lastRead: 0,
    presence: {},
    members: null,
    joined: false,
  };
}

/** What the sidebar and header show for a room. */
export function roomLabel(
  room: Pick<RoomView, "key" | "kind" | "displayName">,
  me: string,
): string {
  if (room.kind === "admin") return "admin-channel";
  if (room.kind === "dm") return dmPeer(room.key, me) ?? room.key;
  return room.displayName || room.key;
}

export function fromHistory(m: HistoryMessage): MessageView {
  return {
    key: messageId(m.timestamp, m.user),
    user: m.user,
    text: m.isDeleted ? "" : m.text,
    timestamp: m.timestamp,
    room: m.room,
    threadId: m.threadId,
    edited: m.editedAt > 0,
    deleted: m.isDeleted,
    reactions: m.reactions.map((r) => ({ emoji: r.emoji, users: [...r.users] })),
    replyCount: m.replyCount,
    stickerUrl: m.isDeleted ? "" : m.stickerUrl,
    system: m.user === kSystemUser,
    state: "sent",
  };
}

export function fromChat(m: ChatMessage, state: DeliveryState = "sent"): MessageView {
  return {
    key: messageId(m.timestamp, m.user),
    user: m.user,
    text: m.text,
    timestamp: m.timestamp,
    room: m.room,
    threadId: m.threadId,
    edited: false,
    deleted: false,
    reactions: [],
    replyCount: 0,
    stickerUrl: m.stickerUrl,
    system: m.action === "system",
    state,
  };
}

function byTime(a: MessageView, b: MessageView): number {
  return a.timestamp - b.timestamp || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0);
}

/** Inserts or replaces (same key) and keeps timestamp order; a confirmed copy replaces a pending one. */
export function upsertMessage(list: MessageView[], m: MessageView): MessageView[] {
  const i = list.findIndex((x) => x.key === m.key);
  if (i >= 0) {
    const old = list[i]!;
    const merged: MessageView = {
      ...m,
      // History knows reactions/edits/replies the live copy does not; never lose them.
      reactions: m.reactions.length ? m.reactions : old.reactions,
      replyCount: Math.max(m.replyCount, old.replyCount),
      edited: m.edited || old.edited,
      deleted: m.deleted || old.deleted,
      text: m.deleted || old.deleted ? "" : m.text,
    };
    const out = [...list];
    out[i] = merged;
    return out;
  }
  const out = [...list, m];
  out.sort(byTime);
  return out;
}

/** Merges an older history page in front of what is loaded (dedup by key). */
export function mergeHistory(list: MessageView[], page: MessageView[]): MessageView[] {
  const out = [...list];
  for (const m of page) {
    if (!out.some((x) => x.key === m.key)) out.push(m);
  }
  out.sort(byTime);
  return out;
}

export function capLive(list: MessageView[], keepAtLeast = 0): MessageView[] {
  const cap = Math.max(kMaxLiveMessages, keepAtLeast);
  return list.length > cap ? list.slice(list.length - cap) : list;
}

/** Applies an edit/delete/reaction to the message `key` of `list`; null when absent. */
export function applyUpdate(
  list: MessageView[],
  key: string,
  update:
    | { action: "edit"; text: string }
    | { action: "delete" }
    | { action: "react"; emoji: string; user: string },
): MessageView[] | null {
  const i = list.findIndex((x) => x.key === key);
  if (i < 0) return null;
  const m = { ...list[i]! };
  switch (update.action) {
    case "edit":
      if (m.deleted) return list;
      m.text = update.text;
      m.edited = true;
      break;
    case "delete":
      m.deleted = true;
      m.text = "";
      m.stickerUrl = "";
      m.reactions = [];
      break;
    case "react":
      m.reactions = toggleReaction(m.reactions, update.emoji, update.user);
      break;
  }
  const out = [...list];
  out[i] = m;
  return out;
}

export function toggleReaction(reactions: Reaction[], emoji: string, user: string): Reaction[] {
  const out = reactions.map((r) => ({ emoji: r.emoji, users: [...r.users] }));
  const r = out.find((x) => x.emoji === emoji);
  if (!r) {
    out.push({ emoji, users: [user] });
    return out;
  }
  r.users = r.users.includes(user) ? r.users.filter((u) => u !== user) : [...r.users, user];
  return out.filter((x) => x.users.length > 0);
}

/** Unique @name tokens in order of appearance (system.md §7.7; word chars and dashes). */
export function extractMentions(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/@([\w-]+)/g)) {
    const name = m[1]!;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** Sanitises a typed room name to lowercase [a-z0-9-] (system.md §7.2). */
export function sanitizeRoomName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/\s+/g, "-")
    .replace(/[^a-z0-9-]/g, "");
}

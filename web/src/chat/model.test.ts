// The pure chat model: how history pages, live messages and changes combine (system.md §3.5, §7.4).
import { describe, expect, it } from "vitest";
import { chatMessage, type HistoryMessage } from "../contracts/messages";
import {
  applyUpdate,
  extractMentions,
  fromChat,
  fromHistory,
  mergeHistory,
  roomKindOf,
  roomLabel,
  sanitizeRoomName,
  toggleReaction,
  upsertMessage,
} from "./model";

function hist(
  ts: number,
  user: string,
  text: string,
  extra: Partial<HistoryMessage> = {},
): HistoryMessage {
  return {
    user,
    text,
    timestamp: ts,
    room: "general",
    threadId: "",
    parentTimestamp: 0,
    replyCount: 0,
    isDeleted: false,
    editedAt: 0,
    reactions: [],
    stickerUrl: "",
    ...extra,
  };
}

describe("chat model", () => {
  it("keeps timestamp order and replaces a pending copy by the confirmed one", () => {
    const pending = fromChat(
      chatMessage({ user: "alice", text: "hi", timestamp: 20, room: "general" }),
      "pending",
    );
    let list = upsertMessage([], pending);
    list = upsertMessage(list, fromHistory(hist(10, "bob", "first")));
    expect(list.map((m) => m.key)).toEqual(["10-bob", "20-alice"]);
    list = upsertMessage(
      list,
      fromChat(chatMessage({ user: "alice", text: "hi", timestamp: 20, room: "general" })),
    );
    expect(list).toHaveLength(2);
    expect(list[1]!.state).toBe("sent");
  });

  it("merges older pages without duplicates", () => {
    const live = [fromHistory(hist(30, "bob", "c"))];
    const merged = mergeHistory(live, [
      fromHistory(hist(10, "bob", "a")),
      fromHistory(hist(30, "bob", "c")),
    ]);
    expect(merged.map((m) => m.timestamp)).toEqual([10, 30]);
  });

  it("applies edit, delete and reaction toggles by message key", () => {
    let list = [
      fromHistory(hist(10, "bob", "hello", { reactions: [{ emoji: "👍", users: ["carol"] }] })),
    ];
    list = applyUpdate(list, "10-bob", { action: "edit", text: "hello!" })!;
    expect(list[0]).toMatchObject({ text: "hello!", edited: true });
    list = applyUpdate(list, "10-bob", { action: "react", emoji: "👍", user: "alice" })!;
    expect(list[0]!.reactions).toEqual([{ emoji: "👍", users: ["carol", "alice"] }]);
    list = applyUpdate(list, "10-bob", { action: "react", emoji: "👍", user: "carol" })!;
    list = applyUpdate(list, "10-bob", { action: "react", emoji: "👍", user: "alice" })!;
    expect(list[0]!.reactions).toEqual([]);
    list = applyUpdate(list, "10-bob", { action: "delete" })!;
    expect(list[0]).toMatchObject({ deleted: true, text: "" });
    expect(applyUpdate(list, "11-bob", { action: "delete" })).toBeNull();
  });

  it("shows deleted history rows without text", () => {
    expect(fromHistory(hist(10, "bob", "", { isDeleted: true }))).toMatchObject({
      deleted: true,
      text: "",
    });
    expect(fromHistory(hist(10, "bob", "x", { editedAt: 12 })).edited).toBe(true);
  });

  it("toggles reactions in order", () => {
    expect(toggleReaction([], "🎉", "a")).toEqual([{ emoji: "🎉", users: ["a"] }]);
  });

  it("extracts unique mentions and sanitises room names", () => {
    expect(extractMentions("hi @alice and @bob-2, @alice again")).toEqual(["alice", "bob-2"]);
    expect(sanitizeRoomName("  My Room_1! ")).toBe("my-room1");
  });

  it("labels rooms", () => {
    expect(roomKindOf("__admin__")).toBe("admin");
    expect(roomKindOf("dm-alice-bob")).toBe("dm");
    expect(roomKindOf("x", "private")).toBe("private");
    expect(roomLabel({ key: "dm-alice-bob", kind: "dm", displayName: "" }, "alice")).toBe("bob");
    expect(roomLabel({ key: "__admin__", kind: "admin", displayName: "" }, "alice")).toBe(
      "admin-channel",
    );
  });
});

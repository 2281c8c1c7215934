// Subject builders and identifier rules, checked against the C++ rules (libs/contracts ids.cpp,
// natsx SubjectTemplate::Format) and the shared catalogue subjects.json.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  dmParticipants,
  dmPeer,
  dmRoomKey,
  isDmParticipant,
  messageId,
  parseThreadId,
  roomKeyProblem,
  threadId,
  usernameProblem,
  ValidationError,
} from "./ids";
import {
  formatSubject,
  inboxPrefix,
  matchesTemplate,
  parseSubject,
  placeholders,
  Subjects,
} from "./subjects";

describe("usernames (ValidateUsername)", () => {
  it.each(["alice", "bob-2", "a_b", "x".repeat(64), "ünï"])("accepts %s", (u) => {
    expect(usernameProblem(u)).toBeNull();
  });
  it.each([
    ["", "username is empty"],
    ["x".repeat(65), "longer than 64 bytes"],
    ["ü".repeat(33), "longer than 64 bytes"],
    ["a.b", "'.'"],
    ["a*", "'*'"],
    ["a>", "'>'"],
    ["a b", "whitespace"],
    ["a\tb", "whitespace"],
  ])("rejects %j", (u, why) => {
    expect(usernameProblem(u)).toContain(why);
  });
});

describe("room keys (ValidateRoomKey)", () => {
  it.each(["general", "a-1", "__admin__", "__admin__chat", "dm-alice-bob", "x".repeat(64)])(
    "accepts %s",
    (r) => {
      expect(roomKeyProblem(r)).toBeNull();
    },
  );
  it.each([
    ["", "empty"],
    ["General", "[a-z0-9-]"],
    ["a.b", "[a-z0-9-]"],
    ["a*", "[a-z0-9-]"],
    ["a_b", "[a-z0-9-]"],
    ["x".repeat(65), "longer than 64"],
    ["dm-bob-alice", "sorted"],
    ["dm-alice", "sorted"],
  ])("rejects %j", (r, why) => {
    expect(roomKeyProblem(r)).toContain(why);
  });
  it("refuses ambiguous DM keys instead of letting two pairs share a room", () => {
    // a / b-c and a-b / c both sort: ambiguous.
    expect(roomKeyProblem("dm-a-b-c")).toContain("ambiguous");
    expect(() => dmRoomKey("a", "b-c")).toThrow(ValidationError);
  });
  it("builds DM keys sorted by bytes, both sides alike", () => {
    expect(dmRoomKey("bob", "alice")).toBe("dm-alice-bob");
    expect(dmRoomKey("alice", "bob")).toBe("dm-alice-bob");
    expect(dmParticipants("dm-alice-bob")).toEqual(["alice", "bob"]);
    expect(isDmParticipant("dm-alice-bob", "bob")).toBe(true);
    expect(isDmParticipant("dm-alice-bob", "carol")).toBe(false);
    expect(dmPeer("dm-alice-bob", "alice")).toBe("bob");
    expect(() => dmRoomKey("a.b", "c")).toThrow(/'.'/);
  });
});

describe("thread and message ids", () => {
  it("formats and parses", () => {
    expect(threadId("general", 1740650000123)).toBe("general-1740650000123");
    expect(parseThreadId("dm-alice-bob-17")).toEqual({ room: "dm-alice-bob", parentTimestamp: 17 });
    expect(messageId(1740650000123, "bob")).toBe("1740650000123-bob");
  });
  it.each([
    "general",
    "general-",
    "general-x1",
    "Gen-1",
    "general-0",
    "general-1234567890123456789",
  ])("rejects %j", (t) => {
    expect(() => parseThreadId(t)).toThrow(ValidationError);
  });
});

describe("subject builders", () => {
  it("fill templates with validated tokens", () => {
    expect(formatSubject(Subjects.deliverSend, { user: "alice", room: "general" })).toBe(
      "deliver.alice.send.general",
    );
    expect(
      formatSubject(Subjects.deliverSendThread, {
        user: "alice",
        room: "general",
        thread_id: "general-17",
      }),
    ).toBe("deliver.alice.send.general.thread.general-17");
    expect(formatSubject(Subjects.roomJoin, { room: "__admin__chat", user: "alice" })).toBe(
      "room.join.__admin__chat.alice",
    );
    expect(formatSubject(Subjects.msgGet)).toBe("msg.get");
    expect(inboxPrefix("alice")).toBe("_INBOX.alice");
  });
  it.each([
    [Subjects.deliverSend, { user: "bob.x", room: "general" }, "user"],
    [Subjects.deliverSend, { user: "bob", room: "gen.eral" }, "room"],
    [Subjects.deliverSend, { user: "bob", room: ">" }, "room"],
    [Subjects.deliverSend, { user: "*", room: "general" }, "user"],
    [Subjects.deliverSend, { user: "bob", room: "General" }, "room"],
    [Subjects.deliverSend, { user: "bob" }, "missing: room"],
    [Subjects.roomJoin, { room: "general", user: "" }, "user"],
    [
      Subjects.deliverSendThread,
      { user: "bob", room: "general", thread_id: "general" },
      "thread_id",
    ],
    [Subjects.inbox, { user: "a b" }, "user"],
  ])("refuse %s with %j", (tmpl, args, name) => {
    let err: unknown;
    try {
      formatSubject(tmpl, args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toContain(name);
    // The message names the placeholder, never the value.
    for (const v of Object.values(args))
      if (v.length > 1) expect((err as Error).message).not.toContain(v);
  });
  it("match and parse concrete subjects", () => {
    expect(matchesTemplate(Subjects.deliverNotify, "deliver.bob.notify.dm-alice-bob")).toBe(true);
    expect(matchesTemplate(Subjects.deliverNotify, "deliver.bob.admin.chat")).toBe(false);
    expect(parseSubject(Subjects.deliverAdmin, "deliver.bob.admin.chat")).toEqual({
      user: "bob",
      room: "chat",
    });
    expect(placeholders(Subjects.deliverSendThread)).toEqual(["user", "room", "thread_id"]);
  });
  it("uses only templates of the shared catalogue (libs/contracts/subjects.json)", () => {
    const doc = JSON.parse(
      readFileSync(resolve(__dirname, "../../../libs/contracts/subjects.json"), "utf8"),
    ) as {
      subjects: Array<{ template: string; publish_tiers: string[]; subscribe_tiers: string[] }>;
    };
    const catalogue = new Set(doc.subjects.map((s) => s.template));
    for (const t of Object.values(Subjects)) expect(catalogue, t).toContain(t);
  });
});

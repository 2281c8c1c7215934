// The bridge contract of system.md §8.2 with the repository's identity rule: names, the forced
// acting user, the 5 s deadline and teardown.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  AppEventHub,
  type AppTransport,
  appNameProblem,
  BridgeError,
  createBridge,
  kAppRequestTimeoutMs,
} from "./bridge";
import type { AppJson, AppJsonObject } from "./sdk";

interface Call {
  appId: string;
  room: string;
  action: string;
  body: AppJsonObject;
  timeoutMs: number;
}

class FakeTransport implements AppTransport {
  calls: Call[] = [];
  reply: () => Promise<AppJson> = async () => ({ ok: true });
  request(
    appId: string,
    room: string,
    action: string,
    body: AppJsonObject,
    timeoutMs: number,
  ): Promise<AppJson> {
    this.calls.push({ appId, room, action, body, timeoutMs });
    return this.reply();
  }
}

function setup() {
  const transport = new FakeTransport();
  const hub = new AppEventHub();
  const handle = createBridge({ appId: "poll", room: "general", user: "alice", transport, hub });
  return { transport, hub, handle, bridge: handle.bridge };
}

describe("app names", () => {
  it.each(["list", "vote", "stop-edit", "a_b", "x".repeat(64)])("accepts %s", (n) => {
    expect(appNameProblem(n)).toBeNull();
  });
  it.each(["", "a.b", "*", "a>", ">", "a b", "x".repeat(65), "{x}"])("rejects %j", (n) => {
    expect(appNameProblem(n)).not.toBeNull();
  });
  it("rejects non-strings", () => {
    expect(appNameProblem(42)).not.toBeNull();
    expect(appNameProblem(undefined)).not.toBeNull();
  });
});

describe("bridge.request", () => {
  it("exposes appId, room and user, and cannot be changed", () => {
    const { bridge } = setup();
    expect(bridge.appId).toBe("poll");
    expect(bridge.room).toBe("general");
    expect(bridge.user.username).toBe("alice");
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.isFrozen(bridge.user)).toBe(true);
    expect(() => {
      (bridge as { room: string }).room = "other";
    }).toThrow(TypeError);
  });

  it("sends the action with the data and the signed-in user, overriding any user in data", async () => {
    const { bridge, transport } = setup();
    await expect(
      bridge.request("vote", { pollId: "p1", optionIdx: 1, user: "mallory" }),
    ).resolves.toEqual({ ok: true });
    expect(transport.calls).toEqual([
      {
        appId: "poll",
        room: "general",
        action: "vote",
        body: { pollId: "p1", optionIdx: 1, user: "alice" },
        timeoutMs: kAppRequestTimeoutMs,
      },
    ]);
    await bridge.request("list");
    expect(transport.calls[1]!.body).toEqual({ user: "alice" });
  });

  it("does not touch the caller's data object", async () => {
    const { bridge } = setup();
    const data = { pollId: "p1", user: "mallory" };
    await bridge.request("close", data);
    expect(data.user).toBe("mallory");
  });

  it.each(["a.b", "*", "vote.>", "", "a b"])("refuses the action %j without sending", async (a) => {
    const { bridge, transport } = setup();
    await expect(bridge.request(a)).rejects.toMatchObject({ type: "invalid_name" });
    expect(transport.calls).toHaveLength(0);
  });

  it("refuses non-object data", async () => {
    const { bridge, transport } = setup();
    await expect(bridge.request("vote", [1, 2] as unknown as AppJsonObject)).rejects.toBeInstanceOf(
      BridgeError,
    );
    expect(transport.calls).toHaveLength(0);
  });

  it("returns error replies instead of throwing", async () => {
    const { bridge, transport } = setup();
    transport.reply = async () => ({
      error: { code: "failed_precondition", message: "poll is closed" },
    });
    await expect(bridge.request("vote", { pollId: "p" })).resolves.toEqual({
      error: { code: "failed_precondition", message: "poll is closed" },
    });
  });

  describe("deadline", () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it("rejects with a timeout after 5 s without a reply", async () => {
      const { bridge, transport } = setup();
      transport.reply = () => new Promise<AppJson>(() => {});
      const p = bridge.request("list");
      const seen = expect(p).rejects.toMatchObject({ type: "timeout" });
      await vi.advanceTimersByTimeAsync(kAppRequestTimeoutMs - 1);
      let settled = false;
      p.catch(() => {}).finally(() => (settled = true));
      await vi.advanceTimersByTimeAsync(0);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await seen;
    });

    it("a reply in time wins and clears the timer", async () => {
      const { bridge, transport } = setup();
      transport.reply = () => new Promise<AppJson>((r) => setTimeout(() => r([1]), 4000));
      const p = bridge.request("list");
      await vi.advanceTimersByTimeAsync(4000);
      await expect(p).resolves.toEqual([1]);
      expect(vi.getTimerCount()).toBe(0);
    });

    it("transport failures reject", async () => {
      const { bridge, transport } = setup();
      transport.reply = () => Promise.reject(new Error("no responders"));
      await expect(bridge.request("list")).rejects.toThrow("no responders");
    });
  });
});

describe("bridge.subscribe and teardown", () => {
  it("delivers events of its app and room only, until unsubscribed", () => {
    const { bridge, hub } = setup();
    const got: AppJson[] = [];
    const off = bridge.subscribe("updated", (p) => got.push(p));
    expect(hub.dispatch("poll", "general", "updated", { pollId: "a" })).toBe(1);
    expect(hub.dispatch("poll", "random", "updated", { pollId: "b" })).toBe(0);
    expect(hub.dispatch("kb", "general", "updated", { pollId: "c" })).toBe(0);
    expect(hub.dispatch("poll", "general", "other", { pollId: "d" })).toBe(0);
    off();
    off();
    expect(hub.dispatch("poll", "general", "updated", { pollId: "e" })).toBe(0);
    expect(got).toEqual([{ pollId: "a" }]);
    expect(hub.size).toBe(0);
  });

  it.each(["a.b", "*", ">", ""])("refuses the event name %j", (e) => {
    const { bridge, hub } = setup();
    expect(() => bridge.subscribe(e, () => {})).toThrow(BridgeError);
    expect(hub.size).toBe(0);
  });

  it("one failing callback does not stop the others", () => {
    const { bridge, hub } = setup();
    const got: string[] = [];
    bridge.subscribe("updated", () => {
      throw new Error("boom");
    });
    bridge.subscribe("updated", () => got.push("second"));
    expect(hub.dispatch("poll", "general", "updated", {})).toBe(2);
    expect(got).toEqual(["second"]);
  });

  it("dispose removes every subscription of the bridge and closes it", async () => {
    const { handle, bridge, hub, transport } = setup();
    const other = createBridge({ appId: "poll", room: "general", user: "alice", transport, hub });
    const got: string[] = [];
    bridge.subscribe("updated", () => got.push("a"));
    bridge.subscribe("closed", () => got.push("b"));
    other.bridge.subscribe("updated", () => got.push("other"));
    expect(hub.size).toBe(3);
    handle.dispose();
    expect(handle.closed).toBe(true);
    expect(hub.size).toBe(1);
    hub.dispatch("poll", "general", "updated", {});
    hub.dispatch("poll", "general", "closed", {});
    expect(got).toEqual(["other"]);
    await expect(bridge.request("list")).rejects.toMatchObject({ type: "closed" });
    expect(transport.calls).toHaveLength(0);
    // Subscribing after teardown registers nothing.
    bridge.subscribe("updated", () => got.push("late"));
    expect(hub.size).toBe(1);
  });

  it("a reply arriving after teardown is not handed to the app", async () => {
    const { handle, bridge, transport } = setup();
    let answer: (v: AppJson) => void = () => {};
    transport.reply = () => new Promise<AppJson>((r) => (answer = r));
    const p = bridge.request("list");
    handle.dispose();
    answer([]);
    await expect(p).rejects.toMatchObject({ type: "closed" });
  });
});

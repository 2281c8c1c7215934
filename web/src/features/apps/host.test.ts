// @vitest-environment jsdom
// Loading and mounting room apps in a DOM: same-origin component URLs only, setBridge called
// once, teardown removes the element (which may still send) before closing the bridge.
import { describe, expect, it } from "vitest";
import { AppEventHub, type AppTransport } from "./bridge";
import { appTag, ensureAppDefined, mountApp } from "./host";
import type { AppBridge, AppJson, AppJsonObject } from "./sdk";

class Recorder implements AppTransport {
  calls: string[] = [];
  async request(
    appId: string,
    room: string,
    action: string,
    body: AppJsonObject,
  ): Promise<AppJson> {
    expect([appId, room, body.user]).toEqual(["testapp", "general", "alice"]);
    this.calls.push(action);
    return { ok: true };
  }
}

let leftBridge: AppBridge | null = null;
class TestApp extends HTMLElement {
  bridge: AppBridge | null = null;
  setBridge(b: AppBridge): void {
    this.bridge = b;
    b.subscribe("updated", () => {});
  }
  disconnectedCallback(): void {
    leftBridge = this.bridge;
    void this.bridge?.request("stopedit", {}).catch(() => {});
  }
}
customElements.define(appTag("testapp"), TestApp);

describe("ensureAppDefined", () => {
  it("refuses a component URL of another origin and a bad app id without adding a script", async () => {
    await expect(ensureAppDefined("other", "https://evil.example/app.js")).rejects.toThrow(
      "not served by this site",
    );
    await expect(ensureAppDefined("a.b", "/apps/a/a-app.js")).rejects.toThrow("app id");
    expect(document.querySelectorAll("script").length).toBe(0);
  });

  it("does not load an app whose element is already defined", async () => {
    await ensureAppDefined("testapp", "/apps/testapp/testapp-app.js");
    expect(document.querySelectorAll("script").length).toBe(0);
  });
});

describe("mountApp", () => {
  it("mounts with a bridge and tears down element first, then the bridge", async () => {
    const container = document.createElement("div");
    document.body.append(container);
    const hub = new AppEventHub();
    const transport = new Recorder();
    const teardown = mountApp(container, {
      appId: "testapp",
      room: "general",
      user: "alice",
      transport,
      hub,
    });
    const el = container.querySelector(appTag("testapp")) as TestApp;
    expect(el.bridge?.appId).toBe("testapp");
    expect(el.bridge?.user.username).toBe("alice");
    expect(hub.size).toBe(1);
    teardown();
    expect(container.childElementCount).toBe(0);
    expect(hub.size).toBe(0);
    // The element's last request went out before the bridge closed; later ones are refused.
    expect(transport.calls).toEqual(["stopedit"]);
    await expect(leftBridge!.request("list")).rejects.toMatchObject({ type: "closed" });
  });

  it("refuses an element without setBridge and leaves nothing behind", () => {
    customElements.define(appTag("broken"), class extends HTMLElement {});
    const container = document.createElement("div");
    const hub = new AppEventHub();
    expect(() =>
      mountApp(container, {
        appId: "broken",
        room: "general",
        user: "alice",
        transport: new Recorder(),
        hub,
      }),
    ).toThrow("setBridge");
    expect(container.childElementCount).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "./config";

const base = {
  issuer: "http://127.0.0.1:8080/realms/nats-chat/",
  clientId: "nats-chat-app",
  natsUrl: "/nats",
  credentialsUrl: "/auth/v1/credentials",
  otlpTracesUrl: "/otlp/v1/traces",
  environment: "dev",
  version: "1.0.0",
};

describe("config.json", () => {
  it("resolves same-origin paths, including the NATS websocket", () => {
    const c = resolveConfig(base, "http://127.0.0.1:3000");
    expect(c.natsUrl).toBe("ws://127.0.0.1:3000/nats");
    expect(c.credentialsUrl).toBe("http://127.0.0.1:3000/auth/v1/credentials");
    expect(c.otlpTracesUrl).toBe("http://127.0.0.1:3000/otlp/v1/traces");
    expect(c.issuer).toBe("http://127.0.0.1:8080/realms/nats-chat");
    expect(resolveConfig(base, "https://chat.example").natsUrl).toBe("wss://chat.example/nats");
    expect(resolveConfig({ ...base, natsUrl: "ws://h:4223" }, "http://x").natsUrl).toBe(
      "ws://h:4223",
    );
  });
  it("names every missing field", () => {
    expect(() => resolveConfig({ issuer: "http://i" }, "http://x")).toThrow(
      /clientId, natsUrl, credentialsUrl, otlpTracesUrl, environment, version/,
    );
    expect(() => resolveConfig([], "http://x")).toThrow(ConfigError);
    expect(() => resolveConfig({ ...base, issuer: "/realms" }, "http://x")).toThrow(/absolute/);
  });
});

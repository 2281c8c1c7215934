// observability.md §5.5: a login is one trace — the browser's `login` root, the token POST to
// the identity provider, the credential POST whose context crosses to auth-service on the HTTP
// header, and `connect nats`.
import { test, expect } from "@playwright/test";
import { ChatPage } from "../lib/chat-page.js";
import { childrenOf, getTrace, searchTraces, type SinkTrace } from "../lib/sink.js";
import { waitFor } from "../lib/wait.js";

test("a login is one trace from the browser through auth-service to the NATS connection", async ({
  browser,
}) => {
  const since = new Date().toISOString();
  const evan = await ChatPage.login(browser, "evan", "evan123");

  const trace = await waitFor(
    "a login trace that reached auth-service",
    async () => {
      for (const t of await searchTraces({ service: "web-frontend", name: "login", since })) {
        if (!t.services.includes("auth-service")) continue;
        const full = await getTrace(t.trace_id);
        if (full && full.spans.some((s) => s.name === "connect nats")) return full;
      }
      return undefined;
    },
    45_000,
    1_000,
  );
  assertLoginShape(trace);
  await evan.close();
});

function assertLoginShape(t: SinkTrace): void {
  const root = t.spans.find((s) => s.parent_span_id === "");
  expect(root?.name).toBe("login");
  expect(root?.service_name).toBe("web-frontend");
  const children = childrenOf(t, root!);
  const posts = children.filter((s) => s.name.startsWith("POST ") && s.kind === "SPAN_KIND_CLIENT");
  expect(posts.length, "token and credential POSTs under login").toBeGreaterThanOrEqual(2);
  const server = t.spans.find(
    (s) => s.service_name === "auth-service" && s.kind === "SPAN_KIND_SERVER",
  );
  expect(server, "auth-service SERVER span in the login trace").toBeTruthy();
  expect(posts.map((p) => p.span_id)).toContain(server!.parent_span_id);
  expect(server!.attributes["chat.auth.result"]).toBe("authorized");
  const connect = children.find((s) => s.name === "connect nats");
  expect(connect?.kind).toBe("SPAN_KIND_CLIENT");
  for (const s of t.spans)
    expect(s.status.code, `${s.service_name} ${s.name}`).not.toBe("STATUS_CODE_ERROR");
}

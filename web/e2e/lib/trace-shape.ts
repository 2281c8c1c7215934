// Assertions on the shape of one message trace (observability.md §5.1, §5.3, §11.4): the
// browser's action span is the root, and the chain reaches fanout, persist-worker and the SQL
// span with correct parentage.
import { expect } from "@playwright/test";
import { attr, childrenOf, findSpan, type SinkSpan, type SinkTrace } from "./sink.js";

export const ACTION_SPAN: Record<string, string> = {
  send: "send_message",
  edit: "edit_message",
  delete: "delete_message",
  react: "react_message",
};

// The SQL span persist-worker writes for each action (§5.3).
const SQL_SPAN: Record<string, string> = {
  send: "INSERT messages",
  edit: "UPDATE messages",
  delete: "UPDATE messages",
  react: "INSERT message_reactions",
};

// True once every process has exported its part of the trace.
export function messageTraceComplete(action: string): (t: SinkTrace) => boolean {
  return (t) =>
    !!findSpan(t, "web-frontend", ACTION_SPAN[action]) &&
    t.spans.some((s) => s.service_name === "persist-worker" && s.name === SQL_SPAN[action]) &&
    t.spans.some((s) => s.service_name === "fanout-service" && s.name.startsWith("process chat."));
}

function only(spans: SinkSpan[], what: string): SinkSpan {
  expect(spans, `exactly one ${what}`).toHaveLength(1);
  return spans[0];
}

export function assertMessageTrace(t: SinkTrace, action: string, room: string): void {
  const roots = t.spans.filter((s) => s.parent_span_id === "");
  const root = only(roots, "root span");
  expect(root.service_name).toBe("web-frontend");
  expect(root.name).toBe(ACTION_SPAN[action]);
  expect(root.kind).toBe("SPAN_KIND_INTERNAL");
  expect(attr(root, "chat.room")).toBe(room);
  expect(attr(root, "chat.action")).toBe(action);
  expect(root.events.map((e) => e.name)).toContain("echo_rendered");

  const ingestSubjectTemplate = t.spans.some(
    (s) => s.name.endsWith(".thread.{thread_id}") && s.service_name === "web-frontend",
  )
    ? "publish deliver.{user}.send.{room}.thread.{thread_id}"
    : "publish deliver.{user}.send.{room}";
  const publish = only(
    childrenOf(t, root).filter((s) => s.name === ingestSubjectTemplate),
    `${ingestSubjectTemplate} under ${root.name}`,
  );
  expect(publish.kind).toBe("SPAN_KIND_PRODUCER");
  expect(publish.service_name).toBe("web-frontend");
  expect(attr(publish, "messaging.system")).toBe("nats");

  const ingest = only(
    childrenOf(t, publish).filter((s) => s.service_name === "fanout-service"),
    "fanout ingest under the browser publish",
  );
  expect(ingest.kind).toBe("SPAN_KIND_CONSUMER");
  expect(ingest.name.startsWith("process deliver.{user}.send.{room}")).toBe(true);
  expect(attr(ingest, "chat.ingest.result")).toBe("accepted");

  const republish = only(
    childrenOf(t, ingest).filter((s) => s.name.startsWith("publish chat.{room}")),
    "publish chat.{room} under the ingest",
  );
  expect(republish.kind).toBe("SPAN_KIND_PRODUCER");
  const consumers = childrenOf(t, republish);
  const notify = consumers.find((s) => s.service_name === "fanout-service");
  const persist = consumers.find((s) => s.service_name === "persist-worker");
  expect(notify, "fanout notify consumer under publish chat.{room}").toBeTruthy();
  expect(persist, "persist-worker consumer under publish chat.{room}").toBeTruthy();
  expect(notify!.kind).toBe("SPAN_KIND_CONSUMER");
  expect(persist!.kind).toBe("SPAN_KIND_CONSUMER");
  expect(attr(persist!, "chat.action")).toBe(action);

  const sql = t.spans.filter(
    (s) =>
      s.service_name === "persist-worker" &&
      s.name === SQL_SPAN[action] &&
      s.parent_span_id === persist!.span_id,
  );
  expect(sql.length, `${SQL_SPAN[action]} under persist-worker's process span`).toBeGreaterThan(0);
  expect(sql[0].kind).toBe("SPAN_KIND_CLIENT");
  expect(attr(sql[0], "db.system.name")).toBe("postgresql");

  for (const s of t.spans) {
    expect(s.status.code, `${s.service_name} ${s.name} status`).not.toBe("STATUS_CODE_ERROR");
  }
}

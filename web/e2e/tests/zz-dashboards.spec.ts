// Issue 6's live proof, run after the journeys have produced traffic: every PromQL query of
// every provisioned dashboard returns data from the local Prometheus, and the trace and log
// panels' filters are answered by the sink (the local stand-in for Tempo and Loki). A panel
// that cannot have data here is listed below with the reason, and must really be empty, so the
// list cannot go stale silently.
import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { env } from "../lib/env.js";
import { panelTargets, substituteVariables, type PanelTarget } from "../lib/dashboards.js";
import { waitFor } from "../lib/wait.js";

// Metric name prefixes that nothing emits in the local stack, and why.
const NOT_LOCAL: { prefix: RegExp; reason: string }[] = [
  {
    prefix: /\botelcol_/,
    reason: "no OpenTelemetry Collector locally (the sink replaces it; production only)",
  },
];

function notLocalReason(q: string): string | undefined {
  return NOT_LOCAL.find((n) => n.prefix.test(q))?.reason;
}

async function promRange(q: string): Promise<number> {
  const end = Math.floor(Date.now() / 1000);
  const params = new URLSearchParams({
    query: q,
    start: String(end - 900),
    end: String(end),
    step: "15",
  });
  const res = await fetch(`${env.prometheusUrl}/api/v1/query_range?${params}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { result: unknown[] };
  };
  if (body.status !== "success") throw new Error(`Prometheus refused ${q}: ${body.error}`);
  return body.data!.result.length;
}

test("every dashboard panel is answered by the local stack", async () => {
  const targets = panelTargets();
  expect(targets.length).toBeGreaterThan(40);

  // Some traffic of every kind the panels look at, through the CLI (real logins, real services):
  // history reads, presence queries and room operations beside the journeys' messages.
  const cli = (...a: string[]) =>
    execFileSync("../../nats-chat", ["chat", "--user", "bob", "--password", "bob123", ...a], {
      env: process.env,
      stdio: "pipe",
    });
  cli("join", "random");
  cli("send", "random", `dashboards ${Date.now()}`);
  cli("history", "random");
  cli("rooms");

  // Recording rules are evaluated every 30 s and rate() needs two scrapes of each target, whose
  // scrape times are not aligned: one rule can have data while another waits for the next
  // evaluation. So wait, with a deadline, until every panel that can have data locally has it;
  // the sweep below then names any that never did.
  const localPromQueries = targets
    .filter((t) => t.datasource === "prometheus")
    .map((t) => substituteVariables(t.query))
    .filter((q) => !notLocalReason(q));
  await waitFor(
    "every local Prometheus panel to have data",
    async () => {
      for (const q of localPromQueries) if ((await promRange(q)) === 0) return false;
      return true;
    },
    120_000,
    2_000,
  ).catch(() => undefined);

  const empty: string[] = [];
  const answered: string[] = [];
  const expectedEmpty: string[] = [];
  for (const t of targets) {
    const label = `${t.dashboard} / ${t.panel}`;
    if (t.datasource === "prometheus") {
      const q = substituteVariables(t.query);
      const n = await promRange(q);
      const reason = notLocalReason(q);
      if (reason) {
        expectedEmpty.push(`${label}: ${reason}`);
        expect(n, `${label} is listed as impossible locally but has data: update NOT_LOCAL`).toBe(
          0,
        );
      } else if (n === 0) {
        empty.push(`${label}: ${q}`);
      } else {
        answered.push(label);
      }
    } else if (t.datasource === "tempo") {
      await checkTracePanel(t);
      answered.push(label);
    } else if (t.datasource === "loki") {
      await checkLogPanel(t);
      answered.push(label);
    } else {
      throw new Error(`${label}: unknown datasource uid "${t.datasource}"`);
    }
  }
  console.log(
    `dashboard panels answered: ${answered.length}; impossible locally: ${expectedEmpty.length}`,
  );
  for (const e of expectedEmpty) console.log(`  not local: ${e}`);
  expect(empty, "panels with no data").toEqual([]);
});

// TraceQL → the sink's search (service, status, attribute filters); the service map → the
// service-graph series the sink derives.
async function checkTracePanel(t: PanelTarget): Promise<void> {
  if (t.queryType === "serviceMap" || t.query === "serviceMap") {
    expect(
      await promRange("traces_service_graph_request_total"),
      "service graph series",
    ).toBeGreaterThan(0);
    return;
  }
  const q = t.query;
  const params = new URLSearchParams({ limit: "20" });
  const svc = /resource\.service\.name\s*=\s*"([^"]+)"/.exec(q);
  if (svc) params.set("service", svc[1]);
  if (/status\s*=\s*error/.test(q)) params.set("status", "error");
  for (const m of q.matchAll(/span\.([a-z_.]+)\s*=\s*"([^"]+)"/g))
    params.append(`attr.${m[1]}`, m[2]);
  const res = await fetch(`${env.sinkUrl}/api/traces?${params}`);
  expect(res.status, `${t.dashboard} / ${t.panel}: sink search ${params}`).toBe(200);
  const body = (await res.json()) as { traces: unknown[] };
  expect(Array.isArray(body.traces)).toBe(true);
}

// LogQL → the sink's log query (service and level filters).
async function checkLogPanel(t: PanelTarget): Promise<void> {
  const params = new URLSearchParams({ limit: "50" });
  const svc = /service_name\s*=\s*"([^"]+)"/.exec(t.query);
  if (svc) params.set("service", svc[1]);
  const level = /severity_text\s*=\s*"([A-Z]+)"/.exec(t.query);
  if (level) params.set("level", level[1]);
  const res = await fetch(`${env.sinkUrl}/api/logs?${params}`);
  expect(res.status, `${t.dashboard} / ${t.panel}: sink logs ${params}`).toBe(200);
  const body = (await res.json()) as { logs: unknown[] };
  expect(Array.isArray(body.logs)).toBe(true);
}

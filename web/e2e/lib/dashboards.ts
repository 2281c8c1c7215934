// Reads the provisioned dashboards (deploy/grafana/dashboards/*.json, generated from the
// TypeScript definitions) and turns every panel target into something the local stack can
// answer: PromQL for the local Prometheus, TraceQL/LogQL filters for the telemetry sink.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

export interface PanelTarget {
  dashboard: string;
  panel: string;
  datasource: string; // uid: prometheus | tempo | loki
  query: string; // expr (PromQL), query (TraceQL / LogQL) or queryType for service maps
  queryType?: string;
}

const root = path.resolve(import.meta.dirname, "..", "..", "..");
export const dashboardsDir = path.join(root, "deploy", "grafana", "dashboards");

type Json = Record<string, unknown>;

function uidOf(ds: unknown): string | undefined {
  if (typeof ds === "string") return ds;
  if (ds && typeof ds === "object" && "uid" in ds) return String((ds as Json).uid);
  return undefined;
}

function collectPanels(panels: unknown, out: Json[]): void {
  if (!Array.isArray(panels)) return;
  for (const p of panels as Json[]) {
    out.push(p);
    collectPanels(p.panels, out); // collapsed rows keep their panels inside
  }
}

export function panelTargets(): PanelTarget[] {
  const files = readdirSync(dashboardsDir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (files.length === 0) throw new Error(`no dashboards in ${dashboardsDir}`);
  const targets: PanelTarget[] = [];
  for (const f of files) {
    const d = JSON.parse(readFileSync(path.join(dashboardsDir, f), "utf8")) as Json;
    const panels: Json[] = [];
    collectPanels(d.panels, panels);
    for (const p of panels) {
      for (const t of (p.targets as Json[] | undefined) ?? []) {
        const ds = uidOf(t.datasource) ?? uidOf(p.datasource) ?? "";
        const query = String(t.expr ?? t.query ?? t.queryType ?? "");
        targets.push({
          dashboard: String(d.title ?? f),
          panel: String(p.title ?? "(untitled)"),
          datasource: ds,
          query,
          queryType: t.queryType === undefined ? undefined : String(t.queryType),
        });
      }
    }
  }
  return targets;
}

// Grafana's variables as a range query over the whole journey would see them: every service
// ("All"), a 1-minute rate interval.
export function substituteVariables(q: string): string {
  return q
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, "1m")
    .replace(/\$__interval|\$\{__interval\}/g, "30s")
    .replace(/\$__range|\$\{__range\}/g, "15m")
    .replace(
      /([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"\$\{?[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}?"/g,
      '$1=~".+"',
    )
    .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*/g, ".+");
}

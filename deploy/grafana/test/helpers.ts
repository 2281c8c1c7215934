// Shared loaders for the tests: committed dashboards, rules, datasource provisioning.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { kDashboardsDir, kDatasourcesFile } from '../src/paths.ts';
import { loadRules } from '../src/catalogue.ts';
import { queriesOfDashboard, type Query } from '../src/queries.ts';

export function committedDashboards(): Map<string, any> {
  const out = new Map<string, any>();
  for (const f of fs.readdirSync(kDashboardsDir).filter((f) => f.endsWith('.json')).sort()) {
    out.set(f, JSON.parse(fs.readFileSync(path.join(kDashboardsDir, f), 'utf8')));
  }
  return out;
}

export function datasources(): any[] {
  return (parseYaml(fs.readFileSync(kDatasourcesFile, 'utf8')) as any).datasources;
}

// `$$` in provisioning files is a literal `$` once Grafana has read them.
const unescape = (s: string) => s.replace(/\$\$/g, '$');

export function allQueries(): Query[] {
  const out: Query[] = [];
  for (const d of committedDashboards().values()) out.push(...queriesOfDashboard(d));
  for (const g of loadRules().groups) {
    for (const r of g.rules) out.push({ where: `chat.yaml/${g.name}/${r.record ?? r.alert}`, language: 'promql', text: r.expr });
  }
  for (const ds of datasources()) {
    for (const q of ds.jsonData?.tracesToMetrics?.queries ?? []) out.push({ where: `datasources.yaml/${ds.uid}/${q.name}`, language: 'promql', text: unescape(q.query) });
    const logs = ds.jsonData?.tracesToLogsV2;
    if (logs?.query) out.push({ where: `datasources.yaml/${ds.uid}/tracesToLogsV2`, language: 'logql', text: unescape(logs.query).replace('${__tags}', 'service_name="auth-service"') });
  }
  return out;
}

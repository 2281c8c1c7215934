// Dashboards of observability.md §10.2: fresh (generated JSON committed), parseable queries,
// datasource uids that exist, metric names that something emits, none of the §11 forbidden
// patterns, and exactly the contract's panels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { renderDashboards } from '../src/dashboards/index.ts';
import { kDashboardsDir } from '../src/paths.ts';
import { buildCatalogue, loadPending, loadRules } from '../src/catalogue.ts';
import { labelMap, labelProblems } from '../src/labels.ts';
import { forbiddenPatterns, promqlFacts, substituteVariables, syntaxErrors } from '../src/queries.ts';
import { allQueries, committedDashboards, datasources } from './helpers.ts';

test('committed dashboards JSON equals a fresh `npm run generate` (run it after editing src/)', () => {
  const fresh = renderDashboards();
  const committed = fs.readdirSync(kDashboardsDir).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(committed, [...fresh.keys()].sort(), 'dashboard file set differs');
  for (const [file, text] of fresh) {
    assert.equal(fs.readFileSync(path.join(kDashboardsDir, file), 'utf8'), text, `${file} is stale: run npm run generate`);
  }
});

test('every PromQL, LogQL and TraceQL query parses without error nodes', () => {
  const qs = allQueries();
  assert.ok(qs.filter((q) => q.language === 'promql').length > 50, 'expected the dashboards and rules to yield PromQL');
  assert.ok(qs.some((q) => q.language === 'logql') && qs.some((q) => q.language === 'traceql'));
  const failures = qs.flatMap((q) => syntaxErrors(q.language, substituteVariables(q.text)).map((e) => `${q.where} [${q.language}] ${q.text}: ${e}`));
  assert.deepEqual(failures, []);
});

test('the syntax check rejects broken queries (it can fail)', () => {
  assert.notDeepEqual(syntaxErrors('promql', 'sum(rate(x[5m])'), []);
  assert.notDeepEqual(syntaxErrors('logql', '{} | json'), []);
  assert.notDeepEqual(syntaxErrors('traceql', '{ status = = }'), []);
  assert.deepEqual(syntaxErrors('promql', substituteVariables('sum(rate(up{job=~"$service"}[$__rate_interval]))')), []);
});

test('datasources: unique uids and names; every panel and target uid exists; alert list names a datasource', () => {
  const ds = datasources();
  const uids = ds.map((d) => d.uid);
  assert.equal(new Set(uids).size, uids.length, 'duplicate datasource uid');
  assert.equal(new Set(ds.map((d) => d.name)).size, ds.length, 'duplicate datasource name');
  assert.deepEqual([...uids].sort(), ['loki', 'prometheus', 'tempo']);
  const referenced: string[] = [];
  for (const d of committedDashboards().values()) {
    for (const p of d.panels) {
      if (p.datasource?.uid) referenced.push(`${d.uid}/${p.title}:${p.datasource.uid}`);
      for (const t of p.targets ?? []) referenced.push(`${d.uid}/${p.title}/${t.refId}:${t.datasource?.uid}`);
      if (p.type === 'alertlist') assert.ok(ds.some((x) => x.name === p.options.datasource), `alert list datasource ${p.options.datasource}`);
    }
    for (const v of d.templating.list) if (v.datasource) referenced.push(`${d.uid}/$${v.name}:${v.datasource.uid}`);
  }
  assert.ok(referenced.length > 60);
  assert.deepEqual(referenced.filter((r) => !uids.includes(r.split(':').pop())), []);
  // Cross-links of §10.1 point at existing uids too.
  const tempo = ds.find((d) => d.uid === 'tempo')!.jsonData;
  for (const u of [tempo.tracesToLogsV2.datasourceUid, tempo.tracesToMetrics.datasourceUid, tempo.serviceMap.datasourceUid]) assert.ok(uids.includes(u));
  for (const e of ds.find((d) => d.uid === 'prometheus')!.jsonData.exemplarTraceIdDestinations) assert.ok(uids.includes(e.datasourceUid));
  for (const f of ds.find((d) => d.uid === 'loki')!.jsonData.derivedFields) {
    assert.equal(f.matcherType, 'label');
    assert.ok(uids.includes(f.datasourceUid));
  }
});

test('every metric name in dashboards, recording rules and alerts is in the catalogue', (t) => {
  const cat = buildCatalogue();
  assert.deepEqual(cat.unresolved, [], 'the extractor met registrations it cannot expand');
  const pending = new Map(loadPending().map((p) => [p.name, p]));
  const missing: string[] = [];
  const usedPending = new Set<string>();
  for (const q of allQueries().filter((q) => q.language === 'promql')) {
    const f = promqlFacts(substituteVariables(q.text));
    assert.deepEqual(f.unanalysable, [], `${q.where}: __name__ matcher the name test cannot expand`);
    for (const m of f.metrics) {
      if (cat.entries.has(m)) continue;
      if (pending.has(m)) usedPending.add(`${m} (${pending.get(m)!.service})`);
      else missing.push(`${q.where}: ${m}`);
    }
  }
  assert.deepEqual(missing, []);
  t.diagnostic(`metrics used by dashboards but only contracted (services not built): ${[...usedPending].sort().join(', ')}`);
});

test('pending metrics are neither emitted nor from a service that exists (the list can only shrink)', () => {
  const cat = buildCatalogue();
  const services = fs.readdirSync(path.join(kDashboardsDir, '..', '..', '..', 'services'));
  for (const p of loadPending()) {
    assert.ok(!cat.entries.has(p.name), `${p.name} is now emitted (${cat.entries.get(p.name)?.[0].source}): drop it from metrics-pending.json`);
    assert.ok(!services.includes(p.service.replace(/-service$/, '')), `services/${p.service} exists: its metrics must come from its sources`);
  }
});

test('the metric-name check catches an unknown name (it can fail)', () => {
  const cat = buildCatalogue();
  const f = promqlFacts('sum(rate(traces_spanmetrics_duration_seconds_bucket[5m])) / fanout_duration_seconds_count');
  assert.deepEqual(f.metrics.filter((m) => !cat.entries.has(m)), ['traces_spanmetrics_duration_seconds_bucket']);
});

test('no forbidden pattern of observability.md §11.1 in any query', () => {
  const bad = allQueries().flatMap((q) => forbiddenPatterns(q).map((b) => `${q.where}: ${b}`));
  assert.deepEqual(bad, []);
});

test('the forbidden-pattern check flags each §11.1 pattern (it can fail)', () => {
  const flag = (language: 'promql' | 'logql', text: string) => forbiddenPatterns({ where: 't', language, text });
  assert.ok(flag('promql', 'sum by (service_name) (rate(traces_spanmetrics_calls_total[5m]))').length > 0);
  assert.ok(flag('promql', 'histogram_quantile(0.95, rate(traces_spanmetrics_duration_seconds_bucket[5m]))').length > 0);
  assert.ok(flag('promql', 'sum by (room) (rate(room_joins_total[5m]))').length > 0);
  assert.ok(flag('promql', 'sum without (instance_id) (rate(x_total{user="a"}[5m]))').length > 0);
  assert.ok(flag('logql', '{} |= "x"').length > 0);
  assert.ok(flag('logql', '{service_name="a"} | json').length > 0);
  assert.ok(flag('logql', '{service_name="a", thread_id="1"}').length > 0);
  assert.deepEqual(flag('logql', '{service_name=~".+"} | severity_text="ERROR"'), []);
});

// observability.md §10.2, in contract order: title and panel type. Where the contract gives one
// item two visualisations ("stat + time series") it becomes two panels (see the dashboard sources).
const kContract: Record<string, Array<[string, string]>> = {
  'chat-overview': [
    ['Service map', 'nodeGraph'], ['Request rate', 'timeseries'], ['Error ratio', 'timeseries'],
    ['p95 latency (server spans)', 'timeseries'], ['End-to-end delivery p95', 'stat'], ['Targets', 'state-timeline'],
    ['Recent error traces', 'table'], ['Slow traces', 'table'], ['Error logs', 'logs'], ['Firing alerts', 'alertlist'],
    ['Telemetry health', 'timeseries'],
  ],
  'chat-auth': [
    ['Requests by result', 'timeseries'], ['Requests by auth type', 'timeseries'], ['Rejection ratio', 'stat'],
    ['Latency p50/p95/p99', 'timeseries'], ['JWKS refreshes', 'barchart'], ['IdP call latency', 'timeseries'],
    ['Auth traces', 'table'], ['Auth warnings and errors', 'logs'],
  ],
  'chat-messages': [
    ['Ingest outcomes', 'timeseries'], ['Fan-out throughput', 'timeseries'], ['Fan-out latency p50/p95/p99', 'timeseries'],
    ['Membership cache hit ratio', 'stat'], ['Fan-out drops', 'timeseries'], ['Persisted by action', 'timeseries'],
    ['Persist errors', 'timeseries'], ['Persist lag p95', 'timeseries'], ['JetStream backlog', 'timeseries'],
    ['Broker transit p95', 'timeseries'], ['History latency p95', 'timeseries'], ['Message fetches', 'timeseries'],
    ['End-to-end delivery p50/p95', 'timeseries'], ['Send traces', 'table'], ['Pipeline logs', 'logs'],
  ],
  'chat-rooms-presence': [
    ['Joins and leaves', 'timeseries'], ['Active rooms', 'stat'], ['Online users / connections', 'stat'],
    ['Room operations', 'timeseries'], ['Room operation p95', 'timeseries'], ['Online users / connections (over time)', 'timeseries'],
    ['Heartbeats, disconnects, expirations', 'timeseries'], ['Presence query p95', 'timeseries'], ['Read receipts', 'timeseries'],
    ['Room/presence error traces', 'table'], ['Logs', 'logs'],
  ],
  'chat-apps': [
    ['App registry operations', 'timeseries'], ['Poll operations', 'timeseries'], ['Knowledge-base operations', 'timeseries'],
    ['Knowledge-base editors', 'stat'], ['Whiteboard operations', 'timeseries'], ['App latency p95', 'timeseries'],
    ['Stickers, search, translation', 'timeseries'], ['Translation backend', 'stat'], ['App traces', 'table'], ['App logs', 'logs'],
  ],
};

test('each dashboard has its fixed uid, the $service variable and exactly the contract panels', () => {
  const ds = [...committedDashboards().values()];
  assert.deepEqual(ds.map((d) => d.uid).sort(), Object.keys(kContract).sort());
  for (const d of ds) {
    const v = d.templating.list.find((x: any) => x.name === 'service');
    assert.ok(v, `${d.uid}: no $service variable`);
    assert.equal(v.query.query, 'label_values(up, job)');
    assert.deepEqual(d.panels.map((p: any) => [p.title, p.type]), kContract[d.uid], d.uid);
    assert.equal(new Set(d.panels.map((p: any) => p.id)).size, d.panels.length, `${d.uid}: duplicate panel ids`);
    for (const p of d.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${d.uid}/${p.title} overflows the grid`);
  }
  // Exemplars on where §10.2 says so.
  const exemplarPanels = ds.flatMap((d) => d.panels.filter((p: any) => p.targets?.some((t: any) => t.exemplar)).map((p: any) => `${d.uid}/${p.title}`));
  assert.deepEqual(exemplarPanels.sort(), ['chat-auth/Latency p50/p95/p99', 'chat-messages/Fan-out latency p50/p95/p99', 'chat-overview/p95 latency (server spans)']);
});

test('every label in a matcher or by/without/on clause exists on the series it reads', () => {
  const labels = labelMap(buildCatalogue(), loadRules());
  const bad = allQueries()
    .filter((q) => q.language === 'promql')
    .flatMap((q) => labelProblems(substituteVariables(q.text), labels).map((p) => `${q.where}: ${p}`));
  assert.deepEqual(bad, []);
  // It can fail: a label nobody emits (the plan's Auth panel grouped by one).
  assert.notDeepEqual(labelProblems('sum by (auth_method) (rate(auth_requests_total[5m]))', labels), []);
  assert.notDeepEqual(labelProblems('rate(fanout_drops_total{room="general"}[5m])', labels), []);
  assert.deepEqual(labelProblems('sum by (reason) (increase(fanout_drops_total{job="fanout-service"}[5m]))', labels), []);
});

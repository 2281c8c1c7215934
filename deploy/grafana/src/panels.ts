// Panel helpers: one function per panel kind of observability.md §10.2 (time series, stat, bar
// chart, state timeline, node graph, trace table, logs, alert list), each taking the exact
// query strings of the contract. Layout is a simple left-to-right flow on Grafana's 24-column grid.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as logs from '@grafana/grafana-foundation-sdk/logs';
import * as nodegraph from '@grafana/grafana-foundation-sdk/nodegraph';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as barchart from '@grafana/grafana-foundation-sdk/barchart';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as loki from '@grafana/grafana-foundation-sdk/loki';
import * as tempo from '@grafana/grafana-foundation-sdk/tempo';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { kLoki, kPrometheus, kPrometheusName, kTempo } from './datasources.ts';

export type PanelBuilder = cog.Builder<dashboard.Panel>;

// A PromQL target. `legend` defaults to Grafana's automatic legend.
export interface Prom {
  expr: string;
  legend?: string;
}

const kRefIds = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function promTargets(queries: Prom[], exemplars: boolean, instant = false) {
  return queries.map((q, i) => {
    const b = new prometheus.DataqueryBuilder()
      .refId(kRefIds[i])
      .datasource(kPrometheus)
      .expr(q.expr)
      .legendFormat(q.legend ?? '__auto')
      .exemplar(exemplars);
    return instant ? b.instant() : b.range();
  });
}

// Flow layout: panels fill rows of 24 columns left to right.
export class Layout {
  private x = 0;
  private y = 0;
  private row_height = 0;
  private next_id = 1;

  place(b: { gridPos(p: dashboard.GridPos): unknown; id(id: number): unknown }, w: number, h: number) {
    if (this.x + w > 24) {
      this.x = 0;
      this.y += this.row_height;
      this.row_height = 0;
    }
    b.gridPos({ x: this.x, y: this.y, w, h });
    b.id(this.next_id++);
    this.x += w;
    this.row_height = Math.max(this.row_height, h);
  }
}

export function timeSeries(title: string, queries: Prom[], opts: { unit?: string; exemplars?: boolean; stacked?: boolean } = {}) {
  const b = new timeseries.PanelBuilder()
    .title(title)
    .datasource(kPrometheus)
    .targets(promTargets(queries, opts.exemplars ?? false))
    .unit(opts.unit ?? 'short')
    .lineWidth(1)
    .fillOpacity(opts.stacked ? 40 : 10)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (opts.stacked) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  return b;
}

export function statPanel(title: string, queries: Prom[], opts: { unit?: string } = {}) {
  return new stat.PanelBuilder()
    .title(title)
    .datasource(kPrometheus)
    .targets(promTargets(queries, false))
    .unit(opts.unit ?? 'short')
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

export function barChart(title: string, queries: Prom[]) {
  return new barchart.PanelBuilder()
    .title(title)
    .datasource(kPrometheus)
    .targets(promTargets(queries, false))
    .unit('short')
    .stacking(common.StackingMode.Normal)
    .showValue(common.VisibilityMode.Auto)
    .xTickLabelRotation(0);
}

export function stateTimeline(title: string, queries: Prom[]) {
  return new statetimeline.PanelBuilder()
    .title(title)
    .datasource(kPrometheus)
    .targets(promTargets(queries, false))
    .mappings([
      { type: dashboard.MappingType.ValueToText, options: { '0': { text: 'down', color: 'red', index: 0 }, '1': { text: 'up', color: 'green', index: 1 } } },
    ])
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .rowHeight(0.8);
}

// Service map from Tempo's serviceMap query type (reads traces_service_graph_* in Prometheus).
export function serviceMap(title: string) {
  return new nodegraph.PanelBuilder()
    .title(title)
    .datasource(kTempo)
    .withTarget(new tempo.TempoQueryBuilder().refId('A').datasource(kTempo).queryType('serviceMap'));
}

// A TraceQL search shown as a table of traces.
export function traceTable(title: string, traceql: string, limit = 20) {
  return new table.PanelBuilder()
    .title(title)
    .datasource(kTempo)
    .withTarget(
      new tempo.TempoQueryBuilder()
        .refId('A')
        .datasource(kTempo)
        .queryType('traceql')
        .query(traceql)
        .limit(limit)
        .tableType(tempo.SearchTableType.Traces),
    );
}

export function logsPanel(title: string, logql: string) {
  return new logs.PanelBuilder()
    .title(title)
    .datasource(kLoki)
    .withTarget(new loki.DataqueryBuilder().refId('A').datasource(kLoki).expr(logql).queryType('range'))
    .showTime(true)
    .wrapLogMessage(true)
    .enableLogDetails(true)
    .sortOrder(common.LogsSortOrder.Descending);
}

// Grafana's alert list (unified alerting): every firing and pending rule of the Prometheus
// datasource (the rules of deploy/prometheus/rules/chat.yaml), grouped by rule.
export function alertList(title: string) {
  return new dashboard.PanelBuilder()
    .type('alertlist')
    .title(title)
    .options({
      viewMode: 'list',
      groupMode: 'default',
      groupBy: [],
      maxItems: 50,
      sortOrder: 1,
      dashboardAlerts: false,
      alertName: '',
      alertInstanceLabelFilter: '',
      datasource: kPrometheusName,
      showInstances: true,
      stateFilter: { firing: true, pending: true, noData: false, normal: false, error: true },
    });
}

// The `$service` variable every dashboard carries (observability.md §10.1).
export function serviceVariable() {
  return new dashboard.QueryVariableBuilder('service')
    .label('service')
    .datasource(kPrometheus)
    .query({ qryType: 1, query: 'label_values(up, job)', refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.+')
    .current({ selected: true, text: ['All'], value: ['$__all'] });
}

export function newDashboard(uid: string, title: string, description: string) {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['nats-chat'])
    .editable()
    .timezone('utc')
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(serviceVariable());
}

// Adds panels in order with the given [width, height] per panel.
export function addPanels(d: dashboard.DashboardBuilder, panels: Array<[PanelBuilder & { gridPos(p: dashboard.GridPos): unknown; id(id: number): unknown }, number, number]>) {
  const layout = new Layout();
  for (const [p, w, h] of panels) {
    layout.place(p, w, h);
    d.withPanel(p);
  }
  return d;
}

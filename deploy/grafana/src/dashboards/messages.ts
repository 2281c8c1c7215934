// Messages pipeline (uid chat-messages): observability.md §10.2 "Messages pipeline", panels 1-15.
import { addPanels, logsPanel, newDashboard, statPanel, timeSeries, traceTable } from '../panels.ts';

const fanoutQuantile = (q: string) =>
  `histogram_quantile(${q}, sum by (le, kind) (rate(fanout_duration_seconds_bucket[5m])))`;
// Overview panel 5 with the quantile as a parameter (§10.2 Messages 13).
const e2e = (q: string) =>
  `histogram_quantile(${q}, sum by (le) (rate(traces_spanmetrics_latency_bucket{service="web-frontend",span_name="send_message"}[5m])))`;

export function messages() {
  const d = newDashboard('chat-messages', 'nats-chat / Messages pipeline', 'Ingest, fan-out, persistence, JetStream backlog, history and end-to-end delivery (observability.md §10.2).');
  return addPanels(d, [
    [timeSeries('Ingest outcomes', [{ expr: 'sum by (result) (rate(fanout_ingest_total[5m]))', legend: '{{result}}' }], { unit: 'ops' }), 8, 8],
    [timeSeries('Fan-out throughput', [
      { expr: 'sum by (kind) (rate(fanout_messages_total[5m]))', legend: 'messages {{kind}}' },
      { expr: 'sum by (kind) (rate(fanout_deliveries_total[5m]))', legend: 'deliveries {{kind}}' },
    ], { unit: 'ops' }), 8, 8],
    [timeSeries('Fan-out latency p50/p95/p99', [
      { expr: fanoutQuantile('0.5'), legend: 'p50 {{kind}}' },
      { expr: fanoutQuantile('0.95'), legend: 'p95 {{kind}}' },
      { expr: fanoutQuantile('0.99'), legend: 'p99 {{kind}}' },
    ], { unit: 's', exemplars: true }), 8, 8],
    [statPanel('Membership cache hit ratio', [{ expr: 'sum(rate(fanout_cache_lookups_total{result="hit"}[5m])) / sum(rate(fanout_cache_lookups_total[5m]))', legend: 'hit ratio' }], { unit: 'percentunit' }), 6, 8],
    [timeSeries('Fan-out drops', [{ expr: 'sum by (reason) (increase(fanout_drops_total[5m]))', legend: '{{reason}}' }]), 9, 8],
    [timeSeries('Persisted by action', [{ expr: 'sum by (action) (rate(messages_persisted_total[5m]))', legend: '{{action}}' }], { unit: 'ops' }), 9, 8],
    [timeSeries('Persist errors', [{ expr: 'sum by (reason) (rate(messages_persist_errors_total[5m]))', legend: '{{reason}}' }], { unit: 'ops' }), 8, 8],
    [timeSeries('Persist lag p95', [{ expr: 'histogram_quantile(0.95, sum by (le) (rate(messages_persist_lag_seconds_bucket[5m])))', legend: 'p95' }], { unit: 's' }), 8, 8],
    [timeSeries('JetStream backlog', [
      { expr: 'stream_consumer:jetstream_backlog:max', legend: 'backlog {{stream_name}}/{{consumer_name}}' },
      { expr: 'max by (consumer_name) (jetstream_consumer_num_redelivered{is_consumer_leader="true"})', legend: 'redelivered {{consumer_name}}' },
    ]), 8, 8],
    [timeSeries('Broker transit p95', [{ expr: 'histogram_quantile(0.95, sum by (le, client, server) (rate(traces_service_graph_request_messaging_system_seconds_bucket[5m])))', legend: '{{client}} → {{server}}' }], { unit: 's' }), 8, 8],
    [timeSeries('History latency p95', [{ expr: 'histogram_quantile(0.95, sum by (le, type) (rate(history_request_duration_seconds_bucket[5m])))', legend: '{{type}}' }], { unit: 's' }), 8, 8],
    [timeSeries('Message fetches', [{ expr: 'sum by (result) (rate(fanout_fetches_total[5m]))', legend: '{{result}}' }], { unit: 'ops' }), 8, 8],
    [timeSeries('End-to-end delivery p50/p95', [
      { expr: e2e('0.5'), legend: 'p50' },
      { expr: e2e('0.95'), legend: 'p95' },
    ], { unit: 's' }), 12, 8],
    [traceTable('Send traces', '{ resource.service.name = "persist-worker" && span.chat.action = "send" }'), 12, 8],
    [logsPanel('Pipeline logs', '{service_name=~"fanout-service|persist-worker|history-service"} | severity_text=~"WARN|ERROR"'), 24, 10],
  ]);
}

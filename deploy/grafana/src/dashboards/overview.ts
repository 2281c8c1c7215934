// Overview (uid chat-overview): observability.md §10.2 "Overview", panels 1-11 in contract order.
import { addPanels, alertList, logsPanel, newDashboard, serviceMap, stateTimeline, statPanel, timeSeries, traceTable } from '../panels.ts';

export const kE2eP95 =
  'histogram_quantile(0.95, sum by (le) (rate(traces_spanmetrics_latency_bucket{service="web-frontend",span_name="send_message"}[5m])))';

export function overview() {
  const d = newDashboard('chat-overview', 'nats-chat / Overview', 'Service map, RED metrics from span metrics, error traces and logs, firing alerts (observability.md §10.2).');
  return addPanels(d, [
    [serviceMap('Service map'), 24, 10],
    [timeSeries('Request rate', [{ expr: 'service:spanmetrics_calls:rate5m', legend: '{{service}}' }], { unit: 'reqps' }), 8, 8],
    [timeSeries('Error ratio', [{ expr: 'service:spanmetrics_errors_per_calls:ratio_rate5m or (service:spanmetrics_calls:rate5m * 0)', legend: '{{service}}' }], { unit: 'percentunit' }), 8, 8],
    [timeSeries('p95 latency (server spans)', [{ expr: 'service:spanmetrics_latency_seconds:p95_rate5m', legend: '{{service}}' }], { unit: 's', exemplars: true }), 8, 8],
    [statPanel('End-to-end delivery p95', [{ expr: kE2eP95, legend: 'p95' }], { unit: 's' }), 6, 6],
    [stateTimeline('Targets', [{ expr: 'up', legend: '{{job}} {{instance}}' }]), 18, 6],
    [traceTable('Recent error traces', '{ status = error }', 20), 12, 8],
    [traceTable('Slow traces', '{ kind = server && duration > 500ms }', 20), 12, 8],
    [logsPanel('Error logs', '{service_name=~".+"} | severity_text="ERROR"'), 24, 10],
    [alertList('Firing alerts'), 12, 8],
    [timeSeries('Telemetry health', [
      { expr: 'sum by (job) (rate(otel_sdk_processor_span_processed_total{error_type!=""}[5m]))', legend: '{{job}} spans dropped' },
      { expr: 'sum(rate(otelcol_exporter_send_failed_spans_total[5m]))', legend: 'collector export failures' },
      { expr: 'sum(rate(otelcol_receiver_refused_spans_total[5m]))', legend: 'collector refused spans' },
    ], { unit: 'ops' }), 12, 8],
  ]);
}

// Auth (uid chat-auth): observability.md §10.2 "Auth", panels 1-8 in contract order.
import { addPanels, barChart, logsPanel, newDashboard, statPanel, timeSeries, traceTable } from '../panels.ts';

const quantile = (q: string) =>
  `histogram_quantile(${q}, sum by (le, auth_type) (rate(auth_request_duration_seconds_bucket[5m])))`;

export function auth() {
  const d = newDashboard('chat-auth', 'nats-chat / Auth', 'auth-service credential requests, latency, JWKS refreshes, IdP calls (observability.md §10.2).');
  return addPanels(d, [
    [timeSeries('Requests by result', [{ expr: 'sum by (result) (rate(auth_requests_total[5m]))', legend: '{{result}}' }], { unit: 'reqps', stacked: true }), 12, 8],
    [timeSeries('Requests by auth type', [{ expr: 'sum by (auth_type) (rate(auth_requests_total[5m]))', legend: '{{auth_type}}' }], { unit: 'reqps' }), 12, 8],
    [statPanel('Rejection ratio', [{ expr: 'job:auth_requests_rejected_per_requests:ratio_rate5m', legend: '{{job}}' }], { unit: 'percentunit' }), 6, 8],
    [timeSeries('Latency p50/p95/p99', [
      { expr: quantile('0.5'), legend: 'p50 {{auth_type}}' },
      { expr: quantile('0.95'), legend: 'p95 {{auth_type}}' },
      { expr: quantile('0.99'), legend: 'p99 {{auth_type}}' },
    ], { unit: 's', exemplars: true }), 18, 8],
    [barChart('JWKS refreshes', [{ expr: 'sum by (result, trigger) (increase(auth_jwks_refresh_total[1h]))', legend: '{{trigger}} {{result}}' }]), 12, 8],
    [timeSeries('IdP call latency', [{ expr: 'histogram_quantile(0.95, sum by (le) (rate(traces_spanmetrics_latency_bucket{service="auth-service",span_kind="SPAN_KIND_CLIENT"}[5m])))', legend: 'p95' }], { unit: 's' }), 12, 8],
    [traceTable('Auth traces', '{ resource.service.name = "auth-service" }'), 12, 8],
    [logsPanel('Auth warnings and errors', '{service_name="auth-service"} | severity_text=~"WARN|ERROR"'), 12, 8],
  ]);
}

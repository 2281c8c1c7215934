// Apps (uid chat-apps): observability.md §10.2 "Apps", panels 1-8. Panels 3 and 6 each name a
// time series and a stat; they become two panels ("Knowledge-base editors", "Translation backend").
// The app services, sticker-service and translation-service are built (services/app-registry,
// poll, kb, whiteboard, sticker, translation); user search is not yet: see metrics-pending.json.
import { addPanels, logsPanel, newDashboard, statPanel, timeSeries, traceTable } from '../panels.ts';

export function apps() {
  const d = newDashboard('chat-apps', 'nats-chat / Apps', 'Room apps (registry, poll, knowledge base, whiteboard), stickers, user search, translation (observability.md §10.2).');
  return addPanels(d, [
    [timeSeries('App registry operations', [{ expr: 'sum by (action, result) (rate(app_registry_requests_total[5m]))', legend: '{{action}} {{result}}' }], { unit: 'ops' }), 12, 8],
    [timeSeries('Poll operations', [{ expr: 'sum by (action, result) (rate(poll_requests_total[5m]))', legend: '{{action}} {{result}}' }], { unit: 'ops' }), 12, 8],
    [timeSeries('Knowledge-base operations', [{ expr: 'sum by (action, result) (rate(kb_requests_total[5m]))', legend: '{{action}} {{result}}' }], { unit: 'ops' }), 8, 8],
    [statPanel('Knowledge-base editors', [{ expr: 'max(kb_active_editors)', legend: 'editors' }]), 4, 8],
    [timeSeries('Whiteboard operations', [{ expr: 'sum by (action, result) (rate(whiteboard_requests_total[5m]))', legend: '{{action}} {{result}}' }], { unit: 'ops' }), 12, 8],
    [timeSeries('App latency p95', [{ expr: 'histogram_quantile(0.95, sum by (le, job) (rate({__name__=~"poll_request_duration_seconds_bucket|kb_request_duration_seconds_bucket|whiteboard_request_duration_seconds_bucket|app_registry_request_duration_seconds_bucket"}[5m])))', legend: '{{job}}' }], { unit: 's' }), 12, 8],
    [timeSeries('Stickers, search, translation', [
      { expr: 'sum by (result) (rate(sticker_requests_total[5m]))', legend: 'stickers {{result}}' },
      { expr: 'sum by (result) (rate(user_search_requests_total[5m]))', legend: 'user search {{result}}' },
      { expr: 'sum by (target_lang, result) (rate(translate_requests_total[5m]))', legend: 'translate {{target_lang}} {{result}}' },
    ], { unit: 'ops' }), 8, 8],
    [statPanel('Translation backend', [{ expr: 'max(translation_backend_available)', legend: 'available' }]), 4, 8],
    [traceTable('App traces', '{ resource.service.name =~ "app-registry-service|poll-service|kb-service|whiteboard-service" }'), 12, 8],
    [logsPanel('App logs', '{service_name=~"app-registry-service|poll-service|kb-service|whiteboard-service"} | severity_text=~"WARN|ERROR"'), 12, 8],
  ]);
}

// Rooms & presence (uid chat-rooms-presence): observability.md §10.2 "Rooms & presence", panels 1-10.
// Panel 5 ("stat + time series") is two panels: the stat keeps the contract title, the time
// series adds "(over time)".
import { addPanels, logsPanel, newDashboard, statPanel, timeSeries, traceTable } from '../panels.ts';

const kOnline = [
  { expr: 'max(presence_online_users)', legend: 'online users' },
  { expr: 'max(presence_connections)', legend: 'connections' },
];

export function roomsPresence() {
  const d = newDashboard('chat-rooms-presence', 'nats-chat / Rooms & presence', 'Room membership and management, presence and read receipts (observability.md §10.2).');
  return addPanels(d, [
    [timeSeries('Joins and leaves', [
      { expr: 'sum by (result) (rate(room_joins_total[5m]))', legend: 'join {{result}}' },
      { expr: 'sum by (result) (rate(room_leaves_total[5m]))', legend: 'leave {{result}}' },
    ], { unit: 'ops' }), 12, 8],
    [statPanel('Active rooms', [{ expr: 'max(room_active_rooms)', legend: 'active rooms' }]), 4, 8],
    [statPanel('Online users / connections', kOnline), 8, 8],
    [timeSeries('Room operations', [{ expr: 'sum by (action, result) (rate(room_requests_total[5m]))', legend: '{{action}} {{result}}' }], { unit: 'ops' }), 12, 8],
    [timeSeries('Room operation p95', [{ expr: 'histogram_quantile(0.95, sum by (le, action) (rate(room_request_duration_seconds_bucket[5m])))', legend: '{{action}}' }], { unit: 's' }), 12, 8],
    [timeSeries('Online users / connections (over time)', kOnline), 12, 8],
    [timeSeries('Heartbeats, disconnects, expirations', [
      { expr: 'sum(rate(presence_heartbeats_total[5m]))', legend: 'heartbeats' },
      { expr: 'sum(rate(presence_disconnects_total[5m]))', legend: 'disconnects' },
      { expr: 'sum(rate(presence_expirations_total[5m]))', legend: 'expirations' },
    ], { unit: 'ops' }), 12, 8],
    [timeSeries('Presence query p95', [{ expr: 'histogram_quantile(0.95, sum by (le) (rate(presence_query_duration_seconds_bucket[5m])))', legend: 'p95' }], { unit: 's' }), 12, 8],
    [timeSeries('Read receipts', [
      { expr: 'sum by (result) (rate(read_receipt_updates_total[5m]))', legend: 'updates {{result}}' },
      { expr: 'sum by (result) (rate(read_receipt_flush_total[5m]))', legend: 'flushes {{result}}' },
    ], { unit: 'ops' }), 12, 8],
    [traceTable('Room/presence error traces', '{ resource.service.name =~ "room-service|presence-service|read-receipt-service" && status = error }'), 24, 8],
    [logsPanel('Logs', '{service_name=~"room-service|presence-service|read-receipt-service"} | severity_text=~"WARN|ERROR"'), 24, 10],
  ]);
}

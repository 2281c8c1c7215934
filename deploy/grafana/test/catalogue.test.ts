// The C++ extractor behind the metric catalogue: real sources yield the §6 names; a synthetic
// tree exercises every supported registration form and the unresolved report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractFromSources } from '../src/catalogue.ts';

test('extracts service, library, sink and exporter metrics from the repository sources', () => {
  const { entries, unresolved } = extractFromSources();
  assert.deepEqual(unresolved, []);
  const names = new Map(entries.map((e) => [e.name, e]));
  for (const [name, file] of [
    ['fanout_duration_seconds_bucket', 'services/fanout/metrics.hpp'],
    ['messages_persist_lag_seconds_sum', 'services/persist-worker/metrics.hpp'],
    ['auth_requests_total', 'services/auth/metrics.hpp'],
    ['db_client_operation_duration_seconds_count', 'libs/pg/src/pool.cpp'],
    ['nats_client_connected', 'libs/natsx/src/metrics.cpp'],
    ['otel_sdk_processor_span_processed_total', 'libs/telemetry/src/sdk/sdk.cpp'],
    ['otel_sdk_metric_series_dropped_total', 'libs/telemetry/src/metrics.cpp'],
    ['traces_spanmetrics_latency_bucket', 'tools/telemetry-sink/derived_metrics.cpp'],
    ['traces_service_graph_request_messaging_system_seconds_bucket', 'tools/telemetry-sink/derived_metrics.cpp'],
    ['gnatsd_varz_slow_consumers', 'tools/nats-exporter/exporter.cpp'],
    ['jetstream_consumer_num_ack_pending', 'tools/nats-exporter/exporter.cpp'],
    ['jetstream_server_total_streams', 'tools/nats-exporter/exporter.cpp'],
  ]) {
    assert.ok(names.has(name), `${name} not extracted`);
    assert.ok(names.get(name)!.source.startsWith(file + ':'), `${name} from ${names.get(name)!.source}`);
  }
  // Histogram families are not series themselves; nothing from test/ folders.
  assert.ok(!names.has('fanout_duration_seconds'));
  assert.ok(entries.every((e) => !/\/test\//.test(e.source)));
});

test('synthetic sources: literal, multi-line, prefix-over-array, lambda prefix, unresolved', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'catalogue-'));
  try {
    fs.mkdirSync(path.join(root, 'services', 'x', 'test'), { recursive: true });
    fs.writeFileSync(path.join(root, 'services', 'x', 'm.hpp'), `
      auto a = r.AddCounter("x_requests_total", "h", {"result"});
      auto b = r.AddHistogram(
          "x_duration_seconds", "h", kBucketsNats);
      constexpr const char* kFields[] = {"one", "two"};
      for (const char* field : kFields) r.AddGauge(std::string("x_f_") + field, field);
      auto g = [&](const char* name, const char* help) { return r.AddGauge(std::string("x_l_") + name, help); };
      Gauge c = g("three", "h");
      auto d = r.AddCounter(some_name, "h");
    `);
    fs.writeFileSync(path.join(root, 'services', 'x', 'test', 't.cpp'), 'r.AddCounter("only_in_tests_total", "");');
    const { entries, unresolved } = extractFromSources(root);
    assert.deepEqual(entries.map((e) => e.name).sort(), [
      'x_duration_seconds_bucket', 'x_duration_seconds_count', 'x_duration_seconds_sum',
      'x_f_one', 'x_f_two', 'x_l_three', 'x_requests_total',
    ]);
    assert.equal(unresolved.length, 1);
    assert.match(unresolved[0], /services\/x\/m\.hpp:9: AddCounter\(some_name/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

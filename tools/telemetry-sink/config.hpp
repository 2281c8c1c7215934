// Telemetry sink configuration, read from SINK_* environment variables and validated before the
// sink binds anything (docs/style.md rule 11). Defaults suit the local stack; tests pass a MapEnv.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::sink {

// OpenTelemetry span limits (specification: SDK "Span Limits" and "LogRecord Limits"), applied
// to what the sink stores; read from the OTEL_* variables of the same names. Value length 0 means
// unlimited, as in the specification.
struct SpanLimits {
  size_t attribute_count = 128;               // OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT
  size_t attribute_value_length = 65536;      // OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT
  size_t event_count = 128;                   // OTEL_SPAN_EVENT_COUNT_LIMIT
  size_t link_count = 128;                    // OTEL_SPAN_LINK_COUNT_LIMIT
  size_t event_attribute_count = 128;         // OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT
  size_t link_attribute_count = 128;          // OTEL_LINK_ATTRIBUTE_COUNT_LIMIT
  size_t log_attribute_count = 128;           // OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT
  size_t log_attribute_value_length = 65536;  // OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT
};

struct SinkConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 4318;  // 0 = any free port (printed as {"event":"listening","port":N})
  size_t max_spans = 200000;
  size_t max_logs = 200000;
  std::chrono::seconds max_age{3600};
  size_t max_bytes = size_t{256} * 1024 * 1024;  // the store (spans + logs), approximate heap bytes
  size_t max_body_bytes = size_t{8} * 1024 * 1024;  // before and after gunzip
  // Origins whose pages may read the API and post OTLP (CORS). The local web client's origin by
  // default; the browser normally posts through that origin's nginx and needs no CORS at all.
  // "*" only when configured.
  std::vector<std::string> cors_origins = {"http://127.0.0.1:3000"};
  SpanLimits span_limits;
  std::chrono::seconds service_graph_wait{10};
  size_t service_graph_max_items = 10000;
  size_t max_series_per_family = 2000;  // cap for each trace-derived metric family
  std::string forward_endpoint;         // empty = no forwarding
  size_t forward_queue_size = 1000;     // requests waiting for the upstream

  // Collects every problem: "config: SINK_PORT \"x\" is not ...; ...".
  static core::Result<SinkConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::sink

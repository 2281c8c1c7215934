// Telemetry sink configuration, read from SINK_* environment variables and validated before the
// sink binds anything (docs/style.md rule 11). Defaults suit the local stack; tests pass a MapEnv.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::sink {

struct SinkConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 4318;  // 0 = any free port (printed as {"event":"listening","port":N})
  size_t max_spans = 200000;
  size_t max_logs = 200000;
  std::chrono::seconds max_age{3600};
  size_t max_body_bytes = 8 * 1024 * 1024;  // before and after gunzip
  std::string cors_origin = "*";
  std::chrono::seconds service_graph_wait{10};
  size_t service_graph_max_items = 10000;
  size_t max_series_per_family = 2000;  // cap for each trace-derived metric family
  std::string forward_endpoint;         // empty = no forwarding
  size_t forward_queue_size = 1000;     // requests waiting for the upstream

  // Collects every problem: "config: SINK_PORT \"x\" is not ...; ...".
  static core::Result<SinkConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::sink

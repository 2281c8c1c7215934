// history-service metrics (docs/observability.md §6.3): history_requests_total{type,result} and
// history_request_duration_seconds{type} (B_NATS, exemplars). `type` is room, thread or
// dm_discovery; `result` is ok, denied (permission_denied: not a member, or a reply subject that
// is not a per-user inbox), invalid (malformed body, bad room/thread id, limit > 100) or error
// (database/KV failure). Every series is created with value 0 here (§6.1).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::history_service {

struct HistoryMetrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  // The dispatcher's per-route view of the two families (labels = the `type` value).
  runtime::RouteMetrics room;
  runtime::RouteMetrics thread;
  runtime::RouteMetrics dm_discovery;

  static inline const std::vector<std::string> kTypes{"room", "thread", "dm_discovery"};
  static inline const std::vector<std::string> kResults{"ok", "denied", "invalid", "error"};

  // Heap-allocated: the RouteMetrics point into the struct itself.
  static std::unique_ptr<HistoryMetrics> Create(telemetry::MetricRegistry& registry) {
    auto m = std::make_unique<HistoryMetrics>();
    m->requests =
        registry.AddCounter("history_requests_total",
                            "History requests served, by type and result.", {"type", "result"});
    m->duration = registry.AddHistogram("history_request_duration_seconds",
                                        "Time to serve a history request.", telemetry::kBucketsNats,
                                        {"type"});
    for (const auto& type : kTypes) {
      for (const auto& result : kResults) m->requests.With({type, result});
      m->duration.With({type});
    }
    auto route = [&](const std::string& type) {
      return runtime::RouteMetrics{&m->requests, &m->duration, {type}, kResults};
    };
    m->room = route("room");
    m->thread = route("thread");
    m->dm_discovery = route("dm_discovery");
    return m;
  }
};

}  // namespace chat::history_service

// whiteboard-service metrics (docs/observability.md §6.3), every enumerated series created at 0
// (§6.1) by the dispatcher:
//   whiteboard_requests_total{action,result}      action = list | create | load | delta | delete |
//                                                 unknown (any other subject token);
//                                                 result = ok | denied (not a member, DM room,
//                                                 unknown board, board or room limit) |
//                                                 invalid (malformed body, element or delta
//                                                 limit, unknown action) | error
//   whiteboard_request_duration_seconds{action}   B_NATS, exemplars
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::whiteboard_service {

struct WhiteboardMetrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  runtime::RouteMetrics route;

  static inline const std::vector<std::string> kActions{"list", "create", "load", "delta",
                                                        "delete"};
  static inline const std::vector<std::string> kResults{"ok", "denied", "invalid", "error"};

  // Heap-allocated: the RouteMetrics point into the struct itself.
  static std::unique_ptr<WhiteboardMetrics> Create(telemetry::MetricRegistry& registry) {
    auto m = std::make_unique<WhiteboardMetrics>();
    m->requests =
        registry.AddCounter("whiteboard_requests_total",
                            "Whiteboard requests, by action and result.", {"action", "result"});
    m->duration = registry.AddHistogram("whiteboard_request_duration_seconds",
                                        "Time to answer a whiteboard request, by action.",
                                        telemetry::kBucketsNats, {"action"});
    m->route = runtime::RouteMetrics{&m->requests, &m->duration, {}, kResults};
    m->route.subject_label = runtime::RouteMetrics::SubjectLabel{"action", kActions, "unknown"};
    return m;
  }
};

}  // namespace chat::whiteboard_service

// kb-service metrics (docs/observability.md §6.3), every enumerated series created at 0 (§6.1):
//   kb_requests_total{action,result}      action = list | create | load | save | delete | editing |
//                                         stopedit | unknown (any other subject token);
//                                         result = ok | denied | invalid | error
//   kb_request_duration_seconds{action}   B_NATS, exemplars
//   kb_active_editors                     live (page, editor) entries in KB_EDITORS, all
//                                         instances together (recounted periodically)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::kb_service {

struct KbMetrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  telemetry::Gauge active_editors;
  runtime::RouteMetrics route;

  static inline const std::vector<std::string> kActions{"list",   "create",  "load",    "save",
                                                        "delete", "editing", "stopedit"};
  static inline const std::vector<std::string> kResults{"ok", "denied", "invalid", "error"};

  // Heap-allocated: the dispatcher keeps a pointer to `route`, which points into the struct.
  static std::unique_ptr<KbMetrics> Create(telemetry::MetricRegistry& registry) {
    auto m = std::make_unique<KbMetrics>();
    m->requests =
        registry.AddCounter("kb_requests_total", "Knowledge base requests, by action and result.",
                            {"action", "result"});
    m->duration = registry.AddHistogram("kb_request_duration_seconds",
                                        "Time to answer a knowledge base request, by action.",
                                        telemetry::kBucketsNats, {"action"});
    m->active_editors = registry.AddGauge(
        "kb_active_editors", "Users editing a knowledge base page (KB_EDITORS entries).");
    m->active_editors.Default().Set(0);
    m->route = runtime::RouteMetrics{&m->requests, &m->duration, {}, kResults};
    m->route.subject_label = runtime::RouteMetrics::SubjectLabel{"action", kActions, "unknown"};
    return m;
  }
};

}  // namespace chat::kb_service

// poll-service metrics (docs/observability.md §6.3), every series created at 0 (§6.1):
//   poll_requests_total{action,result}  action = create | list | vote | results | close |
//     unknown (any other action token: a client string never becomes a label); result = ok |
//     denied (not a member, DM room, not the creator, poll closed) | invalid (malformed or
//     oversized body, bounds, out-of-range option, unknown poll, unknown action) | error
//     (database or publish failure)
//   poll_request_duration_seconds{action} (B_NATS, exemplars)
// All actions share one route (app.poll.{room}.{action}.{user}); the dispatcher records them
// with the action as a subject label (runtime::RouteMetrics::subject_label).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::poll_service {

struct PollMetrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  runtime::RouteMetrics route;

  static inline const std::vector<std::string> kActions{"create", "list", "vote", "results",
                                                        "close"};
  static inline const std::vector<std::string> kResults{"ok", "denied", "invalid", "error"};

  // Heap-allocated: the dispatcher keeps a pointer to `route`, which points into the struct.
  static std::unique_ptr<PollMetrics> Create(telemetry::MetricRegistry& registry) {
    auto m = std::make_unique<PollMetrics>();
    m->requests = registry.AddCounter("poll_requests_total", "Poll requests, by action and result.",
                                      {"action", "result"});
    m->duration =
        registry.AddHistogram("poll_request_duration_seconds", "Time to answer a poll request.",
                              telemetry::kBucketsNats, {"action"});
    m->route = runtime::RouteMetrics{&m->requests, &m->duration, {}, kResults};
    m->route.subject_label = runtime::RouteMetrics::SubjectLabel{"action", kActions, "unknown"};
    return m;
  }
};

}  // namespace chat::poll_service

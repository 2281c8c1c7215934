// poll-service metrics (docs/observability.md §6.3), every series created at 0 (§6.1):
//   poll_requests_total{action,result}  action = create | list | vote | results | close |
//     unknown (any other action token: a client string never becomes a label); result = ok |
//     denied (not a member, DM room, not the creator, poll closed) | invalid (malformed or
//     oversized body, bounds, out-of-range option, unknown poll, unknown action) | error
//     (database or publish failure)
//   poll_request_duration_seconds{action} (B_NATS, exemplars)
// All actions share one route (app.poll.{room}.{action}.{user}), so the service records these
// itself with the dispatcher's result mapping (PollService::Record), not through RouteMetrics.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/telemetry/metrics.hpp"

namespace chat::poll_service {

struct PollMetrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;

  static inline const std::vector<std::string> kActions{"create",  "list",  "vote",
                                                        "results", "close", "unknown"};
  static inline const std::vector<std::string> kResults{"ok", "denied", "invalid", "error"};

  // The label for an action token: itself when known, else "unknown".
  static std::string_view ActionLabel(std::string_view action) {
    for (const auto& a : kActions) {
      if (a == action && a != "unknown") return a;
    }
    return "unknown";
  }

  static std::unique_ptr<PollMetrics> Create(telemetry::MetricRegistry& registry) {
    auto m = std::make_unique<PollMetrics>();
    m->requests = registry.AddCounter("poll_requests_total", "Poll requests, by action and result.",
                                      {"action", "result"});
    m->duration =
        registry.AddHistogram("poll_request_duration_seconds", "Time to answer a poll request.",
                              telemetry::kBucketsNats, {"action"});
    for (const auto& action : kActions) {
      for (const auto& result : kResults) m->requests.With({action, result});
      m->duration.With({action});
    }
    return m;
  }
};

}  // namespace chat::poll_service

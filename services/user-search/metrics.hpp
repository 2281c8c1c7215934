// user-search-service metrics (docs/observability.md §6.3), every series created at 0 (§6.1):
//   user_search_requests_total{result}  result = ok | invalid (empty, over-long or non-text
//     query, oversized body, a subject user that is not a valid username) | denied (the reply
//     subject is not the subject user's own inbox, or there is none) | rate_limited (the user's
//     token bucket is empty) | unavailable (the identity provider failed or refused) | error
//   user_search_duration_seconds (B_SLOW: the answer waits for the IdP; exemplars)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::user_search_service {

struct UserSearchMetrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  runtime::RouteMetrics search;

  static inline const std::vector<std::string> kResults{"ok",           "invalid",     "denied",
                                                        "rate_limited", "unavailable", "error"};

  // Heap-allocated: the RouteMetrics point into the struct itself.
  static std::unique_ptr<UserSearchMetrics> Create(telemetry::MetricRegistry& registry) {
    auto m = std::make_unique<UserSearchMetrics>();
    m->requests = registry.AddCounter("user_search_requests_total",
                                      "users.search.{user} requests, by result.", {"result"});
    m->duration = registry.AddHistogram("user_search_duration_seconds",
                                        "Time to answer a users.search.{user} request.",
                                        telemetry::kBucketsSlow);
    for (const auto& result : kResults) m->requests.With({result});
    m->duration.With({});
    m->search = runtime::RouteMetrics{&m->requests, &m->duration, {}, kResults};
    return m;
  }
};

}  // namespace chat::user_search_service

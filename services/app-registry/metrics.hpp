// app-registry-service metrics (docs/observability.md §6.3), every series created at 0 (§6.1):
//   app_registry_requests_total{action,result}  action = list | room | install | uninstall;
//     result = ok | denied (not a member, not the room's owner/admin or a platform admin, a DM
//     room, a reply subject that is not the caller's inbox) | invalid (malformed or oversized
//     body, bad room key, unknown app id) | error (database or KV failure)
//   app_registry_request_duration_seconds{action} (B_NATS, exemplars)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::app_registry_service {

struct AppRegistryMetrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  runtime::RouteMetrics list;
  runtime::RouteMetrics room;
  runtime::RouteMetrics install;
  runtime::RouteMetrics uninstall;

  static inline const std::vector<std::string> kActions{"list", "room", "install", "uninstall"};
  static inline const std::vector<std::string> kResults{"ok", "denied", "invalid", "error"};

  // Heap-allocated: the RouteMetrics point into the struct itself.
  static std::unique_ptr<AppRegistryMetrics> Create(telemetry::MetricRegistry& registry) {
    auto m = std::make_unique<AppRegistryMetrics>();
    m->requests =
        registry.AddCounter("app_registry_requests_total",
                            "App registry requests, by action and result.", {"action", "result"});
    m->duration = registry.AddHistogram("app_registry_request_duration_seconds",
                                        "Time to answer an app registry request.",
                                        telemetry::kBucketsNats, {"action"});
    for (const auto& action : kActions) {
      for (const auto& result : kResults) m->requests.With({action, result});
      m->duration.With({action});
    }
    auto route = [&](const std::string& action) {
      return runtime::RouteMetrics{&m->requests, &m->duration, {action}, kResults};
    };
    m->list = route("list");
    m->room = route("room");
    m->install = route("install");
    m->uninstall = route("uninstall");
    return m;
  }
};

}  // namespace chat::app_registry_service

// sticker-service metrics (docs/observability.md §6.3), every series created at 0 (§6.1):
//   sticker_requests_total{type,result}  type = products | stickers; result = ok | denied (a
//     reply subject that is not the caller's inbox) | invalid (malformed or oversized pack id,
//     unknown pack, a request body where none is taken) | error (database failure)
//   sticker_request_duration_seconds{type} (B_NATS, exemplars)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::sticker_service {

struct StickerMetrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  runtime::RouteMetrics products;
  runtime::RouteMetrics stickers;

  static inline const std::vector<std::string> kTypes{"products", "stickers"};
  static inline const std::vector<std::string> kResults{"ok", "denied", "invalid", "error"};

  // Heap-allocated: the RouteMetrics point into the struct itself.
  static std::unique_ptr<StickerMetrics> Create(telemetry::MetricRegistry& registry) {
    auto m = std::make_unique<StickerMetrics>();
    m->requests =
        registry.AddCounter("sticker_requests_total",
                            "Sticker catalogue requests, by type and result.", {"type", "result"});
    m->duration = registry.AddHistogram("sticker_request_duration_seconds",
                                        "Time to answer a sticker catalogue request.",
                                        telemetry::kBucketsNats, {"type"});
    for (const auto& type : kTypes) {
      for (const auto& result : kResults) m->requests.With({type, result});
      m->duration.With({type});
    }
    m->products = runtime::RouteMetrics{&m->requests, &m->duration, {"products"}, kResults};
    m->stickers = runtime::RouteMetrics{&m->requests, &m->duration, {"stickers"}, kResults};
    return m;
  }
};

}  // namespace chat::sticker_service

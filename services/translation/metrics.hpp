// translation-service metrics (docs/observability.md §6.3), every series created at 0 (§6.1):
//   translate_requests_total{target_lang,result}  target_lang = the target tags of the backend's
//     pairs, else `other`; result = ok | error (bad request, backend failure, timeout) |
//     unavailable (no such pair, service busy, backend down)
//   translate_duration_seconds{target_lang} (B_SLOW, exemplars)
//   translation_backend_available (0/1; the start-up and periodic probes, and every translation)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::translation_service {

struct TranslationMetrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  telemetry::Gauge available;
  runtime::RouteMetrics route;

  static inline const std::vector<std::string> kResults{"ok", "error", "unavailable"};

  // Heap-allocated: `route` points into the struct itself. `target_langs` are the label values
  // (`other` is added as the fallback).
  static std::unique_ptr<TranslationMetrics> Create(telemetry::MetricRegistry& registry,
                                                    std::vector<std::string> target_langs) {
    auto m = std::make_unique<TranslationMetrics>();
    m->requests = registry.AddCounter("translate_requests_total",
                                      "Translation requests, by target language and result.",
                                      {"target_lang", "result"});
    m->duration = registry.AddHistogram("translate_duration_seconds",
                                        "Time from a translation request to its final chunk.",
                                        telemetry::kBucketsSlow, {"target_lang"});
    m->available = registry.AddGauge(
        "translation_backend_available",
        "1 while the translation backend answers its probe and translations succeed.");
    m->available.With({}).Set(0);
    // No leading labels: target_lang is the route's "subject" label, set from the body.
    m->route = runtime::RouteMetrics{&m->requests, &m->duration, {}, kResults};
    m->route.subject_label =
        runtime::RouteMetrics::SubjectLabel{"target_lang", std::move(target_langs), "other"};
    return m;
  }
};

}  // namespace chat::translation_service

// read-receipt-service metrics (docs/observability.md §6.3), every enumerated series created at
// 0 (§6.1):
//   read_receipt_updates_total{result}  ok | noop (not newer than the stored position) |
//                                       invalid (bad body, body user ≠ subject user) | error
//   read_receipt_queries_total{result}  ok | denied (not a member / not a user inbox) |
//                                       invalid | error
//   read_receipt_flush_total{result}    ok | error — counted in rows (positions written, or
//                                       positions re-queued after a failed flush)
//   read_receipt_query_duration_seconds (B_NATS, exemplars), read_receipt_dirty_entries (gauge)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::read_receipt_service {

struct ReadReceiptMetrics {
  telemetry::Counter updates;
  telemetry::Counter queries;
  telemetry::Counter flush;
  telemetry::Histogram query_duration;
  telemetry::Gauge dirty_entries;
  runtime::RouteMetrics update_route;
  runtime::RouteMetrics query_route;

  static inline const std::vector<std::string> kUpdateResults{"ok", "noop", "invalid", "error"};
  static inline const std::vector<std::string> kQueryResults{"ok", "denied", "invalid", "error"};
  static inline const std::vector<std::string> kFlushResults{"ok", "error"};

  // Heap-allocated: the RouteMetrics point into the struct itself.
  static std::unique_ptr<ReadReceiptMetrics> Create(telemetry::MetricRegistry& registry) {
    auto m = std::make_unique<ReadReceiptMetrics>();
    m->updates = registry.AddCounter("read_receipt_updates_total",
                                     "Read position updates, by result.", {"result"});
    m->queries = registry.AddCounter("read_receipt_queries_total", "read.state queries, by result.",
                                     {"result"});
    m->flush =
        registry.AddCounter("read_receipt_flush_total",
                            "Read positions flushed to Postgres (rows), by result.", {"result"});
    m->query_duration =
        registry.AddHistogram("read_receipt_query_duration_seconds",
                              "Time to answer a read.state query.", telemetry::kBucketsNats);
    m->dirty_entries = registry.AddGauge("read_receipt_dirty_entries",
                                         "Read positions not yet flushed to Postgres.");
    for (const auto& r : kUpdateResults) m->updates.With({r});
    for (const auto& r : kQueryResults) m->queries.With({r});
    for (const auto& r : kFlushResults) m->flush.With({r});
    m->query_duration.Default();
    m->dirty_entries.Default().Set(0);
    m->update_route = runtime::RouteMetrics{&m->updates, nullptr, {}, kUpdateResults};
    m->query_route = runtime::RouteMetrics{&m->queries, &m->query_duration, {}, kQueryResults};
    return m;
  }
};

}  // namespace chat::read_receipt_service

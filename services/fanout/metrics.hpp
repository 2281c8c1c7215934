// FanoutMetrics: every instrument fanout-service exposes (docs/observability.md §6.3, fanout
// rows), created once with every enumerated series at zero so increase() and alerts see the
// first event. No room/user labels: those are span attributes only.
#pragma once

#include <initializer_list>
#include <string_view>

#include "chat/telemetry/metrics.hpp"

namespace chat::fanout {

// fanout_messages_total / fanout_deliveries_total / fanout_duration_seconds `kind` values; the
// same spelling as chat.fanout.kind.
inline constexpr std::string_view kKindRoom = "room";
inline constexpr std::string_view kKindPrivate = "private";
inline constexpr std::string_view kKindAdmin = "admin";
inline constexpr std::string_view kKindApp = "app";

inline constexpr std::string_view kDropQueueFull = "queue_full";
inline constexpr std::string_view kDropPublishFailed = "publish_failed";

inline constexpr std::string_view kFetchFound = "found";
inline constexpr std::string_view kFetchNotFound = "not_found";
inline constexpr std::string_view kFetchInvalid = "invalid";

inline constexpr std::string_view kKvGet = "get";
inline constexpr std::string_view kKvCreate = "create";
inline constexpr std::string_view kKvUpdate = "update";
inline constexpr std::string_view kKvCircuitOpen = "circuit_open";

struct FanoutMetrics {
  telemetry::Counter ingest;             // fanout_ingest_total{result}
  telemetry::Counter messages;           // fanout_messages_total{kind}
  telemetry::Counter deliveries;         // fanout_deliveries_total{kind}
  telemetry::Histogram duration;         // fanout_duration_seconds{kind}, ex
  telemetry::Counter cache_lookups;      // fanout_cache_lookups_total{result}
  telemetry::Counter drops;              // fanout_drops_total{reason}
  telemetry::Counter rate_limit_errors;  // fanout_rate_limit_errors_total{operation}
  telemetry::Counter fetches;            // fanout_fetches_total{result}
  telemetry::Histogram fetch_duration;   // fanout_fetch_duration_seconds, ex
  telemetry::Gauge cached_rooms;         // fanout_cached_rooms
  telemetry::Gauge cached_members;       // fanout_cached_members
  telemetry::Gauge queue_depth;          // fanout_worker_queue_depth
  telemetry::Gauge circuit_open;         // fanout_rate_limit_circuit_open (0/1)

  static FanoutMetrics Create(telemetry::MetricRegistry& r) {
    FanoutMetrics m{
        r.AddCounter("fanout_ingest_total", "Ingest publishes by outcome.", {"result"}),
        r.AddCounter("fanout_messages_total", "Messages routed by the notify, admin and app paths.",
                     {"kind"}),
        r.AddCounter("fanout_deliveries_total",
                     "Notification or copy publishes, one per recipient.", {"kind"}),
        r.AddHistogram("fanout_duration_seconds", "Time to route one message (the process span).",
                       telemetry::kBucketsNats, {"kind"}),
        r.AddCounter("fanout_cache_lookups_total", "Membership LRU lookups by result.", {"result"}),
        r.AddCounter("fanout_drops_total", "Per-member copies that were not delivered.",
                     {"reason"}),
        r.AddCounter("fanout_rate_limit_errors_total",
                     "RATE_LIMIT failures and checks skipped by the open circuit breaker.",
                     {"operation"}),
        r.AddCounter("fanout_fetches_total", "msg.get requests by result.", {"result"}),
        r.AddHistogram("fanout_fetch_duration_seconds", "Time to answer msg.get.",
                       telemetry::kBucketsNats),
        r.AddGauge("fanout_cached_rooms", "Rooms in the membership LRU."),
        r.AddGauge("fanout_cached_members", "Memberships held by the membership LRU."),
        r.AddGauge("fanout_worker_queue_depth", "Delivery jobs waiting for a worker."),
        r.AddGauge("fanout_rate_limit_circuit_open",
                   "1 while the rate-limit circuit breaker is open or half-open, else 0."),
    };
    for (std::string_view result :
         {"accepted", "rate_limited", "rejected_sender", "rejected_membership", "invalid"}) {
      m.ingest.With({result});
    }
    for (std::string_view kind : {kKindRoom, kKindPrivate, kKindAdmin, kKindApp}) {
      m.messages.With({kind});
      m.deliveries.With({kind});
      m.duration.With({kind});
    }
    for (std::string_view result : {"hit", "miss"}) m.cache_lookups.With({result});
    for (std::string_view reason : {kDropQueueFull, kDropPublishFailed}) m.drops.With({reason});
    for (std::string_view op : {kKvGet, kKvCreate, kKvUpdate, kKvCircuitOpen}) {
      m.rate_limit_errors.With({op});
    }
    for (std::string_view result : {kFetchFound, kFetchNotFound, kFetchInvalid}) {
      m.fetches.With({result});
    }
    m.fetch_duration.Default();
    m.cached_rooms.Default().Set(0);
    m.cached_members.Default().Set(0);
    m.queue_depth.Default().Set(0);
    m.circuit_open.Default().Set(0);
    return m;
  }
};

}  // namespace chat::fanout

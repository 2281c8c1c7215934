// PersistMetrics: every instrument persist-worker exposes (docs/observability.md §6.3), created
// once with every enumerated series at zero so increase() and alerts see the first failure.
// Labels are closed enumerations only (action, reason); never room or user.
#pragma once

#include <array>
#include <string_view>

#include "chat/telemetry/metrics.hpp"

namespace chat::persist_worker {

// messages_persist_*{action}: the chat.action spelling (system messages count as send).
inline constexpr std::array<std::string_view, 4> kActions = {"send", "edit", "delete", "react"};

// messages_persist_errors_total{reason}.
inline constexpr std::string_view kReasonDbUnavailable = "db_unavailable";
inline constexpr std::string_view kReasonDbError = "db_error";
inline constexpr std::string_view kReasonInvalidPayload = "invalid_payload";
inline constexpr std::string_view kReasonTimeout = "timeout";
inline constexpr std::array<std::string_view, 4> kReasons = {kReasonDbUnavailable, kReasonDbError,
                                                             kReasonInvalidPayload, kReasonTimeout};

struct PersistMetrics {
  telemetry::Counter persisted;     // messages_persisted_total{action}
  telemetry::Counter errors;        // messages_persist_errors_total{action, reason}
  telemetry::Counter duplicates;    // messages_persist_duplicates_total{action}
  telemetry::Counter noop;          // messages_persist_noop_total{action}
  telemetry::Counter redeliveries;  // messages_persist_redeliveries_total
  telemetry::Histogram duration;    // messages_persist_duration_seconds{action}, B_NATS
  telemetry::Histogram lag;         // messages_persist_lag_seconds, B_LAG

  static PersistMetrics Create(telemetry::MetricRegistry& registry) {
    PersistMetrics m{
        registry.AddCounter("messages_persisted_total",
                            "Messages whose database effect was committed, by action.", {"action"}),
        registry.AddCounter("messages_persist_errors_total",
                            "Messages that could not be persisted (NAK'd or terminated).",
                            {"action", "reason"}),
        registry.AddCounter("messages_persist_duplicates_total",
                            "Inserts ignored because the row already existed (redelivery).",
                            {"action"}),
        registry.AddCounter("messages_persist_noop_total", "Edits and deletes that matched no row.",
                            {"action"}),
        registry.AddCounter("messages_persist_redeliveries_total",
                            "Messages received with a JetStream delivery count above 1."),
        registry.AddHistogram("messages_persist_duration_seconds",
                              "From receiving a message to its commit and ack.",
                              telemetry::kBucketsNats, {"action"}),
        registry.AddHistogram("messages_persist_lag_seconds",
                              "Commit time minus the time JetStream stored the message.",
                              telemetry::kBucketsLag),
    };
    for (std::string_view action : kActions) {
      m.persisted.With({action});
      m.duplicates.With({action});
      m.noop.With({action});
      m.duration.With({action});
      for (std::string_view reason : kReasons) m.errors.With({action, reason});
    }
    m.redeliveries.Default();
    m.lag.Default();
    return m;
  }
};

}  // namespace chat::persist_worker

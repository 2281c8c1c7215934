// PresenceMetrics: every instrument presence-service exposes (docs/observability.md §6.3), created
// once with every enumerated series at zero so increase() and alerts see the first event. No
// `room`/`user` labels (the reference's per-user series were unbounded).
#pragma once

#include <string_view>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::presence_service {

inline constexpr std::string_view kStatuses[] = {"online", "away", "busy", "offline"};
// presence_rejected_total{reason}: a heartbeat with a new connId beyond the per-user cap, and a
// non-offline update from a user without a live connection.
inline constexpr std::string_view kRejectTooManyConnections = "too_many_connections";
inline constexpr std::string_view kRejectNotConnected = "not_connected";

struct PresenceMetrics {
  telemetry::Counter heartbeats;        // presence_heartbeats_total
  telemetry::Counter disconnects;       // presence_disconnects_total
  telemetry::Counter expirations;       // presence_expirations_total
  telemetry::Counter updates;           // presence_updates_total{status}
  telemetry::Counter queries;           // presence_queries_total{result}
  telemetry::Counter rejected;          // presence_rejected_total{reason}
  telemetry::Histogram query_duration;  // presence_query_duration_seconds (B_NATS, exemplars)
  telemetry::Gauge online_users;        // presence_online_users
  telemetry::Gauge connections;         // presence_connections

  static PresenceMetrics Create(telemetry::MetricRegistry& registry) {
    PresenceMetrics m{
        registry.AddCounter("presence_heartbeats_total", "Heartbeats handled."),
        registry.AddCounter("presence_disconnects_total", "Explicit disconnects handled."),
        registry.AddCounter("presence_expirations_total",
                            "Users taken offline because their last connection's TTL ran out."),
        registry.AddCounter("presence_updates_total", "Accepted status updates by status.",
                            {"status"}),
        registry.AddCounter("presence_queries_total", "Room presence queries by result.",
                            {"result"}),
        registry.AddCounter("presence_rejected_total",
                            "Heartbeats and updates refused, by reason (too_many_connections: a "
                            "new connId beyond the per-user cap; not_connected).",
                            {"reason"}),
        registry.AddHistogram("presence_query_duration_seconds",
                              "Time to answer a room presence query.", telemetry::kBucketsNats),
        registry.AddGauge("presence_online_users",
                          "Distinct users with at least one live connection in this instance's "
                          "mirror of PRESENCE_CONN."),
        registry.AddGauge("presence_connections",
                          "Live connections in this instance's mirror of PRESENCE_CONN."),
    };
    m.heartbeats.Default();
    m.disconnects.Default();
    m.expirations.Default();
    for (std::string_view status : kStatuses) m.updates.With({status});
    m.rejected.With({kRejectTooManyConnections});
    m.rejected.With({kRejectNotConnected});
    // The dispatcher zero-initialises the query results through the route's RouteMetrics.
    m.query_duration.Default();
    m.online_users.Default().Set(0);
    m.connections.Default().Set(0);
    return m;
  }
};

}  // namespace chat::presence_service

// RoomMetrics: every instrument room-service exposes (docs/observability.md §6.3), created once
// with all enumerated series at zero, and the per-route RouteMetrics the dispatcher records.
// Labels never carry a room or a user.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "chat/runtime/dispatcher.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::room_service {

inline constexpr std::array<std::string_view, 6> kActions = {"create", "list", "info",
                                                             "invite", "kick", "depart"};

struct RoomMetrics {
  telemetry::Counter joins;           // room_joins_total{result=ok|noop|denied|error}
  telemetry::Counter leaves;          // room_leaves_total{result=ok|noop|denied|error}
  telemetry::Counter requests;        // room_requests_total{action, result}
  telemetry::Histogram duration;      // room_request_duration_seconds{action}, B_NATS
  telemetry::Counter member_queries;  // room_member_queries_total{result=ok|error}
  telemetry::Gauge active_rooms;      // room_active_rooms (rooms with >= 1 live member)
  telemetry::Gauge memberships;       // room_memberships (live {room,user} pairs)

  static RoomMetrics Create(telemetry::MetricRegistry& registry) {
    RoomMetrics m{
        registry.AddCounter("room_joins_total", "room.join requests by outcome.", {"result"}),
        registry.AddCounter("room_leaves_total", "room.leave requests by outcome.", {"result"}),
        registry.AddCounter("room_requests_total", "Private-room management requests.",
                            {"action", "result"}),
        registry.AddHistogram("room_request_duration_seconds",
                              "Time to answer a private-room management request.",
                              telemetry::kBucketsNats, {"action"}),
        registry.AddCounter("room_member_queries_total", "room.members queries by outcome.",
                            {"result"}),
        registry.AddGauge("room_active_rooms", "Rooms with at least one live member."),
        registry.AddGauge("room_memberships", "Live room memberships in the local view."),
    };
    for (std::string_view r : {"ok", "noop", "denied", "error"}) {
      m.joins.With({r});
      m.leaves.With({r});
    }
    for (std::string_view a : kActions) {
      for (std::string_view r : {"ok", "denied", "not_found", "error"}) m.requests.With({a, r});
      m.duration.With({a});
    }
    for (std::string_view r : {"ok", "error"}) m.member_queries.With({r});
    m.active_rooms.Default().Set(0);
    m.memberships.Default().Set(0);
    return m;
  }
};

// The dispatcher's view of the metrics above, one RouteMetrics per route. Must outlive the
// Dispatcher (it keeps pointers).
struct RoomRouteMetrics {
  runtime::RouteMetrics join;
  runtime::RouteMetrics leave;
  runtime::RouteMetrics members;
  runtime::RouteMetrics create, list, info, invite, kick, depart;

  explicit RoomRouteMetrics(const RoomMetrics& m)
      : join{&m.joins, nullptr, {}, {"ok", "noop", "denied", "error"}},
        leave{&m.leaves, nullptr, {}, {"ok", "noop", "denied", "error"}},
        members{&m.member_queries, nullptr, {}, {"ok", "error"}},
        create(Action(m, "create")),
        list(Action(m, "list")),
        info(Action(m, "info")),
        invite(Action(m, "invite")),
        kick(Action(m, "kick")),
        depart(Action(m, "depart")) {}

 private:
  static runtime::RouteMetrics Action(const RoomMetrics& m, std::string_view action) {
    return runtime::RouteMetrics{
        &m.requests, &m.duration, {std::string(action)}, {"ok", "denied", "not_found", "error"}};
  }
};

}  // namespace chat::room_service

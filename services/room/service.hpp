// RoomService: room-service assembled — the repository over Postgres (connected with retry), the
// ROOMS bucket (create-or-bind, File storage, history 1), the membership mirror (delta route
// subscribed first, then hydrated from ROOMS), and every route on one Dispatcher. main.cpp wraps
// Create() for runtime::ServiceMain; tests call it directly with an in-memory telemetry bundle.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/membership/reconnect_rebuilder.hpp"
#include "chat/membership/room_index.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/kv.hpp"
#include "chat/runtime/service_main.hpp"
#include "chat/runtime/shutdown.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"
#include "handlers/room_handlers.hpp"
#include "metrics.hpp"
#include "repository/room_repository.hpp"

namespace chat::room_service {

class RoomService final : public runtime::Service {
 public:
  // Errors: unavailable (Postgres or NATS/JetStream unreachable after the retries, or
  // `shutdown` fired during the database retries), plus whatever subscribing or hydrating
  // reports. `bus`, `telemetry`, `clock` and `shutdown` must outlive it.
  static core::Result<std::unique_ptr<RoomService>> Create(
      const RoomConfig& config, runtime::Bus& bus, const telemetry::Telemetry& telemetry,
      const core::Clock& clock, const runtime::ShutdownSignal* shutdown = nullptr);
  ~RoomService() override;
  RoomService(const RoomService&) = delete;
  RoomService& operator=(const RoomService&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }

  const membership::MembershipMirror& mirror() const { return mirror_; }
  const RoomMetrics& metrics() const { return metrics_; }
  // Re-binds ROOMS and re-hydrates the mirror after every NATS reconnect (system.md §6.5).
  const membership::ReconnectRebuilder& rebuilder() const { return *rebuilder_; }

 private:
  RoomService(const telemetry::Telemetry& telemetry);

  RoomMetrics metrics_;
  RoomRouteMetrics route_metrics_;
  std::unique_ptr<runtime::JetStream> js_;
  std::unique_ptr<runtime::KeyValue> kv_;
  membership::MembershipMirror mirror_;
  std::unique_ptr<RoomRepository> repo_;
  std::unique_ptr<RoomHandlers> handlers_;
  // Declared last: destroyed first, so no handler runs on the members above while they go.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
  // Stopped explicitly before anything else in the destructor and in Drain.
  std::unique_ptr<membership::ReconnectRebuilder> rebuilder_;
};

}  // namespace chat::room_service

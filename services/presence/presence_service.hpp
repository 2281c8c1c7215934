// PresenceService: who is online, per room (system.md §3.3.4, §6.6, with ADR 0001's subjects).
// Connections are PRESENCE_CONN keys refreshed by heartbeats; this instance mirrors them through
// a KV watch and sweeps connections whose TTL ran out (nats-server 2.9 writes no delete marker when
// a KV entry ages out, so a watcher alone never sees a crashed tab: system.md §10 item 2). The
// instance that wins the compare-and-set of PRESENCE to offline publishes the offline diffs and
// the room.leave.{room}.{user} requests. Membership comes from a MembershipMirror of ROOMS.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chat/contracts/presence.hpp"
#include "chat/contracts/rooms.hpp"
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
#include "metrics.hpp"
#include "presence_state.hpp"

namespace chat::presence_service {

class PresenceService final : public runtime::Service {
 public:
  // Creates the buckets (idempotent), subscribes to room.changed, hydrates membership, loads the
  // connection mirror, registers the routes and starts the watcher/sweeper thread.
  // Errors: unavailable (NATS/JetStream unreachable, or `shutdown` fired while start-up
  // waited), internal. `shutdown` (ServiceMain's; may be null) must outlive the service.
  static core::Result<std::unique_ptr<PresenceService>> Create(
      const PresenceConfig& config, runtime::Bus& bus, const telemetry::Telemetry& telemetry,
      const core::Clock& clock, const runtime::ShutdownSignal* shutdown = nullptr);
  ~PresenceService() override;
  PresenceService(const PresenceService&) = delete;
  PresenceService& operator=(const PresenceService&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }

  // Read-only views for tests and readiness checks.
  const ConnectionTracker& tracker() const { return tracker_; }
  const membership::MembershipMirror& mirror() const { return mirror_; }
  const RoomTypes& room_types() const { return room_types_; }
  // Rebuilds buckets, tracker, watcher and membership after every NATS reconnect (§6.6).
  const membership::ReconnectRebuilder& rebuilder() const { return *rebuilder_; }

 private:
  PresenceService(const PresenceConfig& config, runtime::Bus& bus,
                  const telemetry::Telemetry& telemetry, const core::Clock& clock);

  core::Status Start();
  core::Status RegisterRoutes();
  core::Status LoadConnections();
  // Creates (or binds) PRESENCE, PRESENCE_CONN and ROOMS; the handles are name-based, so the
  // ones already held keep working once the buckets exist again.
  core::Status EnsureBuckets();
  // system.md §6.6 "Reconnect": recreate buckets, clear the tracker and reload it from
  // PRESENCE_CONN with a fresh watcher (the old one may have died with a memory bucket), restart
  // the watch thread, re-hydrate membership. Runs on the bus's reconnect worker.
  core::Status RebuildAfterReconnect(telemetry::Span& span);
  void StartWatchThread();
  void WatchLoop();
  void Sweep();
  // Joins the watch thread and stops the KV watch (idempotent; Drain and the destructor).
  void StopWatcher();

  // ---- handlers (handlers/*.cpp) ----
  core::Status OnHeartbeat(const contracts::PresenceHeartbeat& req, runtime::RequestContext& ctx);
  core::Status OnDisconnect(const contracts::PresenceHeartbeat& req, runtime::RequestContext& ctx);
  core::Status OnUpdate(const contracts::PresenceUpdate& req, runtime::RequestContext& ctx);
  core::Status OnRoomChanged(const contracts::RoomChanged& delta, runtime::RequestContext& ctx);
  core::Result<contracts::PresenceRoomReply> OnRoomQuery(runtime::RequestContext& ctx);

  // ---- shared steps ----
  // Publishes `diff` for `room`: multicast for public rooms, one copy per member otherwise.
  core::Status PublishDiff(std::string_view room, const contracts::PresenceDiff& diff,
                           const telemetry::SpanContext& parent);
  core::Status PublishDiffToRooms(const std::vector<std::string>& rooms,
                                  const contracts::PresenceDiff& diff,
                                  const telemetry::SpanContext& parent);
  core::Status PutStatus(std::string_view user, contracts::PresenceStatus status,
                         const telemetry::SpanContext& parent);
  // The user's stored status, or online when PRESENCE has none (a live connection is online).
  core::Result<contracts::PresenceStatus> StoredStatus(std::string_view user,
                                                       const telemetry::SpanContext& parent);
  // Offline cleanup (§6.6): compare-and-set PRESENCE to offline; the winner publishes offline
  // diffs and room.leave for every room. Returns true when this instance won.
  core::Result<bool> GoOffline(std::string_view user, std::string_view reason,
                               telemetry::Span& span);
  void RefreshGauges();

  PresenceConfig config_;
  runtime::Bus& bus_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;
  PresenceMetrics metrics_;
  runtime::RouteMetrics query_metrics_;

  std::unique_ptr<runtime::JetStream> js_;
  std::unique_ptr<runtime::KeyValue> presence_kv_;
  std::unique_ptr<runtime::KeyValue> conn_kv_;
  std::unique_ptr<runtime::KeyValue> rooms_kv_;

  membership::MembershipMirror mirror_;
  ConnectionTracker tracker_;
  RoomTypes room_types_;

  // Declared after everything its handlers touch, so it is destroyed (unsubscribed) first.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;

  std::unique_ptr<runtime::KvWatcher> watcher_;
  bool watcher_stopped_ = false;
  std::atomic<bool> stopping_{false};
  // The watch thread's back-off waits here, so StopWatcher (Drain, right after SIGTERM) ends it
  // at once.
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  const runtime::ShutdownSignal* shutdown_ = nullptr;
  std::thread watch_thread_;

  // Stopped first in Drain and the destructor: it restarts the watch thread.
  std::unique_ptr<membership::ReconnectRebuilder> rebuilder_;
};

}  // namespace chat::presence_service

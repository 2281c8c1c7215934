// history-service: the three read-only history routes of system.md §3.3.2 with the identity and
// membership rules of docs/adr/0001 (the caller is the owner of the per-user reply inbox; DM,
// private and admin rooms are readable by their members only). Failures are real error replies
// (contracts::ErrorReply), unlike the reference's empty results.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/messages.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/kv.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "repository/history_repository.hpp"

namespace chat::history_service {

// Thread history returns at most this many replies (system.md §6.4).
inline constexpr std::int64_t kThreadLimit = 200;
// ROOMS membership key of the admin channel (system.md §3.1): members are the admins.
inline constexpr std::string_view kAdminMembershipRoom = "__admin__chat";

class HistoryService final : public runtime::Service {
 public:
  // Connects the pool (fails with unavailable when Postgres is unreachable), binds ROOMS when it
  // exists (else on first admin-room request), and registers the routes on `bus`, which must
  // outlive the service.
  static core::Result<std::unique_ptr<HistoryService>> Create(const HistoryConfig& config,
                                                              runtime::Bus& bus,
                                                              const core::Clock& clock);
  ~HistoryService() override;
  HistoryService(const HistoryService&) = delete;
  HistoryService& operator=(const HistoryService&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }

 private:
  HistoryService(runtime::Bus& bus, const core::Clock& clock);
  // `concurrency` handler threads per route (one per pooled connection): handlers block on
  // Postgres, so one delivery thread would serialise every request of the instance.
  core::Status Register(int concurrency);

  core::Result<contracts::HistoryPage> HandleRoom(const contracts::HistoryRequest& req,
                                                  runtime::RequestContext& ctx);
  core::Result<contracts::HistoryThreadReply> HandleThread(runtime::RequestContext& ctx);
  core::Result<contracts::DmListReply> HandleDms(runtime::RequestContext& ctx);

  // OK when `user` may read `room`; permission_denied, invalid_argument or a backend failure.
  // Sets chat.room.type on the span.
  core::Status CheckAccess(std::string_view room, std::string_view user,
                           runtime::RequestContext& ctx);
  core::Result<runtime::KeyValue*> RoomsBucket();

  std::unique_ptr<HistoryRepository> repo_;
  std::unique_ptr<runtime::JetStream> js_;
  std::mutex rooms_mu_;
  std::unique_ptr<runtime::KeyValue> rooms_;
  std::unique_ptr<HistoryMetrics> metrics_;
  // Last member: destroyed first, so no handler runs while the rest is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

}  // namespace chat::history_service

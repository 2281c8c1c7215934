// app-registry-service (system.md §3.3.9, §6.11 with docs/adr/0001): the app catalogue
// (apps.list), a room's installed apps (apps.room.{room}, members only) and installation
// (apps.install.{room}.{user} / apps.uninstall.{room}.{user}): only a private room's owner or
// admins, or a platform admin for a public room or the admin channel; never in a DM room. The
// acting user is the subject's; membership comes from a MembershipMirror of ROOMS and
// room.changed.{room}; roles and room types from Postgres (rooms, room_members).
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "chat/contracts/apps.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/membership/reconnect_rebuilder.hpp"
#include "chat/membership/room_index.hpp"
#include "chat/membership/room_members.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/kv.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "repository/app_repository.hpp"

namespace chat::app_registry_service {

class AppRegistryService final : public runtime::Service {
 public:
  // Connects the pool, binds (or creates) ROOMS, subscribes to room.changed and hydrates the
  // mirror, then serves the four routes. `bus` and `clock` must outlive it.
  static core::Result<std::unique_ptr<AppRegistryService>> Create(const AppRegistryConfig& config,
                                                                  runtime::Bus& bus,
                                                                  const core::Clock& clock);
  ~AppRegistryService() override;
  AppRegistryService(const AppRegistryService&) = delete;
  AppRegistryService& operator=(const AppRegistryService&) = delete;
  AppRegistryService(AppRegistryService&&) = delete;
  AppRegistryService& operator=(AppRegistryService&&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }
  const membership::ReconnectRebuilder& rebuilder() const { return members_->rebuilder(); }

 private:
  AppRegistryService(AppRegistryConfig config, runtime::Bus& bus, const core::Clock& clock);
  core::Status Register();

  // Install/uninstall: a private room's owner or admin; a platform admin elsewhere.
  core::Status RequireManager(runtime::RequestContext& ctx, std::string_view room);
  // The app exists in the catalogue (not_found otherwise, counted as invalid).
  core::Status RequireApp(runtime::RequestContext& ctx, std::string_view app_id);

  core::Result<contracts::AppList> HandleList(runtime::RequestContext& ctx);
  core::Result<contracts::RoomAppList> HandleRoom(runtime::RequestContext& ctx);
  core::Result<contracts::OkReply> HandleInstall(const contracts::AppInstallRequest& req,
                                                 runtime::RequestContext& ctx);
  core::Result<contracts::OkReply> HandleUninstall(const contracts::AppUninstallRequest& req,
                                                   runtime::RequestContext& ctx);

  AppRegistryConfig config_;
  std::unique_ptr<AppRegistryMetrics> metrics_;
  std::unique_ptr<AppRepository> repo_;
  std::unique_ptr<runtime::JetStream> js_;

  std::unique_ptr<membership::RoomMembers> members_;  // outlives the dispatcher (its route)

  // Last members: destroyed first, so no handler runs while the rest is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

}  // namespace chat::app_registry_service

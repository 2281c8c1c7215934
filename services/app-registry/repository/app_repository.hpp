// SQL of app-registry-service (system.md §5.3 plus 0004_apps.sql): the apps catalogue,
// room_apps installations, and — for the install/uninstall check — a room's type and the
// caller's role in it. Each call is one libs/pg statement and one CLIENT span (`SELECT apps`,
// `SELECT room_apps`, `INSERT room_apps`, `DELETE room_apps`, `SELECT rooms`).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/apps.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"

namespace chat::app_registry_service {

// What the install check needs to know about a room: whether room-service manages it (a
// `rooms` row: private) and, if so, the caller's role there (nullopt: not a member).
struct RoomAuthority {
  bool managed = false;
  std::optional<contracts::RoomRole> role;
};

class AppRepository {
 public:
  explicit AppRepository(std::unique_ptr<pg::Pool> pool);

  // One eager connection attempt. Errors: unavailable, invalid_argument (bad DSN).
  static core::Result<std::unique_ptr<AppRepository>> Connect(
      const AppRegistryConfig& config, const telemetry::Telemetry& telemetry);

  // The catalogue, by name.
  core::Result<std::vector<contracts::AppInfo>> ListApps(const telemetry::SpanContext& parent);
  // The room's installed apps with installer, time (RFC 3339, UTC) and config, by install time.
  core::Result<std::vector<contracts::AppInfo>> RoomApps(const telemetry::SpanContext& parent,
                                                         std::string_view room);
  core::Result<bool> AppExists(const telemetry::SpanContext& parent, std::string_view app_id);
  core::Result<RoomAuthority> Authority(const telemetry::SpanContext& parent, std::string_view room,
                                        std::string_view user);
  // INSERT ... ON CONFLICT DO NOTHING: false when the app was already installed (kept as is).
  // `config` is a JSON object's text ("" = {}).
  core::Result<bool> Install(const telemetry::SpanContext& parent, std::string_view room,
                             std::string_view app_id, std::string_view user,
                             std::string_view config);
  // false when the app was not installed.
  core::Result<bool> Uninstall(const telemetry::SpanContext& parent, std::string_view room,
                               std::string_view app_id);

 private:
  std::unique_ptr<pg::Pool> pool_;
};

}  // namespace chat::app_registry_service

// app-registry-service wire types (system.md §3.3.9 with ADR 0001's apps.install.{room}.{user}
// and apps.uninstall.{room}.{user}): the app catalogue, a room's installed apps and the
// install/uninstall requests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// Bounds of the registry's fields (README.md): an app id is a subject token.
inline constexpr std::size_t kMaxAppIdBytes = 64;
// An installation's config object, as canonical JSON text.
inline constexpr std::size_t kMaxAppConfigBytes = 4096;

// An app id is 1-64 bytes of [a-z0-9-] (it is the {app} token of app.{app}.…).
core::Status ValidateAppId(std::string_view app_id);

// Installation is a contract between app-registry-service, the only writer of room_apps (on
// apps.install / apps.uninstall, for a room's managers), and the app backends (poll, whiteboard,
// kb), which serve a room only while its row exists. Both halves live here so the three
// backends ask the same question and refuse with the same words.
//
// The backends' query, $1 = room, $2 = app id: a row means installed (one primary-key lookup).
// Each backend declares it as a pg::Statement in its repository (db/migrations/0005 grants the
// SELECT); contracts cannot name libs/pg.
inline constexpr std::string_view kAppInstalledSql =
    "SELECT 1 FROM room_apps WHERE room = $1 AND app_id = $2";
// The refusal for a room where `app_id` is not installed: failed_precondition (the caller may
// retry once a room manager installs it) "the {app} app is not installed in this room".
core::Status AppNotInstalled(std::string_view app_id);

// One catalogue row; the installation fields are set only in a room's list (apps.room.{room}).
struct AppInfo {
  std::string id;
  std::string name;
  std::string description;  // optional
  std::string icon_url;     // optional
  std::string component_url;
  std::string subject_prefix;
  std::string installed_by;  // RoomAppList only
  std::string installed_at;  // RFC 3339, RoomAppList only
  std::string config;        // canonical JSON object text; "" = absent (RoomAppList only)

  friend bool operator==(const AppInfo&, const AppInfo&) = default;
};

// apps.list reply: a bare array of catalogue rows, by name.
struct AppList {
  std::vector<AppInfo> apps;
  friend bool operator==(const AppList&, const AppList&) = default;
};

// apps.room.{room} reply: a bare array of installed apps (installedBy and installedAt required),
// by install time.
struct RoomAppList {
  std::vector<AppInfo> apps;
  friend bool operator==(const RoomAppList&, const RoomAppList&) = default;
};

// apps.install.{room}.{user}: {"appId","config"?,"user"?}.
struct AppInstallRequest {
  std::string app_id;
  std::string config;  // canonical JSON object text; "" = absent
  std::string user;
  friend bool operator==(const AppInstallRequest&, const AppInstallRequest&) = default;
};

// apps.uninstall.{room}.{user}: {"appId","user"?}.
struct AppUninstallRequest {
  std::string app_id;
  std::string user;
  friend bool operator==(const AppUninstallRequest&, const AppUninstallRequest&) = default;
};

std::string ToJson(const AppList& v);
std::string ToJson(const RoomAppList& v);
std::string ToJson(const AppInstallRequest& v);
std::string ToJson(const AppUninstallRequest& v);

template <>
core::Result<AppList> FromJson<AppList>(std::string_view json);
template <>
core::Result<RoomAppList> FromJson<RoomAppList>(std::string_view json);
template <>
core::Result<AppInstallRequest> FromJson<AppInstallRequest>(std::string_view json);
template <>
core::Result<AppUninstallRequest> FromJson<AppUninstallRequest>(std::string_view json);

}  // namespace chat::contracts

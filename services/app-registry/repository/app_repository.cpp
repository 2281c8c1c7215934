#include "repository/app_repository.hpp"

#include <nlohmann/json.hpp>
#include <utility>

#include "chat/pg/statement.hpp"

namespace chat::app_registry_service {
namespace {

constexpr pg::Statement kListApps{
    "apps_list",
    "SELECT id, name, description, icon_url, component_url, subject_prefix FROM apps "
    "ORDER BY name, id",
    "SELECT", "apps"};
constexpr pg::Statement kRoomApps{
    "apps_room",
    "SELECT a.id, a.name, a.description, a.icon_url, a.component_url, a.subject_prefix, "
    "ra.installed_by, "
    "to_char(ra.installed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "ra.config::text FROM room_apps ra JOIN apps a ON a.id = ra.app_id WHERE ra.room = $1 "
    "ORDER BY ra.installed_at, a.id",
    "SELECT", "room_apps"};
constexpr pg::Statement kAppExists{"apps_exists", "SELECT 1 FROM apps WHERE id = $1", "SELECT",
                                   "apps"};
constexpr pg::Statement kAuthority{
    "apps_room_authority",
    "SELECT m.role FROM rooms r LEFT JOIN room_members m ON m.room_name = r.name AND "
    "m.username = $2 WHERE r.name = $1",
    "SELECT", "rooms"};
constexpr pg::Statement kInstall{
    "apps_install",
    "INSERT INTO room_apps (room, app_id, installed_by, config) VALUES ($1, $2, $3, $4::jsonb) "
    "ON CONFLICT (room, app_id) DO NOTHING",
    "INSERT", "room_apps"};
constexpr pg::Statement kUninstall{"apps_uninstall",
                                   "DELETE FROM room_apps WHERE room = $1 AND app_id = $2",
                                   "DELETE", "room_apps"};

contracts::AppInfo CatalogueRow(const pg::Rows& rows, int i) {
  contracts::AppInfo a;
  a.id = std::string(rows.Text(i, 0));
  a.name = std::string(rows.Text(i, 1));
  a.description = std::string(rows.Text(i, 2));  // NULL reads as ""
  a.icon_url = std::string(rows.Text(i, 3));
  a.component_url = std::string(rows.Text(i, 4));
  a.subject_prefix = std::string(rows.Text(i, 5));
  return a;
}

// jsonb's text form ({"a": 1}) in the compact form the codecs write; "" for {} or NULL.
std::string CompactConfig(std::string_view text) {
  if (text.empty()) return "";
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || j.empty()) return "";
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<contracts::RoomRole> ParseRole(std::string_view text) {
  if (text == "owner") return contracts::RoomRole::kOwner;
  if (text == "admin") return contracts::RoomRole::kAdmin;
  if (text == "member") return contracts::RoomRole::kMember;
  return std::nullopt;  // an unknown role grants nothing
}

}  // namespace

AppRepository::AppRepository(std::unique_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

core::Result<std::unique_ptr<AppRepository>> AppRepository::Connect(
    const AppRegistryConfig& config, const telemetry::Telemetry& telemetry) {
  pg::PoolOptions options;
  options.dsn = config.database_url;
  options.size = config.db_pool_size;
  options.connect_eagerly = true;
  options.application_name = "app-registry-service";
  CHAT_ASSIGN_OR_RETURN(auto pool, pg::Pool::Create(std::move(options), telemetry));
  return std::make_unique<AppRepository>(std::move(pool));
}

core::Result<std::vector<contracts::AppInfo>> AppRepository::ListApps(
    const telemetry::SpanContext& parent) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kListApps));
  std::vector<contracts::AppInfo> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) out.push_back(CatalogueRow(rows, i));
  return out;
}

core::Result<std::vector<contracts::AppInfo>> AppRepository::RoomApps(
    const telemetry::SpanContext& parent, std::string_view room) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kRoomApps, {room}));
  std::vector<contracts::AppInfo> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) {
    contracts::AppInfo a = CatalogueRow(rows, i);
    a.installed_by = std::string(rows.Text(i, 6));
    a.installed_at = std::string(rows.Text(i, 7));
    a.config = CompactConfig(rows.Text(i, 8));
    out.push_back(std::move(a));
  }
  return out;
}

core::Result<bool> AppRepository::AppExists(const telemetry::SpanContext& parent,
                                            std::string_view app_id) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kAppExists, {app_id}));
  return rows.RowCount() > 0;
}

core::Result<RoomAuthority> AppRepository::Authority(const telemetry::SpanContext& parent,
                                                     std::string_view room, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kAuthority, {room, user}));
  RoomAuthority a;
  if (rows.RowCount() == 0) return a;  // not managed: a public room
  a.managed = true;
  if (!rows.IsNull(0, 0)) a.role = ParseRole(rows.Text(0, 0));
  return a;
}

core::Result<bool> AppRepository::Install(const telemetry::SpanContext& parent,
                                          std::string_view room, std::string_view app_id,
                                          std::string_view user, std::string_view config) {
  CHAT_ASSIGN_OR_RETURN(
      pg::Rows rows,
      pool_->Execute(parent, kInstall,
                     {room, app_id, user, config.empty() ? std::string_view("{}") : config}));
  return rows.RowsAffected() > 0;
}

core::Result<bool> AppRepository::Uninstall(const telemetry::SpanContext& parent,
                                            std::string_view room, std::string_view app_id) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kUninstall, {room, app_id}));
  return rows.RowsAffected() > 0;
}

}  // namespace chat::app_registry_service

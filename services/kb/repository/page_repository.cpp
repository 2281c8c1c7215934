#include "repository/page_repository.hpp"

#include <utility>

#include "chat/contracts/apps.hpp"
#include "chat/pg/statement.hpp"

namespace chat::kb_service {
namespace {

constexpr pg::Statement kInstalled{"kb_app_installed", contracts::kAppInstalledSql, "SELECT",
                                   "room_apps"};

// Timestamps as RFC 3339 UTC with milliseconds: to_char(<column> AT TIME ZONE 'UTC',
// 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"').
constexpr pg::Statement kList{"kb_pages_list",
                              "SELECT id, title, updated_by, to_char(updated_at AT TIME ZONE "
                              "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
                              "FROM kb_pages WHERE room = $1 "
                              "ORDER BY updated_at DESC, id",
                              "SELECT", "kb_pages"};

// One statement: the page cap is checked where the row is written.
constexpr pg::Statement kCreate{
    "kb_pages_create",
    "INSERT INTO kb_pages (id, room, title, content, created_by, updated_by) "
    "SELECT gen_random_uuid()::text, $1, $2, '', $3, $3 "
    "WHERE (SELECT count(*) FROM kb_pages WHERE room = $1) < $4 RETURNING id, title",
    "INSERT", "kb_pages"};

constexpr pg::Statement kLoad{
    "kb_pages_load",
    "SELECT id, title, content, created_by, updated_by, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
    "FROM kb_pages WHERE id = $1 AND room = $2",
    "SELECT", "kb_pages"};

constexpr pg::Statement kExists{
    "kb_pages_exists", "SELECT 1 FROM kb_pages WHERE id = $1 AND room = $2", "SELECT", "kb_pages"};

constexpr pg::Statement kSave{
    "kb_pages_save",
    "UPDATE kb_pages SET title = $3, content = $4, updated_by = $5, updated_at = now() "
    "WHERE id = $1 AND room = $2",
    "UPDATE", "kb_pages"};

constexpr pg::Statement kDelete{
    "kb_pages_delete", "DELETE FROM kb_pages WHERE id = $1 AND room = $2", "DELETE", "kb_pages"};

}  // namespace

PageRepository::PageRepository(std::unique_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

core::Result<std::unique_ptr<PageRepository>> PageRepository::Connect(
    const KbConfig& config, const telemetry::Telemetry& telemetry) {
  pg::PoolOptions options;
  options.dsn = config.database_url;
  options.size = config.db_pool_size;
  options.connect_eagerly = true;
  options.application_name = "kb-service";
  CHAT_ASSIGN_OR_RETURN(auto pool, pg::Pool::Create(std::move(options), telemetry));
  return std::make_unique<PageRepository>(std::move(pool));
}

core::Result<bool> PageRepository::IsInstalled(const telemetry::SpanContext& parent,
                                               std::string_view room) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kInstalled, {room, "kb"}));
  return rows.RowCount() > 0;
}

core::Result<std::vector<contracts::KbPageSummary>> PageRepository::List(
    const telemetry::SpanContext& parent, std::string_view room) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kList, {room}));
  std::vector<contracts::KbPageSummary> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) {
    out.push_back(
        contracts::KbPageSummary{std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1)),
                                 std::string(rows.Text(i, 2)), std::string(rows.Text(i, 3))});
  }
  return out;
}

core::Result<std::optional<contracts::KbPageCreated>> PageRepository::Create(
    const telemetry::SpanContext& parent, std::string_view room, std::string_view title,
    std::string_view user, int64_t max_pages) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows,
                        pool_->Execute(parent, kCreate, {room, title, user, max_pages}));
  if (rows.RowCount() == 0) return std::optional<contracts::KbPageCreated>();
  return std::optional<contracts::KbPageCreated>(
      contracts::KbPageCreated{std::string(rows.Text(0, 0)), std::string(rows.Text(0, 1))});
}

core::Result<std::optional<contracts::KbPage>> PageRepository::Load(
    const telemetry::SpanContext& parent, std::string_view room, std::string_view page_id) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kLoad, {page_id, room}));
  if (rows.RowCount() == 0) return std::optional<contracts::KbPage>();
  contracts::KbPage page;
  page.id = std::string(rows.Text(0, 0));
  page.title = std::string(rows.Text(0, 1));
  page.content = std::string(rows.Text(0, 2));
  page.created_by = std::string(rows.Text(0, 3));
  page.updated_by = std::string(rows.Text(0, 4));
  page.created_at = std::string(rows.Text(0, 5));
  page.updated_at = std::string(rows.Text(0, 6));
  return std::optional<contracts::KbPage>(std::move(page));
}

core::Result<bool> PageRepository::Exists(const telemetry::SpanContext& parent,
                                          std::string_view room, std::string_view page_id) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kExists, {page_id, room}));
  return rows.RowCount() > 0;
}

core::Result<bool> PageRepository::Save(const telemetry::SpanContext& parent, std::string_view room,
                                        std::string_view page_id, std::string_view title,
                                        std::string_view content, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows,
                        pool_->Execute(parent, kSave, {page_id, room, title, content, user}));
  return rows.RowsAffected() > 0;
}

core::Result<bool> PageRepository::Delete(const telemetry::SpanContext& parent,
                                          std::string_view room, std::string_view page_id) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kDelete, {page_id, room}));
  return rows.RowsAffected() > 0;
}

}  // namespace chat::kb_service

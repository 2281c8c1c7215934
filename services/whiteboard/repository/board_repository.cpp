#include "repository/board_repository.hpp"

#include <utility>

#include "chat/contracts/apps.hpp"
#include "chat/pg/statement.hpp"

namespace chat::whiteboard_service {
namespace {

constexpr pg::Statement kInstalled{"whiteboard_app_installed", contracts::kAppInstalledSql,
                                   "SELECT", "room_apps"};

constexpr pg::Statement kList{
    "whiteboard_list",
    "SELECT id, name, created_by, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
    "FROM whiteboard_boards WHERE room = $1 ORDER BY created_at DESC, id",
    "SELECT", "whiteboard_boards"};

// Serialises creates per room (the boards-per-room limit); released at COMMIT/ROLLBACK.
constexpr pg::Statement kLockRoom{"whiteboard_lock_room",
                                  "SELECT pg_advisory_xact_lock(hashtext('whiteboard:' || $1))",
                                  "SELECT", ""};

constexpr pg::Statement kCount{"whiteboard_count",
                               "SELECT count(*) FROM whiteboard_boards WHERE room = $1", "SELECT",
                               "whiteboard_boards"};

constexpr pg::Statement kInsert{
    "whiteboard_insert",
    "INSERT INTO whiteboard_boards (id, room, name, created_by) VALUES ($1, $2, $3, $4)", "INSERT",
    "whiteboard_boards"};

constexpr pg::Statement kLoad{"whiteboard_load",
                              "SELECT id, name, elements::text, created_by FROM whiteboard_boards "
                              "WHERE room = $1 AND id = $2",
                              "SELECT", "whiteboard_boards"};

constexpr pg::Statement kLockBoard{
    "whiteboard_lock_board",
    "SELECT elements::text FROM whiteboard_boards WHERE room = $1 AND id = $2 FOR UPDATE", "SELECT",
    "whiteboard_boards"};

constexpr pg::Statement kUpdate{
    "whiteboard_update",
    "UPDATE whiteboard_boards SET elements = $3::jsonb, updated_at = now() "
    "WHERE room = $1 AND id = $2",
    "UPDATE", "whiteboard_boards"};

constexpr pg::Statement kDelete{"whiteboard_delete",
                                "DELETE FROM whiteboard_boards WHERE room = $1 AND id = $2",
                                "DELETE", "whiteboard_boards"};

}  // namespace

BoardRepository::BoardRepository(std::unique_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

core::Result<std::unique_ptr<BoardRepository>> BoardRepository::Connect(
    const WhiteboardConfig& config, const telemetry::Telemetry& telemetry) {
  pg::PoolOptions options;
  options.dsn = config.database_url;
  options.size = config.db_pool_size;
  options.connect_eagerly = true;
  options.application_name = "whiteboard-service";
  CHAT_ASSIGN_OR_RETURN(auto pool, pg::Pool::Create(std::move(options), telemetry));
  return std::make_unique<BoardRepository>(std::move(pool));
}

core::Result<bool> BoardRepository::IsInstalled(const telemetry::SpanContext& parent,
                                                std::string_view room) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kInstalled, {room, "whiteboard"}));
  return rows.RowCount() > 0;
}

core::Result<std::vector<contracts::WhiteboardSummary>> BoardRepository::List(
    const telemetry::SpanContext& parent, std::string_view room) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kList, {room}));
  std::vector<contracts::WhiteboardSummary> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) {
    out.push_back(
        contracts::WhiteboardSummary{std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1)),
                                     std::string(rows.Text(i, 2)), std::string(rows.Text(i, 3))});
  }
  return out;
}

core::Status BoardRepository::Create(const telemetry::SpanContext& parent, std::string_view room,
                                     std::string_view id, std::string_view name,
                                     std::string_view created_by, int64_t max_boards) {
  CHAT_ASSIGN_OR_RETURN(pg::Lease lease, pool_->Acquire());
  CHAT_ASSIGN_OR_RETURN(pg::Transaction tx, lease.Begin(parent));
  CHAT_RETURN_IF_ERROR(tx.Execute(kLockRoom, {room}).status());
  CHAT_ASSIGN_OR_RETURN(pg::Rows count, tx.Execute(kCount, {room}));
  if (count.RowCount() > 0 && count.Int64(0, 0) >= max_boards) {
    return core::ResourceExhausted("the room already has " + std::to_string(max_boards) +
                                   " boards (the limit)");
  }
  CHAT_RETURN_IF_ERROR(tx.Execute(kInsert, {id, room, name, created_by}).status());
  return tx.Commit();
}

core::Result<StoredBoard> BoardRepository::Load(const telemetry::SpanContext& parent,
                                                std::string_view room, std::string_view id) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kLoad, {room, id}));
  if (rows.RowCount() == 0) return core::NotFound("board not found");
  return StoredBoard{std::string(rows.Text(0, 0)), std::string(rows.Text(0, 1)),
                     std::string(rows.Text(0, 2)), std::string(rows.Text(0, 3))};
}

core::Result<int64_t> BoardRepository::Delete(const telemetry::SpanContext& parent,
                                              std::string_view room, std::string_view id) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kDelete, {room, id}));
  return rows.RowsAffected();
}

core::Result<telemetry::SpanContext> BoardRepository::MergeElements(
    const telemetry::SpanContext& parent, std::string_view room, std::string_view id,
    const MergeFn& merge) {
  CHAT_ASSIGN_OR_RETURN(pg::Lease lease, pool_->Acquire());
  CHAT_ASSIGN_OR_RETURN(pg::Transaction tx, lease.Begin(parent));
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, tx.Execute(kLockBoard, {room, id}));
  if (rows.RowCount() == 0) return core::NotFound("board not found");
  CHAT_ASSIGN_OR_RETURN(std::optional<std::string> merged, merge(rows.Text(0, 0)));
  if (!merged.has_value()) {  // nothing changed: release the row lock
    CHAT_RETURN_IF_ERROR(tx.Commit());
    return telemetry::SpanContext{};
  }
  CHAT_ASSIGN_OR_RETURN(pg::Rows updated, tx.Execute(kUpdate, {room, id, std::move(*merged)}));
  CHAT_RETURN_IF_ERROR(tx.Commit());
  return updated.span_context();
}

}  // namespace chat::whiteboard_service

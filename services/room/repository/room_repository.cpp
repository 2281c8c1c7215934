#include "repository/room_repository.hpp"

#include <string>
#include <utility>

#include "chat/pg/statement.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::room_service {

core::Result<std::unique_ptr<pg::Pool>> ConnectDatabase(const RoomConfig& config,
                                                        const telemetry::Telemetry& telemetry,
                                                        const runtime::ShutdownSignal* shutdown) {
  pg::PoolOptions options;
  options.dsn = config.database_url;
  options.size = config.db_pool_size;
  options.connect_eagerly = true;
  options.statement_timeout = config.db_statement_timeout;
  options.application_name = "room-service";
  core::Status last;
  for (int attempt = 1; attempt <= config.db_connect_attempts; ++attempt) {
    auto pool = pg::Pool::Create(options, telemetry);
    if (pool.ok()) return pool;
    last = pool.status();
    // A bad DSN will not get better by waiting.
    if (last.code() == core::ErrorCode::kInvalidArgument) return last;
    telemetry.logger->Warn("database not reachable yet, retrying",
                           {{"attempt", attempt},
                            {"max_attempts", config.db_connect_attempts},
                            {telemetry::semconv::kErrorType, core::ErrorCodeName(last.code())}});
    if (attempt == config.db_connect_attempts) break;
    // The wait between attempts ends early on SIGTERM: a stuck start-up must not hold up a
    // shutdown (30 attempts × 2 s would outlast any orchestrator's grace period).
    static const runtime::ShutdownSignal kNever;  // callers without a process (unit tests)
    if ((shutdown != nullptr ? *shutdown : kNever).WaitFor(config.db_connect_interval)) {
      return core::Unavailable("shutdown requested while waiting for the database");
    }
  }
  return core::Unavailable("database unreachable after " +
                           std::to_string(config.db_connect_attempts) +
                           " attempts: " + last.message());
}

core::Result<std::unique_ptr<RoomRepository>> RoomRepository::Connect(
    const RoomConfig& config, const telemetry::Telemetry& telemetry,
    const runtime::ShutdownSignal* shutdown) {
  CHAT_ASSIGN_OR_RETURN(auto pool, ConnectDatabase(config, telemetry, shutdown));
  return std::make_unique<RoomRepository>(std::move(pool));
}

namespace {

using contracts::RoomType;

constexpr pg::Statement kSelectAccess{
    "room_select_access",
    "SELECT r.type, (m.username IS NOT NULL) AS member FROM rooms r "
    "LEFT JOIN room_members m ON m.room_name = r.name AND m.username = $2 WHERE r.name = $1",
    "SELECT", "rooms"};
constexpr pg::Statement kSelectType{"room_select_type", "SELECT type FROM rooms WHERE name = $1",
                                    "SELECT", "rooms"};
constexpr pg::Statement kInsertRoom{
    "room_insert_room",
    "INSERT INTO rooms (name, display_name, creator, type) VALUES ($1, $2, $3, 'private')",
    "INSERT", "rooms"};
constexpr pg::Statement kInsertMember{
    "room_insert_member",
    "INSERT INTO room_members (room_name, username, role, invited_by) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (room_name, username) DO NOTHING",
    "INSERT", "room_members"};
constexpr pg::Statement kListRooms{
    "room_list_rooms",
    "SELECT r.name, r.display_name, r.creator, r.type, "
    "(SELECT count(*) FROM room_members c WHERE c.room_name = r.name) AS member_count "
    "FROM rooms r JOIN room_members m ON m.room_name = r.name WHERE m.username = $1 "
    "ORDER BY r.name",
    "SELECT", "rooms"};
constexpr pg::Statement kSelectRoom{
    "room_select_room", "SELECT name, display_name, creator, type FROM rooms WHERE name = $1",
    "SELECT", "rooms"};
constexpr pg::Statement kSelectMembers{
    "room_select_members",
    "SELECT username, role FROM room_members WHERE room_name = $1 ORDER BY joined_at, username",
    "SELECT", "room_members"};
constexpr pg::Statement kSelectRole{
    "room_select_role", "SELECT role FROM room_members WHERE room_name = $1 AND username = $2",
    "SELECT", "room_members"};
constexpr pg::Statement kSelectRoleForUpdate{
    "room_select_role_for_update",
    "SELECT role FROM room_members WHERE room_name = $1 AND username = $2 FOR UPDATE", "SELECT",
    "room_members"};
constexpr pg::Statement kDeleteMember{
    "room_delete_member", "DELETE FROM room_members WHERE room_name = $1 AND username = $2",
    "DELETE", "room_members"};
constexpr pg::Statement kSelectSuccessor{
    "room_select_successor",
    "SELECT username FROM room_members WHERE room_name = $1 AND username <> $2 "
    "ORDER BY (role = 'admin') DESC, joined_at, username LIMIT 1 FOR UPDATE",
    "SELECT", "room_members"};
constexpr pg::Statement kPromoteOwner{
    "room_promote_owner",
    "UPDATE room_members SET role = 'owner' WHERE room_name = $1 AND username = $2", "UPDATE",
    "room_members"};
constexpr pg::Statement kDeleteRoom{"room_delete_room", "DELETE FROM rooms WHERE name = $1",
                                    "DELETE", "rooms"};

RoomType TypeOrPrivate(std::string_view text) {
  // Only 'private' is ever written; anything unexpected is treated as the restrictive type.
  return ParseRoomType(text).value_or(RoomType::kPrivate);
}

}  // namespace

std::optional<contracts::RoomType> ParseRoomType(std::string_view text) {
  if (text == "private") return RoomType::kPrivate;
  if (text == "public") return RoomType::kPublic;
  if (text == "dm") return RoomType::kDm;
  return std::nullopt;
}

std::optional<contracts::RoomRole> ParseRoomRole(std::string_view text) {
  if (text == "owner") return contracts::RoomRole::kOwner;
  if (text == "admin") return contracts::RoomRole::kAdmin;
  if (text == "member") return contracts::RoomRole::kMember;
  return std::nullopt;
}

core::Result<RoomAccess> RoomRepository::Access(const telemetry::SpanContext& parent,
                                                std::string_view room, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kSelectAccess, {room, user}));
  RoomAccess a;
  if (rows.RowCount() == 0) return a;
  a.stored = true;
  a.type = TypeOrPrivate(rows.Text(0, 0));
  a.member = rows.Bool(0, 1);
  return a;
}

core::Result<std::optional<contracts::RoomType>> RoomRepository::TypeOf(
    const telemetry::SpanContext& parent, std::string_view room) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kSelectType, {room}));
  if (rows.RowCount() == 0) return std::optional<RoomType>();
  return std::optional<RoomType>(TypeOrPrivate(rows.Text(0, 0)));
}

core::Status RoomRepository::CreateRoom(const telemetry::SpanContext& parent, std::string_view name,
                                        std::string_view display_name, std::string_view creator) {
  CHAT_ASSIGN_OR_RETURN(pg::Lease lease, pool_.Acquire());
  CHAT_ASSIGN_OR_RETURN(pg::Transaction tx, lease.Begin(parent));
  auto inserted = tx.Execute(kInsertRoom, {name, display_name, creator});
  if (!inserted.ok()) {
    if (inserted.status().code() == core::ErrorCode::kAlreadyExists) {
      return core::AlreadyExists("room already exists");
    }
    return inserted.status();
  }
  CHAT_RETURN_IF_ERROR(
      tx.Execute(kInsertMember, {name, creator, "owner", pg::Param::Null()}).status());
  return tx.Commit();
}

core::Result<std::vector<contracts::RoomInfo>> RoomRepository::ListFor(
    const telemetry::SpanContext& parent, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kListRooms, {user}));
  std::vector<contracts::RoomInfo> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) {
    contracts::RoomInfo info;
    info.name = std::string(rows.Text(i, 0));
    info.display_name = std::string(rows.Text(i, 1));
    info.creator = std::string(rows.Text(i, 2));
    info.type = TypeOrPrivate(rows.Text(i, 3));
    info.member_count = rows.Int64(i, 4);
    out.push_back(std::move(info));
  }
  return out;
}

core::Result<std::optional<contracts::RoomInfo>> RoomRepository::Info(
    const telemetry::SpanContext& parent, std::string_view room) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kSelectRoom, {room}));
  if (rows.RowCount() == 0) return std::optional<contracts::RoomInfo>();
  contracts::RoomInfo info;
  info.name = std::string(rows.Text(0, 0));
  info.display_name = std::string(rows.Text(0, 1));
  info.creator = std::string(rows.Text(0, 2));
  info.type = TypeOrPrivate(rows.Text(0, 3));
  CHAT_ASSIGN_OR_RETURN(pg::Rows members, pool_.Execute(parent, kSelectMembers, {room}));
  for (int i = 0; i < members.RowCount(); ++i) {
    contracts::RoomMember m;
    m.username = std::string(members.Text(i, 0));
    m.role = ParseRoomRole(members.Text(i, 1)).value_or(contracts::RoomRole::kMember);
    info.members.push_back(std::move(m));
  }
  info.member_count = static_cast<int64_t>(info.members.size());
  return std::optional<contracts::RoomInfo>(std::move(info));
}

core::Result<std::optional<contracts::RoomRole>> RoomRepository::RoleOf(
    const telemetry::SpanContext& parent, std::string_view room, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kSelectRole, {room, user}));
  if (rows.RowCount() == 0) return std::optional<contracts::RoomRole>();
  return std::optional<contracts::RoomRole>(
      ParseRoomRole(rows.Text(0, 0)).value_or(contracts::RoomRole::kMember));
}

core::Result<bool> RoomRepository::AddMember(const telemetry::SpanContext& parent,
                                             std::string_view room, std::string_view user,
                                             std::string_view invited_by) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows,
                        pool_.Execute(parent, kInsertMember, {room, user, "member", invited_by}));
  return rows.RowsAffected() > 0;
}

core::Result<bool> RoomRepository::RemoveMember(const telemetry::SpanContext& parent,
                                                std::string_view room, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kDeleteMember, {room, user}));
  return rows.RowsAffected() > 0;
}

core::Result<DepartOutcome> RoomRepository::Depart(const telemetry::SpanContext& parent,
                                                   std::string_view room, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Lease lease, pool_.Acquire());
  CHAT_ASSIGN_OR_RETURN(pg::Transaction tx, lease.Begin(parent));
  DepartOutcome out;
  CHAT_ASSIGN_OR_RETURN(pg::Rows role, tx.Execute(kSelectRoleForUpdate, {room, user}));
  if (role.RowCount() == 0) {
    CHAT_RETURN_IF_ERROR(tx.Rollback());
    return out;
  }
  out.was_member = true;
  if (ParseRoomRole(role.Text(0, 0)) == contracts::RoomRole::kOwner) {
    CHAT_ASSIGN_OR_RETURN(pg::Rows next, tx.Execute(kSelectSuccessor, {room, user}));
    if (next.RowCount() == 0) {
      // The last member leaves: the room goes (room_members rows cascade).
      CHAT_RETURN_IF_ERROR(tx.Execute(kDeleteRoom, {room}).status());
      CHAT_RETURN_IF_ERROR(tx.Commit());
      out.room_deleted = true;
      return out;
    }
    out.new_owner = std::string(next.Text(0, 0));
    CHAT_RETURN_IF_ERROR(tx.Execute(kPromoteOwner, {room, out.new_owner}).status());
  }
  CHAT_RETURN_IF_ERROR(tx.Execute(kDeleteMember, {room, user}).status());
  CHAT_RETURN_IF_ERROR(tx.Commit());
  return out;
}

}  // namespace chat::room_service

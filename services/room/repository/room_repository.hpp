// RoomRepository: every SQL statement of room-service (tables rooms and room_members, system.md
// §5.2 items 13-14), through libs/pg so each one is a traced CLIENT span with db_client metrics.
// Public rooms are not stored: a name absent from `rooms` is public. Errors are pg's codes
// (unavailable, deadline_exceeded, internal, ...) plus the ones documented per method.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/rooms.hpp"
#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/runtime/shutdown.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"

namespace chat::room_service {

// What a join needs to know about a room.
struct RoomAccess {
  bool stored = false;  // a row in `rooms` (false → public)
  contracts::RoomType type = contracts::RoomType::kPublic;
  bool member = false;  // a room_members row for the user
};

// Result of a depart.
struct DepartOutcome {
  bool was_member = false;
  bool room_deleted = false;  // the owner left and nobody remained
  std::string new_owner;      // set when ownership moved
};

class RoomRepository {
 public:
  explicit RoomRepository(pg::Pool& pool) : pool_(pool) {}
  // Owns `pool`.
  explicit RoomRepository(std::unique_ptr<pg::Pool> pool)
      : owned_pool_(std::move(pool)), pool_(*owned_pool_) {}

  // A repository over a pool connected per `config` (ConnectDatabase: retries, and gives up at
  // once when `shutdown` fires). Errors: unavailable, invalid_argument (bad DSN).
  static core::Result<std::unique_ptr<RoomRepository>> Connect(
      const RoomConfig& config, const telemetry::Telemetry& telemetry,
      const runtime::ShutdownSignal* shutdown = nullptr);

  core::Result<RoomAccess> Access(const telemetry::SpanContext& parent, std::string_view room,
                                  std::string_view user);
  // The stored type, or nullopt for a room not in `rooms` (public).
  core::Result<std::optional<contracts::RoomType>> TypeOf(const telemetry::SpanContext& parent,
                                                          std::string_view room);
  // One transaction: the room (type private) and its creator as owner. already_exists when a
  // room of that name exists.
  core::Status CreateRoom(const telemetry::SpanContext& parent, std::string_view name,
                          std::string_view display_name, std::string_view creator);
  // Rooms where `user` has a room_members row, ordered by name, with member counts.
  core::Result<std::vector<contracts::RoomInfo>> ListFor(const telemetry::SpanContext& parent,
                                                         std::string_view user);
  // The room with its members in join order; nullopt when not stored.
  core::Result<std::optional<contracts::RoomInfo>> Info(const telemetry::SpanContext& parent,
                                                        std::string_view room);
  // The user's role in the room, nullopt when not a member.
  core::Result<std::optional<contracts::RoomRole>> RoleOf(const telemetry::SpanContext& parent,
                                                          std::string_view room,
                                                          std::string_view user);
  // Inserts `user` as a member (ignored when present); true when a row was inserted.
  core::Result<bool> AddMember(const telemetry::SpanContext& parent, std::string_view room,
                               std::string_view user, std::string_view invited_by);
  // Deletes the member row; true when one was deleted.
  core::Result<bool> RemoveMember(const telemetry::SpanContext& parent, std::string_view room,
                                  std::string_view user);
  // One transaction: an owner hands ownership to the next member (role admin first, then the
  // earliest joined) or deletes the room when alone; anyone else just loses the row.
  core::Result<DepartOutcome> Depart(const telemetry::SpanContext& parent, std::string_view room,
                                     std::string_view user);

 private:
  std::unique_ptr<pg::Pool> owned_pool_;  // null when the pool is borrowed
  pg::Pool& pool_;
};

// Connects the pool, retrying per config (system.md §6.0). unavailable after the last attempt,
// or as soon as `shutdown` (when given) fires — a retry wait never outlasts a SIGTERM.
core::Result<std::unique_ptr<pg::Pool>> ConnectDatabase(
    const RoomConfig& config, const telemetry::Telemetry& telemetry,
    const runtime::ShutdownSignal* shutdown = nullptr);

std::optional<contracts::RoomType> ParseRoomType(std::string_view text);
std::optional<contracts::RoomRole> ParseRoomRole(std::string_view text);

}  // namespace chat::room_service

// SQL of history-service (system.md §5.3: reads messages, message_reactions, and — for the
// ADR 0001 membership check — rooms and room_members). Every query is one libs/pg statement and
// one CLIENT span (`SELECT messages`, `SELECT rooms`), child of the handler's span.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/messages.hpp"
#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"

namespace chat::history_service {

// What the rooms table says about a room key (public rooms have no row).
struct RoomAccess {
  bool managed = false;    // a row exists in `rooms` (private room)
  bool is_member = false;  // the caller has a room_members row
};

class HistoryRepository {
 public:
  explicit HistoryRepository(pg::Pool& pool) : pool_(pool) {}
  // Owns `pool`.
  explicit HistoryRepository(std::unique_ptr<pg::Pool> pool)
      : owned_pool_(std::move(pool)), pool_(*owned_pool_) {}

  // A repository over its own pool, connected eagerly per `config` (one attempt). Errors:
  // unavailable when Postgres is unreachable, invalid_argument for a bad DSN.
  static core::Result<std::unique_ptr<HistoryRepository>> Connect(
      const HistoryConfig& config, const telemetry::Telemetry& telemetry);

  // Main-timeline page of `room`: messages older than `before` (0 = newest), `limit` of them,
  // oldest first; has_more when older ones exist. Reply counts and reactions included.
  core::Result<contracts::HistoryPage> RoomPage(const telemetry::SpanContext& parent,
                                                std::string_view room, std::int64_t before,
                                                std::int64_t limit);
  // Replies of `thread_id` in `room`, oldest first, at most `limit`.
  core::Result<std::vector<contracts::HistoryMessage>> Thread(const telemetry::SpanContext& parent,
                                                              std::string_view room,
                                                              std::string_view thread_id,
                                                              std::int64_t limit);
  // DM room keys with messages in which `user` is a participant, sorted (byte order).
  core::Result<std::vector<std::string>> DmRooms(const telemetry::SpanContext& parent,
                                                 std::string_view user);
  core::Result<RoomAccess> Access(const telemetry::SpanContext& parent, std::string_view room,
                                  std::string_view user);

 private:
  std::unique_ptr<pg::Pool> owned_pool_;  // null when the pool is borrowed
  pg::Pool& pool_;
};

// Folds the reactions column (a JSON array of [emoji, user] pairs in reaction order) into pills:
// emojis in order of their first reaction, users in reaction order. Exposed for tests.
std::vector<contracts::Reaction> AggregateReactions(std::string_view json_pairs);

}  // namespace chat::history_service

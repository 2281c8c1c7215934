// whiteboard-service configuration (README.md "Configuration"), read once at start-up with
// core::EnvReader; invalid settings exit 2 before anything connects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/contracts/quotas.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::whiteboard_service {

struct WhiteboardConfig {
  std::string database_url;  // DATABASE_URL (required; never logged)
  size_t db_pool_size = 8;   // CHAT_WHITEBOARD_DB_POOL_SIZE
  // Handler threads sharing the instance's whiteboard-workers subscription
  // (CHAT_WHITEBOARD_CONCURRENCY); deltas to one board are serialised in Postgres either way.
  // Handlers mostly wait on Postgres (a delta holds its board's row lock through COMMIT): with 4,
  // `load --scenario apps` at 1,000 req/s had deltas' p99 at 72 ms, with 8 at 15 ms.
  int concurrency = 8;
  // Deltas to one board merged in one transaction at most (CHAT_WHITEBOARD_MAX_DELTA_BATCH;
  // KeyedBatcher). 1 turns the group commit off: one transaction per delta.
  int64_t max_delta_batch = 32;
  // Limits (issue 13 ★), each a clear error reply, counted and logged, nothing stored:
  int64_t max_delta_elements = 500;  // CHAT_WHITEBOARD_MAX_DELTA_ELEMENTS: elements per delta
  int64_t max_board_bytes =
      int64_t{512} * 1024;           // CHAT_WHITEBOARD_MAX_BOARD_BYTES: stored JSON after merge
  int64_t max_boards_per_room = 50;  // CHAT_WHITEBOARD_MAX_BOARDS_PER_ROOM
  // CHAT_KV_ROOMS_MAX_BYTES / _MAX_VALUE_SIZE for ROOMS when this service creates it first.
  contracts::quotas::BucketLimits rooms_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketRooms);

  static core::Result<WhiteboardConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::whiteboard_service

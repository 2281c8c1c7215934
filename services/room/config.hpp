// RoomConfig: room-service settings, read and validated in one pass so a bad value stops the
// process with exit code 2 and one sentence naming every problem (docs/style.md rule 11).
// NATS_* are read by runtime::ServiceMain; this holds DATABASE_URL and the ROOM_* knobs.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "chat/contracts/quotas.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::room_service {

struct RoomConfig {
  std::string database_url;  // required; never logged (may hold a password)
  size_t db_pool_size = 4;
  // Start-up: Postgres may come up after us (system.md §6.0: 30 attempts, 2 s apart).
  int db_connect_attempts = 30;
  std::chrono::milliseconds db_connect_interval{2000};
  std::chrono::milliseconds db_statement_timeout{5000};
  // ROOMS bounds (issue 11 item 6): CHAT_KV_ROOMS_MAX_BYTES / CHAT_KV_ROOMS_MAX_VALUE_SIZE.
  contracts::quotas::BucketLimits rooms_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketRooms);

  // DATABASE_URL (required), CHAT_ROOM_DB_POOL_SIZE, CHAT_ROOM_DB_CONNECT_ATTEMPTS,
  // CHAT_ROOM_DB_CONNECT_INTERVAL_MS, CHAT_ROOM_DB_STATEMENT_TIMEOUT_MS. Problems go into `reader`.
  static RoomConfig FromEnv(core::EnvReader& reader);
  static core::Result<RoomConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::room_service

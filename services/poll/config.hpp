// poll-service configuration (README.md "Configuration"), read once at start-up with
// core::EnvReader; invalid settings exit 2 before anything connects.
#pragma once

#include <cstddef>
#include <string>

#include "chat/contracts/quotas.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::poll_service {

struct PollConfig {
  std::string database_url;  // DATABASE_URL (required; never logged)
  size_t db_pool_size = 8;   // CHAT_POLL_DB_POOL_SIZE
  // CHAT_POLL_CONCURRENCY: handler threads sharing the instance's poll-workers subscription
  // (handlers wait on Postgres; the catalogue's concurrency class is `configured`).
  // 8: see WhiteboardConfig::concurrency (votes' p99 45 ms with 4, 12 ms with 8).
  int concurrency = 8;
  // CHAT_KV_ROOMS_MAX_BYTES / _MAX_VALUE_SIZE for ROOMS when this service creates it first.
  contracts::quotas::BucketLimits rooms_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketRooms);

  static core::Result<PollConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::poll_service

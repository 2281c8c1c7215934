// read-receipt-service configuration (README.md "Configuration"), read once at start-up with
// core::EnvReader; invalid settings exit 2 before anything connects.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "chat/contracts/quotas.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::read_receipt_service {

struct ReadReceiptConfig {
  std::string database_url;  // DATABASE_URL (required; never logged)
  size_t db_pool_size = 2;   // CHAT_READ_RECEIPT_DB_POOL_SIZE
  // CHAT_READ_RECEIPT_FLUSH_INTERVAL_MS: how often dirty positions are upserted (system.md §6.7).
  std::chrono::milliseconds flush_interval{15000};
  // Bucket bounds (issue 11 item 6): CHAT_KV_READ_STATE_MAX_BYTES / _MAX_VALUE_SIZE, and
  // CHAT_KV_ROOMS_MAX_BYTES / _MAX_VALUE_SIZE for ROOMS when this service creates it first.
  contracts::quotas::BucketLimits read_state_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketReadState);
  contracts::quotas::BucketLimits rooms_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketRooms);

  static core::Result<ReadReceiptConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::read_receipt_service

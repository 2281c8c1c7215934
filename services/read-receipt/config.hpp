// read-receipt-service configuration (README.md "Configuration"), read once at start-up with
// core::EnvReader; invalid settings exit 2 before anything connects.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::read_receipt_service {

struct ReadReceiptConfig {
  std::string database_url;  // DATABASE_URL (required; never logged)
  size_t db_pool_size = 2;   // READ_RECEIPT_DB_POOL_SIZE
  // READ_RECEIPT_FLUSH_INTERVAL_MS: how often dirty positions are upserted (system.md §6.7).
  std::chrono::milliseconds flush_interval{15000};

  static core::Result<ReadReceiptConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::read_receipt_service

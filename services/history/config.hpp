// history-service configuration (README.md "Configuration"): read once at start-up with
// core::EnvReader so every problem is reported together and the process exits 2 before it
// connects anywhere.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::history_service {

struct HistoryConfig {
  std::string database_url;                           // DATABASE_URL (required; never logged)
  size_t db_pool_size = 4;                            // CHAT_HISTORY_DB_POOL_SIZE
  std::chrono::milliseconds statement_timeout{5000};  // CHAT_HISTORY_STATEMENT_TIMEOUT_MS

  static core::Result<HistoryConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::history_service

// app-registry-service configuration (README.md "Configuration"), read once at start-up with
// core::EnvReader; invalid settings exit 2 before anything connects.
#pragma once

#include <cstddef>
#include <string>

#include "chat/contracts/quotas.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::app_registry_service {

struct AppRegistryConfig {
  std::string database_url;  // DATABASE_URL (required; never logged)
  size_t db_pool_size = 2;   // CHAT_APP_REGISTRY_DB_POOL_SIZE
  // CHAT_KV_ROOMS_MAX_BYTES / _MAX_VALUE_SIZE for ROOMS when this service creates it first.
  contracts::quotas::BucketLimits rooms_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketRooms);

  static core::Result<AppRegistryConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::app_registry_service

#include "config.hpp"

namespace chat::app_registry_service {

core::Result<AppRegistryConfig> AppRegistryConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  AppRegistryConfig c;
  c.database_url = reader.RequiredString("DATABASE_URL");
  c.db_pool_size = static_cast<size_t>(reader.Int("CHAT_APP_REGISTRY_DB_POOL_SIZE", 2, 1, 32));
  c.rooms_limits = contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketRooms);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::app_registry_service

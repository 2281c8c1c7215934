#include "config.hpp"

namespace chat::poll_service {

core::Result<PollConfig> PollConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  PollConfig c;
  c.database_url = reader.RequiredString("DATABASE_URL");
  c.db_pool_size = static_cast<size_t>(reader.Int("CHAT_POLL_DB_POOL_SIZE", 8, 1, 64));
  c.concurrency = static_cast<int>(reader.Int("CHAT_POLL_CONCURRENCY", 8, 1, 64));
  c.rooms_limits = contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketRooms);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::poll_service

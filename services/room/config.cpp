#include "config.hpp"

namespace chat::room_service {

RoomConfig RoomConfig::FromEnv(core::EnvReader& reader) {
  RoomConfig c;
  c.database_url = reader.RequiredString("DATABASE_URL");
  c.db_pool_size = static_cast<size_t>(reader.Int("CHAT_ROOM_DB_POOL_SIZE", 4, 1, 64));
  c.db_connect_attempts =
      static_cast<int>(reader.Int("CHAT_ROOM_DB_CONNECT_ATTEMPTS", 30, 1, 1000));
  c.db_connect_interval =
      std::chrono::milliseconds(reader.Int("CHAT_ROOM_DB_CONNECT_INTERVAL_MS", 2000, 10, 60000));
  c.db_statement_timeout =
      std::chrono::milliseconds(reader.Int("CHAT_ROOM_DB_STATEMENT_TIMEOUT_MS", 5000, 0, 600000));
  c.rooms_limits = contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketRooms);
  return c;
}

core::Result<RoomConfig> RoomConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  RoomConfig c = FromEnv(reader);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::room_service

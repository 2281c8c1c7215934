#include "config.hpp"

namespace chat::whiteboard_service {

core::Result<WhiteboardConfig> WhiteboardConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  WhiteboardConfig c;
  c.database_url = reader.RequiredString("DATABASE_URL");
  c.db_pool_size = static_cast<size_t>(reader.Int("CHAT_WHITEBOARD_DB_POOL_SIZE", 8, 1, 32));
  c.concurrency = static_cast<int>(reader.Int("CHAT_WHITEBOARD_CONCURRENCY", 8, 1, 64));
  c.max_delta_batch = reader.Int("CHAT_WHITEBOARD_MAX_DELTA_BATCH", 32, 1, 256);
  c.max_delta_elements = reader.Int("CHAT_WHITEBOARD_MAX_DELTA_ELEMENTS", 500, 1, 10000);
  // The load reply carries the whole board and must fit nats-server's 1 MiB max_payload.
  c.max_board_bytes =
      reader.Int("CHAT_WHITEBOARD_MAX_BOARD_BYTES", int64_t{512} * 1024, 1024, int64_t{900} * 1024);
  c.max_boards_per_room = reader.Int("CHAT_WHITEBOARD_MAX_BOARDS_PER_ROOM", 50, 1, 10000);
  c.rooms_limits = contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketRooms);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::whiteboard_service

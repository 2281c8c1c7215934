#include "config.hpp"

#include "chat/contracts/ids.hpp"

namespace chat::kb_service {

core::Result<KbConfig> KbConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  KbConfig c;
  c.database_url = reader.RequiredString("DATABASE_URL");
  c.db_pool_size = static_cast<size_t>(reader.Int("CHAT_KB_DB_POOL_SIZE", 4, 1, 32));
  c.concurrency = static_cast<int>(reader.Int("CHAT_KB_CONCURRENCY", 4, 1, 64));
  c.max_title_bytes = static_cast<size_t>(reader.Int("CHAT_KB_MAX_TITLE_BYTES", 200, 1, 1024));
  // A request is at most one 64 KiB NATS payload, JSON escaping included.
  c.max_content_bytes =
      static_cast<size_t>(reader.Int("CHAT_KB_MAX_CONTENT_BYTES", int64_t{48} * 1024, 1,
                                     static_cast<int64_t>(contracts::kMaxPayloadBytes)));
  c.max_pages_per_room = reader.Int("CHAT_KB_MAX_PAGES_PER_ROOM", 1000, 1, 100000);
  c.editing_ttl = std::chrono::seconds(reader.Int("CHAT_KB_EDITING_TTL_SECONDS", 60, 1, 3600));
  c.editors_gauge_interval =
      reader.Millis("CHAT_KB_EDITORS_GAUGE_INTERVAL_MS", std::chrono::milliseconds(10000));
  if (c.editors_gauge_interval.count() < 10) {
    reader.AddProblem("CHAT_KB_EDITORS_GAUGE_INTERVAL_MS must be at least 10");
  }
  c.kb_editors_limits =
      contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketKbEditors);
  c.rooms_limits = contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketRooms);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::kb_service

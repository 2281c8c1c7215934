#include "config.hpp"

namespace chat::persist_worker {

PersistConfig PersistConfig::FromEnv(core::EnvReader& reader) {
  PersistConfig c;
  c.database_url = reader.RequiredString("DATABASE_URL");
  c.batch_size = static_cast<int>(reader.Int("CHAT_PERSIST_BATCH_SIZE", c.batch_size, 1, 5000));
  c.fetch_timeout = std::chrono::milliseconds(
      reader.Int("CHAT_PERSIST_FETCH_TIMEOUT_MS", c.fetch_timeout.count(), 10, 10000));
  c.workers = static_cast<int>(reader.Int("CHAT_PERSIST_WORKERS", c.workers, 1, 8));
  c.nak_delay_initial = std::chrono::milliseconds(
      reader.Int("CHAT_PERSIST_NAK_DELAY_MS", c.nak_delay_initial.count(), 0, 60000));
  c.nak_delay_max = std::chrono::milliseconds(
      reader.Int("CHAT_PERSIST_NAK_DELAY_MAX_MS", c.nak_delay_max.count(), 0, 600000));
  c.stream_max_msgs =
      reader.Int("CHAT_PERSIST_STREAM_MAX_MSGS", c.stream_max_msgs, 10'000, 1'000'000'000);
  c.stream_max_bytes =
      reader.Int("CHAT_PERSIST_STREAM_MAX_BYTES", c.stream_max_bytes, 1 << 20, int64_t{1} << 44);
  c.stream_max_msg_size = static_cast<int32_t>(
      reader.Int("CHAT_PERSIST_STREAM_MAX_MSG_SIZE", c.stream_max_msg_size, 1024, 8 << 20));
  c.max_ack_pending = reader.Int("CHAT_PERSIST_MAX_ACK_PENDING", c.max_ack_pending, 1, 1'000'000);
  c.statement_timeout = std::chrono::milliseconds(
      reader.Int("CHAT_PERSIST_STATEMENT_TIMEOUT_MS", c.statement_timeout.count(), 0, 600000));
  if (c.nak_delay_max < c.nak_delay_initial) {
    reader.AddProblem("CHAT_PERSIST_NAK_DELAY_MAX_MS must not be below CHAT_PERSIST_NAK_DELAY_MS");
  }
  if (c.max_ack_pending < c.batch_size) {
    reader.AddProblem("CHAT_PERSIST_MAX_ACK_PENDING must be at least CHAT_PERSIST_BATCH_SIZE");
  }
  return c;
}

core::Result<PersistConfig> PersistConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  PersistConfig c = FromEnv(reader);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::persist_worker

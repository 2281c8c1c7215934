#include "config.hpp"

namespace chat::read_receipt_service {

core::Result<ReadReceiptConfig> ReadReceiptConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  ReadReceiptConfig c;
  c.database_url = reader.RequiredString("DATABASE_URL");
  c.db_pool_size = static_cast<size_t>(reader.Int("CHAT_READ_RECEIPT_DB_POOL_SIZE", 2, 1, 32));
  c.flush_interval =
      reader.Millis("CHAT_READ_RECEIPT_FLUSH_INTERVAL_MS", std::chrono::milliseconds(15000));
  if (c.flush_interval.count() < 10) {
    reader.AddProblem("CHAT_READ_RECEIPT_FLUSH_INTERVAL_MS must be at least 10");
  }
  c.read_state_limits =
      contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketReadState);
  c.rooms_limits = contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketRooms);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::read_receipt_service

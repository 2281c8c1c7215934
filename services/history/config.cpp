#include "config.hpp"

namespace chat::history_service {

core::Result<HistoryConfig> HistoryConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  HistoryConfig c;
  c.database_url = reader.RequiredString("DATABASE_URL");
  c.db_pool_size = static_cast<size_t>(reader.Int("CHAT_HISTORY_DB_POOL_SIZE", 4, 1, 64));
  c.statement_timeout =
      reader.Millis("CHAT_HISTORY_STATEMENT_TIMEOUT_MS", std::chrono::milliseconds(5000));
  if (c.statement_timeout.count() <= 0) {
    reader.AddProblem("CHAT_HISTORY_STATEMENT_TIMEOUT_MS must be positive");
  }
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::history_service

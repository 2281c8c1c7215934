// db-migrate: applies db/migrations to the database named by CHAT_PG_DSN (used by the local
// stack before the services start). Waits for the database up to CHAT_DB_MIGRATE_WAIT while it
// is unavailable. Exit codes: 0 applied or up to date, 1 migration failure, 2 bad configuration.
#include <chrono>
#include <cstdio>
#include <thread>

#include "chat/core/env.hpp"
#include "chat/pg/migrate.hpp"
#include "chat/telemetry/telemetry.hpp"

#ifndef CHAT_DEFAULT_MIGRATIONS_DIR
#define CHAT_DEFAULT_MIGRATIONS_DIR "db/migrations"
#endif

int main() {
  using namespace chat;
  core::ProcessEnv env;
  core::EnvReader reader(env);
  const std::string dsn = reader.RequiredString("CHAT_PG_DSN");
  const std::string dir = reader.String("CHAT_MIGRATIONS_DIR", CHAT_DEFAULT_MIGRATIONS_DIR);
  const auto wait = reader.Millis("CHAT_DB_MIGRATE_WAIT", std::chrono::seconds(30));
  if (core::Status st = reader.Finish(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 2;
  }
  const telemetry::Telemetry& tel = telemetry::Telemetry::Noop();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  auto pause = std::chrono::milliseconds(100);
  while (true) {
    core::Result<int> applied = pg::Migrate(dsn, dir, tel);
    if (applied.ok()) {
      tel.logger->Info("migrations applied", {{"applied", static_cast<int64_t>(*applied)}});
      return 0;
    }
    const bool retry = applied.status().code() == core::ErrorCode::kUnavailable &&
                       std::chrono::steady_clock::now() + pause < deadline;
    if (!retry) {
      tel.logger->Error("migration failed", {{"error", applied.status().ToString()}});
      return applied.status().code() == core::ErrorCode::kInvalidArgument ? 2 : 1;
    }
    // Postgres is still starting: back off and try again until the deadline.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
}

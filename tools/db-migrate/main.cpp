// db-migrate: applies db/migrations to the database named by CHAT_PG_DSN (used by the local
// stack before the services start). Waits for the database up to CHAT_DB_MIGRATE_WAIT while it
// is unavailable. Then, when CHAT_PG_ROLE_PASSWORDS_DIR is set, sets the password of each service
// role named by a file there (pg::SetRolePasswords; the roles come from the migrations).
// Exit codes: 0 applied or up to date, 1 migration failure, 2 bad configuration.
#include "chat/core/main.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include "chat/core/env.hpp"
#include "chat/pg/migrate.hpp"
#include "chat/pg/roles.hpp"
#include "chat/telemetry/telemetry.hpp"

#ifndef CHAT_DEFAULT_MIGRATIONS_DIR
#define CHAT_DEFAULT_MIGRATIONS_DIR "db/migrations"
#endif

namespace {

// Sets the service roles' passwords from the files in `dir`; an exit code.
int SetPasswords(const std::string& dir, const std::string& dsn,
                 const chat::telemetry::Telemetry& tel) {
  using namespace chat;
  core::Result<pg::RolePasswords> passwords = pg::LoadRolePasswords(dir);
  core::Status st = passwords.ok() ? pg::SetRolePasswords(dsn, *passwords) : passwords.status();
  if (!st.ok()) {
    tel.logger->Error("setting role passwords failed", {{"error", st.ToString()}});
    const bool config = st.code() == core::ErrorCode::kNotFound ||
                        st.code() == core::ErrorCode::kInvalidArgument ||
                        st.code() == core::ErrorCode::kFailedPrecondition;
    return config ? 2 : 1;
  }
  std::string roles;
  for (const auto& [role, password] : *passwords) roles += (roles.empty() ? "" : ",") + role;
  tel.logger->Info("role passwords set", {{"roles", roles}});
  return 0;
}

}  // namespace

static int Run() {
  using namespace chat;
  core::ProcessEnv env;
  core::EnvReader reader(env);
  const std::string dsn = reader.RequiredString("CHAT_PG_DSN");
  const std::string dir = reader.String("CHAT_MIGRATIONS_DIR", CHAT_DEFAULT_MIGRATIONS_DIR);
  const auto wait = reader.Millis("CHAT_DB_MIGRATE_WAIT", std::chrono::seconds(30));
  const std::string roles_dir = reader.String("CHAT_PG_ROLE_PASSWORDS_DIR", "");
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
      return roles_dir.empty() ? 0 : SetPasswords(roles_dir, dsn, tel);
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

int main() {
  return chat::core::RunMain([&] { return Run(); });
}

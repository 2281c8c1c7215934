// PgDatabaseTest: the gtest fixture base for tests against Postgres — one throwaway PgCluster per
// test suite whose template database carries db/migrations (so every database starts migrated),
// a fresh database per test, and an InMemoryTelemetry the tests assert on. Header-only on
// purpose: chat::testing itself does not link libpq or chat::pg; a test including this header
// links chat::pg and chat::telemetry_sdk (every Postgres test does anyway).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/pg/migrate.hpp"
#include "chat/pg/roles.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/pg_cluster.hpp"

namespace chat::testing {

// The services' database roles (db/migrations/0003_service_roles.sql) that tests log in as.
inline const std::vector<std::string>& ServiceRoles() {
  static const std::vector<std::string> kRoles{
      "persist-worker",     "history-service",      "room-service", "read-receipt-service",
      "pg-exporter",        "app-registry-service", "poll-service", "kb-service",
      "whiteboard-service", "sticker-service"};
  return kRoles;
}

// The password a test cluster gives a service role (roles are cluster-wide; the value only has
// to differ from role to role and from the superuser's).
inline std::string ServiceRolePassword(const std::string& role) { return "test-pw-" + role; }

// A PgCluster whose template database has every migration of db/migrations applied, and whose
// service roles log in with ServiceRolePassword (as db-migrate sets them in the local stack).
inline core::Result<std::unique_ptr<PgCluster>> CreateMigratedPgCluster() {
  PgCluster::Options options;
  options.prepare_template = [](const std::string& dsn) {
    telemetry::sdk::InMemoryTelemetry t;  // migration spans are not what tests look at
    CHAT_RETURN_IF_ERROR(
        pg::Migrate(dsn, CHAT_SOURCE_DIR "/db/migrations", t.telemetry()).status());
    pg::RolePasswords passwords;
    for (const auto& role : ServiceRoles()) passwords[role] = ServiceRolePassword(role);
    return pg::SetRolePasswords(dsn, passwords);
  };
  return PgCluster::Create(std::move(options));
}

class PgDatabaseTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    cluster_.reset();
    setup_error_.clear();
  }

  void SetUp() override { CreateDatabase(); }

  // db_ = a fresh migrated database. The suite's cluster is made on first use (initdb takes a
  // second or two, so tests share it); a failed start fails every test with its reason.
  void CreateDatabase() {
    if (cluster_ == nullptr && setup_error_.empty()) {
      auto cluster = CreateMigratedPgCluster();
      if (cluster.ok()) {
        cluster_ = std::move(cluster).value();
      } else {
        setup_error_ = cluster.status().ToString();
      }
    }
    ASSERT_NE(cluster_, nullptr) << setup_error_;
    auto db = cluster_->CreateDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = *db;
  }

  // The superuser's DSN (set-up and assertions); the code under test connects with ServiceDsn.
  std::string Dsn() const { return cluster_->Dsn(db_); }
  // db_ as a service's own least-privilege role, as the local stack and deploy/ connect it.
  std::string ServiceDsn(const std::string& role) const {
    return cluster_->DsnAs(db_, role, ServiceRolePassword(role));
  }

  // Runs SQL in db_ (through psql, outside the code under test) and returns its output.
  std::string Query(const std::string& sql) {
    auto r = cluster_->RunSql(db_, sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }
  void Sql(const std::string& sql) {
    auto r = cluster_->RunSql(db_, sql);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  static inline std::unique_ptr<PgCluster> cluster_;
  static inline std::string setup_error_;
  std::string db_;
  telemetry::sdk::InMemoryTelemetry tel_;
};

}  // namespace chat::testing

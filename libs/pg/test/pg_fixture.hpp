// Shared fixture for libs/pg integration tests: one PgCluster per test suite (per process under
// ctest), the template migrated with db/migrations, a fresh database per test, and an
// InMemoryTelemetry bundle whose spans and metrics the tests assert on.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "chat/pg/migrate.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/pg_cluster.hpp"

namespace chat::pg {

class PgTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::PgCluster::Options options;
    options.prepare_template = [](const std::string& dsn) {
      telemetry::sdk::InMemoryTelemetry t;
      return Migrate(dsn, CHAT_MIGRATIONS_DIR, t.telemetry()).status();
    };
    auto cluster = testing::PgCluster::Create(std::move(options));
    if (cluster.ok()) {
      cluster_ = std::move(cluster).value().release();
    } else {
      setup_error_ = cluster.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << setup_error_;
    auto db = cluster_->CreateDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = *db;
  }

  std::unique_ptr<Pool> MakePool(size_t size = 2,
                                 std::chrono::milliseconds statement_timeout =
                                     std::chrono::milliseconds(5000)) {
    PoolOptions o;
    o.dsn = cluster_->Dsn(db_);
    o.size = size;
    o.statement_timeout = statement_timeout;
    o.reconnect_backoff_initial = std::chrono::milliseconds(20);
    o.reconnect_backoff_max = std::chrono::milliseconds(200);
    auto pool = Pool::Create(std::move(o), tel_.telemetry());
    EXPECT_TRUE(pool.ok()) << pool.status().ToString();
    return pool.ok() ? std::move(pool).value() : nullptr;
  }

  // A test span to parent the database spans on.
  telemetry::Span TestSpan() {
    return tel_.tracer().StartSpan("test", telemetry::SpanKind::kInternal,
                                   telemetry::SpanContext{});
  }

  static inline testing::PgCluster* cluster_ = nullptr;
  static inline std::string setup_error_;
  std::string db_;
  telemetry::sdk::InMemoryTelemetry tel_;
};

}  // namespace chat::pg

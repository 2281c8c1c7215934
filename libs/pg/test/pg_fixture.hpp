// Shared fixture for libs/pg integration tests: chat::testing::PgDatabaseTest (one migrated
// PgCluster per suite, a fresh database per test, an InMemoryTelemetry bundle whose spans and
// metrics the tests assert on) plus a Pool on that database and a parent span.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "chat/pg/pool.hpp"
#include "chat/testing/pg_fixture.hpp"

namespace chat::pg {

class PgTest : public testing::PgDatabaseTest {
 protected:
  std::unique_ptr<Pool> MakePool(size_t size = 2, std::chrono::milliseconds statement_timeout =
                                                      std::chrono::milliseconds(5000)) {
    PoolOptions o;
    o.dsn = Dsn();
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
};

}  // namespace chat::pg

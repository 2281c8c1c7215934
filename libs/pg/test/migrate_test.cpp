// Migration runner against a real PostgreSQL: idempotent re-runs, checksum mismatch,
// concurrent runners, file-name validation, and the resulting schema (idempotency key, seeds).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "chat/telemetry/semconv.hpp"
#include "pg_fixture.hpp"

namespace chat::pg {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class MigrateTest : public PgTest {
 protected:
  // An empty database (not from the migrated template).
  std::string EmptyDatabase(const std::string& name) {
    auto r = cluster_->RunSql("postgres", "CREATE DATABASE " + name + " TEMPLATE template0");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return name;
  }
  size_t FileCount() {
    auto files = LoadMigrations(CHAT_MIGRATIONS_DIR);
    EXPECT_TRUE(files.ok());
    return files.ok() ? files->size() : 0;
  }
  fs::path TempDir() {
    fs::path dir = fs::temp_directory_path() / ("chat-mig-" + db_);
    fs::create_directories(dir);
    dirs_.push_back(dir);
    return dir;
  }
  void TearDown() override {
    for (const auto& d : dirs_) fs::remove_all(d);
  }
  std::vector<fs::path> dirs_;
};

TEST_F(MigrateTest, TemplateIsMigratedAndRerunAppliesNothing) {
  auto again = Migrate(cluster_->Dsn(db_), CHAT_MIGRATIONS_DIR, tel_.telemetry());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 0);
  auto rows = cluster_->RunSql(db_, "SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(std::stoul(*rows), FileCount());
}

TEST_F(MigrateTest, FreshDatabaseAppliesAllThenNone) {
  const std::string name = EmptyDatabase("m_" + db_);
  auto first = Migrate(cluster_->Dsn(name), CHAT_MIGRATIONS_DIR, tel_.telemetry());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(static_cast<size_t>(*first), FileCount());
  EXPECT_GE(*first, 2);
  auto second = Migrate(cluster_->Dsn(name), CHAT_MIGRATIONS_DIR, tel_.telemetry());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 0);
  // Spans: the script span carries the file name, never the script.
  auto spans = tel_.FindSpans("MIGRATE");
  ASSERT_EQ(spans.size(), FileCount());
  EXPECT_EQ(telemetry::sdk::StringAttribute(spans[0], telemetry::semconv::kDbQueryText),
            "/* migration 0001_schema.sql */");
}

TEST_F(MigrateTest, ChangedAppliedFileIsAnError) {
  const fs::path dir = TempDir();
  std::ofstream(dir / "0001_a.sql") << "CREATE TABLE a (id int);\n";
  std::ofstream(dir / "0002_b.sql") << "CREATE TABLE b (id int);\n";
  const std::string name = EmptyDatabase("c_" + db_);
  auto first = Migrate(cluster_->Dsn(name), dir, tel_.telemetry());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 2);
  std::ofstream(dir / "0001_a.sql", std::ios::app) << "-- edited\n";
  std::ofstream(dir / "0003_c.sql") << "CREATE TABLE c (id int);\n";
  auto second = Migrate(cluster_->Dsn(name), dir, tel_.telemetry());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), core::ErrorCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("0001_a.sql"), std::string::npos);
  EXPECT_NE(second.status().message().find("checksum"), std::string::npos);
  // Nothing pending was applied after the mismatch.
  auto c = cluster_->RunSql(name, "SELECT count(*) FROM pg_tables WHERE tablename = 'c'");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::stoi(*c), 0);
}

TEST_F(MigrateTest, FailingMigrationIsRolledBackAndNotRecorded) {
  const fs::path dir = TempDir();
  std::ofstream(dir / "0001_ok.sql") << "CREATE TABLE ok1 (id int);\n";
  std::ofstream(dir / "0002_bad.sql") << "CREATE TABLE half (id int);\nSELECT no_such_fn();\n";
  const std::string name = EmptyDatabase("f_" + db_);
  auto r = Migrate(cluster_->Dsn(name), dir, tel_.telemetry());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("0002_bad.sql"), std::string::npos);
  auto t = cluster_->RunSql(name, "SELECT count(*) FROM pg_tables WHERE tablename = 'half'");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(std::stoi(*t), 0);
  auto v = cluster_->RunSql(name, "SELECT string_agg(version::text, ',') FROM schema_migrations");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "1\n");
}

TEST_F(MigrateTest, ConcurrentRunnersApplyEachFileOnce) {
  const std::string name = EmptyDatabase("p_" + db_);
  core::Result<int> a = core::Internal("not run");
  core::Result<int> b = core::Internal("not run");
  std::thread t1([&] { a = Migrate(cluster_->Dsn(name), CHAT_MIGRATIONS_DIR, tel_.telemetry()); });
  std::thread t2([&] { b = Migrate(cluster_->Dsn(name), CHAT_MIGRATIONS_DIR, tel_.telemetry()); });
  t1.join();
  t2.join();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(static_cast<size_t>(*a + *b), FileCount());
  EXPECT_TRUE(*a == 0 || *b == 0);
}

TEST_F(MigrateTest, BadFileNamesAndMissingDirectoryAreRejected) {
  EXPECT_EQ(LoadMigrations("/nonexistent/migrations").status().code(), core::ErrorCode::kNotFound);
  const fs::path dir = TempDir();
  std::ofstream(dir / "README.md") << "ignored";
  std::ofstream(dir / "0001_a.sql") << "SELECT 1;";
  std::ofstream(dir / "01_a.sql") << "SELECT 1;";
  auto dup = LoadMigrations(dir);
  EXPECT_EQ(dup.status().code(), core::ErrorCode::kInvalidArgument);
  fs::remove(dir / "01_a.sql");
  std::ofstream(dir / "schema.sql") << "SELECT 1;";
  EXPECT_EQ(LoadMigrations(dir).status().code(), core::ErrorCode::kInvalidArgument);
  fs::remove(dir / "schema.sql");
  auto ok = LoadMigrations(dir);
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].checksum, Sha256Hex("SELECT 1;"));
}

TEST_F(MigrateTest, SchemaHasMessageIdempotencyKeyAndSeeds) {
  auto r = cluster_->RunSql(db_,
                            "INSERT INTO messages (room, username, text, \"timestamp\") VALUES "
                            "('general','alice','hi',1) ON CONFLICT DO NOTHING;"
                            "INSERT INTO messages (room, username, text, \"timestamp\") VALUES "
                            "('general','alice','again',1) ON CONFLICT DO NOTHING;"
                            "SELECT count(*) FROM messages");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "1\n");
  auto seeds = cluster_->RunSql(db_,
                                "SELECT (SELECT count(*) FROM sticker_products) || ',' || "
                                "(SELECT count(*) FROM stickers) || ',' || (SELECT count(*) FROM "
                                "apps) || ',' || (SELECT count(*) FROM service_accounts)");
  ASSERT_TRUE(seeds.ok());
  EXPECT_EQ(*seeds, "3,14,3,13\n");
}

}  // namespace
}  // namespace chat::pg

// pg-exporter against a real throwaway PostgreSQL 15 (testing::PgCluster on a random port): the
// exporter connects to the `postgres` database, the tests drive load through psql in a separate
// database (so the counters there move only because of what the test did), scrape /metrics over
// HTTP and compare the numbers with what PostgreSQL itself reports. The outage test stops and
// restarts the server; the process tests run the real binary for exit codes and signals.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "chat/testing/pg_cluster.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/process.hpp"
#include "chat/testing/wait_for.hpp"
#include "exporter.hpp"

namespace chat::pg_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The value of the first sample of `name` whose label block contains every `labels` fragment.
std::optional<double> Sample(const std::string& text, const std::string& name,
                             const std::vector<std::string>& labels = {}) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (!all) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

std::string Label(const std::string& name, const std::string& value) {
  return name + "=\"" + value + "\"";
}

// One cluster for the suite (initdb takes seconds); each test gets its own workload database.
class PgExporterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = testing::PgCluster::Create();
    if (cluster.ok()) {
      cluster_ = std::move(cluster).value();
    } else {
      setup_error_ = cluster.status().ToString();
    }
  }
  static void TearDownTestSuite() { cluster_.reset(); }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << setup_error_;
    auto db = cluster_->CreateDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = *db;
    StartExporter(cluster_->Dsn("postgres"));
  }

  void StartExporter(const std::string& dsn) {
    core::MapEnv env{{"DATA_SOURCE_NAME", dsn}};
    auto config = Config::FromArgs({"--web.listen-address", "127.0.0.1:0"}, env);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    auto collector = Collector::Create(config_);
    ASSERT_TRUE(collector.ok()) << collector.status().ToString();
    collector_ = std::move(collector).value();
    server_ = std::make_unique<ExporterServer>(*collector_, config_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(15);
  }

  void TearDown() override {
    server_.reset();
    collector_.reset();
  }

  // GET /metrics; "" (and a test failure) unless it answers 200 with the 0.0.4 content type.
  std::string ScrapeText() {
    auto res = client_->Get("/metrics");
    EXPECT_TRUE(res) << "no HTTP answer";
    if (!res) return "";
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return res->status == 200 ? res->body : "";
  }

  std::string Sql(const std::string& dbname, const std::string& sql) {
    auto out = cluster_->RunSql(dbname, sql);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    std::string s = out.ok() ? *out : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  std::string Server() const { return "127.0.0.1:" + std::to_string(cluster_->port()); }

  static inline std::unique_ptr<testing::PgCluster> cluster_;
  static inline std::string setup_error_;
  std::string db_;
  Config config_;
  std::unique_ptr<Collector> collector_;
  std::unique_ptr<ExporterServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(PgExporterTest, ReportsLiveValuesOfTheServer) {
  const std::string text = ScrapeText();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(Sample(text, "pg_up"), 1) << text;
  EXPECT_EQ(Sample(text, "pg_exporter_last_scrape_error"), 0) << text;
  EXPECT_EQ(Sample(text, "pg_exporter_scrapes_total"), 1);
  EXPECT_GE(Sample(text, "pg_exporter_last_scrape_duration_seconds").value_or(-1), 0);

  // The exporter's own connection is a backend of `postgres`.
  const std::string postgres_oid = Sql("postgres",
                                       "SELECT oid FROM pg_database WHERE datname = "
                                       "'postgres'");
  EXPECT_GE(Sample(text, "pg_stat_database_numbackends",
                   {Label("datid", postgres_oid), Label("datname", "postgres")})
                .value_or(-1),
            1)
      << text;
  // Both the monitored and the workload database have their rows; the shared row (no datname)
  // is skipped like upstream does.
  EXPECT_TRUE(Sample(text, "pg_stat_database_xact_commit", {Label("datname", db_)}).has_value());
  EXPECT_THAT(text, Not(HasSubstr("datname=\"\",")));
  EXPECT_THAT(text, HasSubstr("# TYPE pg_stat_database_xact_commit counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE pg_stat_database_numbackends gauge\n"));

  // Settings carry upstream's `server` label, with units normalised to bytes/seconds.
  const std::vector<std::string> server = {Label("server", Server())};
  EXPECT_EQ(Sample(text, "pg_settings_max_connections", server),
            std::stod(Sql("postgres", "SHOW max_connections")));
  EXPECT_EQ(Sample(text, "pg_settings_shared_buffers_bytes", server),
            std::stod(Sql("postgres",
                          "SELECT setting::bigint * 8192 FROM pg_settings WHERE "
                          "name = 'shared_buffers'")));
  // Our own session SETs statement_timeout; the metric shows what a fresh session gets.
  EXPECT_EQ(Sample(text, "pg_settings_statement_timeout_seconds", server), 0);
  EXPECT_EQ(Sample(text, "pg_settings_fsync", server), 0);  // PgCluster runs with fsync=off

  EXPECT_GT(Sample(text, "pg_database_size_bytes", {Label("datname", db_)}).value_or(0), 1e5);
  EXPECT_EQ(Sample(text, "pg_database_connection_limit", {Label("datname", db_)}), -1);

  // v0.17 semantics: the exporter's own session is counted (active, while it runs the query).
  EXPECT_GE(Sample(text, "pg_stat_activity_count",
                   {Label("application_name", "pg-exporter"), Label("datname", "postgres"),
                    Label("server", Server()), Label("state", "active"),
                    Label("backend_type", "client backend")})
                .value_or(-1),
            1)
      << text;
  // Every state is present for every database, zero when nobody is in it.
  EXPECT_EQ(Sample(text, "pg_stat_activity_count",
                   {Label("datname", db_), Label("state", "fastpath function call")}),
            0);
  EXPECT_TRUE(Sample(text, "pg_stat_activity_max_tx_duration",
                     {Label("datname", "postgres"), Label("state", "idle")})
                  .has_value());
  for (const char* mode :
       {"accesssharelock", "rowexclusivelock", "accessexclusivelock", "sireadlock"}) {
    EXPECT_TRUE(
        Sample(text, "pg_locks_count", {Label("datname", db_), Label("mode", mode)}).has_value())
        << mode;
  }

  const auto now = static_cast<double>(std::time(nullptr));
  const double started = Sample(text, "pg_postmaster_start_time_seconds").value_or(0);
  EXPECT_GT(started, now - 3600);
  EXPECT_LE(started, now + 5);

  EXPECT_EQ(Sample(ScrapeText(), "pg_exporter_scrapes_total"), 2);
}

TEST_F(PgExporterTest, CountersFollowTransactionsInAnotherDatabase) {
  const std::vector<std::string> db = {Label("datname", db_)};
  std::string text = ScrapeText();
  const double commits = Sample(text, "pg_stat_database_xact_commit", db).value_or(-1);
  ASSERT_GE(commits, 0) << text;

  // PostgreSQL 15 flushes a backend's statistics at exit or at most once a second: wait.
  Sql(db_, "CREATE TABLE t (x int)");
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        text = ScrapeText();
        return Sample(text, "pg_stat_database_xact_commit", db).value_or(0) >= commits + 1;
      },
      20s))
      << text;
  const double commits_after_create = Sample(text, "pg_stat_database_xact_commit", db).value_or(-1);
  const double rollbacks = Sample(text, "pg_stat_database_xact_rollback", db).value_or(-1);
  const double inserted = Sample(text, "pg_stat_database_tup_inserted", db).value_or(-1);
  const double deleted = Sample(text, "pg_stat_database_tup_deleted", db).value_or(-1);

  // One committed transaction inserting 5 rows and deleting 2, one rolled back.
  Sql(db_, "INSERT INTO t SELECT generate_series(1, 5); DELETE FROM t WHERE x <= 2");
  Sql(db_, "BEGIN; INSERT INTO t VALUES (99); ROLLBACK");
  bool moved = testing::WaitFor(
      [&] {
        text = ScrapeText();
        return Sample(text, "pg_stat_database_xact_commit", db).value_or(0) >=
                   commits_after_create + 1 &&
               Sample(text, "pg_stat_database_xact_rollback", db).value_or(0) >= rollbacks + 1 &&
               Sample(text, "pg_stat_database_tup_inserted", db).value_or(0) >= inserted + 5 &&
               Sample(text, "pg_stat_database_tup_deleted", db).value_or(0) >= deleted + 2;
      },
      20s);
  EXPECT_TRUE(moved) << text;
  // Nothing else deletes or rolls back in that database: those deltas are exactly ours. Inserts
  // are at least ours (the rolled-back one counts too); catalog rows of the CREATE TABLE may land
  // late, as a backend's statistics are flushed in parts.
  EXPECT_GE(Sample(text, "pg_stat_database_tup_inserted", db).value_or(0), inserted + 6);
  EXPECT_EQ(Sample(text, "pg_stat_database_tup_deleted", db), deleted + 2);
  EXPECT_EQ(Sample(text, "pg_stat_database_xact_rollback", db), rollbacks + 1);
}

TEST_F(PgExporterTest, OutputPassesPromtool) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool not installed";
  std::string text = ScrapeText();
  ASSERT_FALSE(text.empty());
  auto [exit_code, output] = chat::testing::RunCommand("/usr/bin/promtool check metrics", text);
  // promtool parses, then lints. Upstream's names draw lints we keep on purpose (counters
  // without `_total`, gauges ending in `_count`, settings named like tcp_keepalives_count);
  // anything else (a parse error above all) fails.
  EXPECT_NE(exit_code, -1) << output;
  EXPECT_THAT(output, Not(HasSubstr("error while linting"))) << output;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const bool counter_suffix =
        line.find("counter metrics should have \"_total\" suffix") != std::string::npos;
    const bool count_suffix =
        (line.rfind("pg_stat_activity_count ", 0) == 0 || line.rfind("pg_locks_count ", 0) == 0 ||
         line.rfind("pg_settings_", 0) == 0) &&  // e.g. pg_settings_tcp_keepalives_count
        line.find("should not have \"_count\" suffix") != std::string::npos;
    EXPECT_TRUE(counter_suffix || count_suffix) << "unexpected promtool finding: " << line;
  }
}

// Runs the real binary. stderr goes to a file the test reads back.
struct ProcessRun {
  pid_t pid = -1;
  fs::path stderr_path;
  std::string Stderr() const {
    std::ifstream in(stderr_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

ProcessRun Spawn(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env) {
  static int counter = 0;
  ProcessRun run;
  run.stderr_path = fs::temp_directory_path() / ("pg_exporter_stderr_" + std::to_string(getpid()) +
                                                 "_" + std::to_string(counter++));
  int fd = open(run.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv = {PG_EXPORTER_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  run.pid = testing::SpawnWithEnv(argv, env, -1, fd);
  close(fd);
  return run;
}

// Waits for a process that should exit on its own; -1 if it is still running at the deadline.
int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  int code = -1;
  testing::WaitFor(
      [&] {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) != pid) return false;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return true;
      },
      timeout);
  if (code == -1) testing::TerminateAndWait(pid, 1s);
  return code;
}

TEST_F(PgExporterTest, ProcessServesMetricsAndStopsOnSigterm) {
  const int port = testing::FreePort();
  ASSERT_GT(port, 0);
  ProcessRun run = Spawn({"--web.listen-address", "127.0.0.1:" + std::to_string(port)},
                         {{"DATA_SOURCE_NAME", cluster_->Dsn("postgres")}});
  ASSERT_GT(run.pid, 0);
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(15);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto res = client.Get("/healthz");
        return res && res->status == 200;
      },
      10s))
      << run.Stderr();
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(Sample(res->body, "pg_up"), 1) << res->body;
  EXPECT_TRUE(Sample(res->body, "pg_stat_database_numbackends", {Label("datname", "postgres")})
                  .has_value());
  EXPECT_EQ(testing::TerminateAndWait(run.pid, 5s), 0);
  const std::string log = run.Stderr();
  EXPECT_THAT(log, HasSubstr("pg-exporter serving /metrics"));
  EXPECT_THAT(log, HasSubstr("\"service\":\"pg-exporter\""));
  fs::remove(run.stderr_path);
}

// A cluster of its own: this test stops and restarts the server.
TEST(PgExporterOutageTest, UnreachableDatabaseIsPgUpZeroNotAFailedScrape) {
  auto cluster = testing::PgCluster::Create();
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  core::MapEnv env{{"DATA_SOURCE_NAME", (*cluster)->Dsn("postgres")}};
  auto config = Config::FromArgs({"--port", "0", "--web.listen-address", "127.0.0.1:9187"}, env);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->port, 0);  // --port overrides the port of --web.listen-address
  config->query_timeout = 2000ms;
  auto collector = Collector::Create(*config);
  ASSERT_TRUE(collector.ok()) << collector.status().ToString();
  ExporterServer server(**collector, *config);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(15);
  auto scrape = [&] {
    auto res = client.Get("/metrics");
    EXPECT_TRUE(res && res->status == 200);
    return res && res->status == 200 ? res->body : std::string();
  };

  std::string text = scrape();
  EXPECT_EQ(Sample(text, "pg_up"), 1) << text;
  EXPECT_EQ(Sample(text, "pg_exporter_last_scrape_error"), 0);

  ASSERT_TRUE((*cluster)->Stop().ok());
  // First scrape after the stop: the pooled connection is found dead.
  text = scrape();
  EXPECT_EQ(Sample(text, "pg_up"), 0) << text;
  EXPECT_EQ(Sample(text, "pg_exporter_last_scrape_error"), 1);
  EXPECT_THAT(text, Not(HasSubstr("pg_stat_database_")));
  EXPECT_THAT(text, Not(HasSubstr("pg_settings_")));
  // Later scrapes: reconnecting fails (connection refused).
  text = scrape();
  EXPECT_EQ(Sample(text, "pg_up"), 0) << text;
  EXPECT_EQ(Sample(text, "pg_exporter_last_scrape_error"), 1);
  EXPECT_EQ(Sample(text, "pg_exporter_scrapes_total"), 3);

  ASSERT_TRUE((*cluster)->Start().ok());
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        text = scrape();
        return Sample(text, "pg_up") == 1 && Sample(text, "pg_exporter_last_scrape_error") == 0;
      },
      20s))
      << text;
  EXPECT_TRUE(
      Sample(text, "pg_stat_database_numbackends", {Label("datname", "postgres")}).has_value());
}

TEST(PgExporterConfigTest, EnvironmentThenFlags) {
  core::MapEnv env{{"DATA_SOURCE_NAME", "postgresql://exporter:secret@db-1:5433/postgres"},
                   {"PG_EXPORTER_WEB_LISTEN_ADDRESS", "127.0.0.1:9300"},
                   {"PG_EXPORTER_QUERY_TIMEOUT_MS", "2500"}};
  auto c = Config::FromArgs({}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 9300);
  EXPECT_EQ(c->query_timeout, 2500ms);
  EXPECT_EQ(c->server_label, "db-1:5433");

  c = Config::FromArgs({"--web.listen-address=:9187"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->host, "0.0.0.0");
  EXPECT_EQ(c->port, 9187);
  c = Config::FromArgs({"--web.listen-address", "[::1]:9400", "--port", "9401"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 9401);

  auto defaults = Config::FromArgs({}, core::MapEnv{{"DATA_SOURCE_NAME", "dbname=chat"}});
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->host, "127.0.0.1");  // loopback unless configured (issue 11 §15)
  EXPECT_EQ(defaults->port, 9187);         // postgres_exporter's port
  EXPECT_EQ(defaults->server_label, "localhost:5432");
}

TEST(PgExporterConfigTest, ServerLabelFollowsUpstreamFingerprint) {
  EXPECT_EQ(ServerFingerprint("host=127.0.0.1 port=5433 dbname=postgres user=postgres"),
            "127.0.0.1:5433");
  EXPECT_EQ(ServerFingerprint("host=/var/run/postgresql dbname=x"), "/var/run/postgresql:5432");
  EXPECT_EQ(ServerFingerprint("postgres://u@pg.example"), "pg.example:5432");
  EXPECT_EQ(ServerFingerprint("not a = dsn = at all"), "");
}

TEST(PgExporterConfigTest, ReportsEveryProblemWithoutQuotingTheDsn) {
  core::MapEnv env{{"DATA_SOURCE_NAME", "password=hunter2 bogus=1"},
                   {"PG_EXPORTER_QUERY_TIMEOUT_MS", "5"}};
  auto c = Config::FromArgs({"--web.listen-address", "nope", "--verbose"}, env);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), core::ErrorCode::kInvalidArgument);
  const std::string& msg = c.status().message();
  EXPECT_THAT(msg, HasSubstr("DATA_SOURCE_NAME is not a valid libpq connection string"));
  EXPECT_THAT(msg, HasSubstr("PG_EXPORTER_QUERY_TIMEOUT_MS"));
  EXPECT_THAT(msg, HasSubstr("\"nope\""));
  EXPECT_THAT(msg, HasSubstr("--verbose"));
  EXPECT_THAT(msg, Not(HasSubstr("hunter2")));

  auto missing = Config::FromArgs({}, core::MapEnv{});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("DATA_SOURCE_NAME is required"));
}

TEST(PgExporterProcessTest, BadConfigurationExitsTwoWithAMessage) {
  // SpawnWithEnv adds to our environment: an empty value behaves as unset.
  ProcessRun run = Spawn({"--web.listen-address", "nope"}, {{"DATA_SOURCE_NAME", ""}});
  ASSERT_GT(run.pid, 0);
  EXPECT_EQ(WaitExit(run.pid, 10s), 2);
  std::string err = run.Stderr();
  EXPECT_THAT(err, HasSubstr("DATA_SOURCE_NAME is required"));
  EXPECT_THAT(err, HasSubstr("listen address \"nope\""));
  fs::remove(run.stderr_path);

  run = Spawn({}, {{"DATA_SOURCE_NAME", "password=hunter2 bogus=1"}});
  ASSERT_GT(run.pid, 0);
  EXPECT_EQ(WaitExit(run.pid, 10s), 2);
  err = run.Stderr();
  EXPECT_THAT(err, HasSubstr("not a valid libpq connection string"));
  EXPECT_THAT(err, Not(HasSubstr("hunter2")));
  fs::remove(run.stderr_path);
}

TEST(PgExporterProcessTest, PortInUseExitsOne) {
  core::MapEnv env{{"DATA_SOURCE_NAME", "host=127.0.0.1 port=1 dbname=x"}};
  auto config = Config::FromArgs({"--web.listen-address", "127.0.0.1:0"}, env);
  ASSERT_TRUE(config.ok());
  auto collector = Collector::Create(*config);
  ASSERT_TRUE(collector.ok());
  ExporterServer holder(**collector, *config);
  ASSERT_TRUE(holder.Start().ok());
  ProcessRun run = Spawn({"--web.listen-address", "127.0.0.1:" + std::to_string(holder.port())},
                         {{"DATA_SOURCE_NAME", "host=127.0.0.1 port=1 dbname=x"}});
  ASSERT_GT(run.pid, 0);
  EXPECT_EQ(WaitExit(run.pid, 10s), 1);
  EXPECT_THAT(run.Stderr(), HasSubstr("cannot bind"));
  fs::remove(run.stderr_path);

  // And the in-process collector, with nothing listening on port 1, still answers: pg_up 0.
  const std::string text = (*collector)->Scrape();
  EXPECT_EQ(Sample(text, "pg_up"), 0) << text;
  EXPECT_EQ(Sample(text, "pg_exporter_last_scrape_error"), 1);
}

}  // namespace
}  // namespace chat::pg_exporter

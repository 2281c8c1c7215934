// Readiness means set up, and shutdown is prompt at any moment (docs/style.md rule 13, issue
// 11). /readyz answers 503 until the service's setup has finished. The service binaries get
// SIGTERM while they wait — room-service in its start-up database retry (2 s × 30 attempts by
// default, here 30 s between attempts), persist-worker while every batch fails against a dead
// database — and must exit on their own, with status 0, well inside a few seconds.
// TerminateAndWait's bound is the assertion: past it the process is SIGKILLed and the exit code
// is -1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/process.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::testing {
namespace {

using namespace std::chrono_literals;

// A service binary as a child process, its output in a log file the test can read.
class Service {
 public:
  Service(const std::string& binary, const std::map<std::string, std::string>& env)
      : log_(std::filesystem::temp_directory_path() /
             ("shutdown-test-" + std::to_string(::getpid()) + "-" +
              std::filesystem::path(binary).filename().string() + ".log")) {
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = SpawnWithEnv({binary}, env, fd, fd);
    if (fd >= 0) ::close(fd);
  }
  ~Service() {
    if (pid_ > 0) (void)TerminateAndWait(pid_, 1s);
    std::error_code ec;
    std::filesystem::remove(log_, ec);
  }
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  pid_t pid() const { return pid_; }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  bool Logged(const std::string& text) const { return Log().find(text) != std::string::npos; }
  // SIGTERM; the exit code, or -1 when it had to be killed after `bound`.
  int Terminate(std::chrono::milliseconds bound) {
    int rc = TerminateAndWait(pid_, bound);
    pid_ = -1;
    return rc;
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

// A DSN nothing listens on while `port` lives: every connect attempt is refused at once. (A port
// from FreePort could be taken by a parallel test's Postgres meanwhile, and then the "dead"
// database answers.)
std::string DeadDatabase(const RefusingPort& port) {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port.port()) + "/chatdb";
}

std::map<std::string, std::string> CommonEnv(const NatsServer& nats) {
  return {{"NATS_URL", nats.url()},
          {"OTEL_SDK_DISABLED", "true"},
          {"OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"},
          {"OTEL_EXPORTER_PROMETHEUS_PORT", std::to_string(FreePort())}};
}

TEST(ShutdownTest, RoomServiceStopsAtOnceWhileRetryingTheDatabase) {
  auto nats = NatsServer::Create({.jetstream = true});
  ASSERT_TRUE(nats.ok()) << nats.status().ToString();
  auto env = CommonEnv(**nats);
  RefusingPort dead_db;
  ASSERT_GT(dead_db.port(), 0);
  env["DATABASE_URL"] = DeadDatabase(dead_db);
  env["CHAT_ROOM_DB_CONNECT_INTERVAL_MS"] = "30000";
  Service room(CHAT_ROOM_BIN, env);
  ASSERT_GT(room.pid(), 0);
  // In the retry loop: the first attempt failed and the wait before the second has begun.
  ASSERT_TRUE(WaitFor([&] { return room.Logged("database not reachable yet, retrying"); }, 20s))
      << room.Log();
  // Not ready while setup waits: NATS is connected, but nothing is subscribed yet (a probe that
  // said ready here let a rolling restart stop the old instance too early).
  {
    httplib::Client c("127.0.0.1", std::stoi(env["OTEL_EXPORTER_PROMETHEUS_PORT"]));
    c.set_connection_timeout(2);
    auto res = c.Get("/readyz");
    ASSERT_TRUE(res) << "no answer from /readyz";
    EXPECT_EQ(res->status, 503) << res->body;
    EXPECT_NE(res->body.find("starting"), std::string::npos) << res->body;
  }
  EXPECT_EQ(room.Terminate(5s), 0) << "room-service did not stop on SIGTERM during its database "
                                      "retry (exit -1 = killed after 5 s)\n"
                                   << room.Log();
}

TEST(ShutdownTest, PersistWorkerStopsAtOnceWhileTheDatabaseIsDown) {
  auto nats = NatsServer::Create({.jetstream = true});
  ASSERT_TRUE(nats.ok()) << nats.status().ToString();
  auto env = CommonEnv(**nats);
  RefusingPort dead_db;
  ASSERT_GT(dead_db.port(), 0);
  env["DATABASE_URL"] = DeadDatabase(dead_db);
  const int metrics_port = std::stoi(env["OTEL_EXPORTER_PROMETHEUS_PORT"]);
  Service worker(CHAT_PERSIST_BIN, env);
  ASSERT_GT(worker.pid(), 0);
  // Ready: the stream and its consumer exist and the fetch loops run (before setup finished,
  // /readyz said 503; these messages would otherwise be published before the stream exists).
  ASSERT_TRUE(WaitFor(
      [&] {
        httplib::Client c("127.0.0.1", metrics_port);
        c.set_connection_timeout(1);
        auto res = c.Get("/readyz");
        return res && res->status == 200;
      },
      20s))
      << worker.Log();
  // Messages it cannot persist: every batch fails and is NAK'd while the database is down.
  natsx::ConnectionOptions o;
  o.urls = {(*nats)->url()};
  o.name = "shutdown-test";
  auto conn = natsx::Connection::Connect(o, telemetry::Telemetry::Noop());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  static constexpr core::SubjectTemplate kChat{"chat.{room}"};
  for (int i = 0; i < 20; ++i) {
    const std::string body = R"({"user":"alice","room":"general","text":"x","timestamp":)" +
                             std::to_string(1700000000000 + i) + "}";
    ASSERT_TRUE((*conn)->Publish(kChat, {"general"}, body, {}).ok());
  }
  ASSERT_TRUE((*conn)->Flush(5s).ok());
  ASSERT_TRUE(WaitFor([&] { return worker.Logged("message persist failed"); }, 20s))
      << worker.Log();
  EXPECT_EQ(worker.Terminate(5s), 0) << "persist-worker did not stop on SIGTERM while the "
                                        "database was down (exit -1 = killed after 5 s)\n"
                                     << worker.Log();
}

}  // namespace
}  // namespace chat::testing

// The real dev-idp binary: configuration errors exit 2, port 0 announces the chosen port on
// stdout, SIGTERM shuts down with exit 0, and the rotate-keys CLI adds a signing key.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chat/testing/http_bomb.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/wait_for.hpp"
#include "key_store.hpp"

namespace chat::devidp {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Child {
  pid_t pid = -1;
  int out_fd = -1;  // stdout
  int err_fd = -1;  // stderr
};

Child Spawn(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  int out[2];
  int err[2];
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
  // Built before fork: the child may only make async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  return Child{pid, out[0], err[0]};
}

// Reads `fd` until a full line arrives or the deadline passes.
std::string ReadLine(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) break;
    if (c == '\n') return line;
    line += c;
  }
  return line;
}

std::string ReadAll(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}

int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  bool done = testing::WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class BinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "dev-idp-bin-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::vector<std::string> BaseEnv() const {
    return {"CHAT_IDP_PORT=0",
            "CHAT_IDP_STATE_DIR=" + dir_ + "/state",
            "CHAT_IDP_PBKDF2_ITERATIONS=1000",
            "OTEL_EXPORTER_PROMETHEUS_PORT=0",
            "OTEL_TRACES_EXPORTER=none",
            "OTEL_LOGS_EXPORTER=none",
            "PATH=/usr/bin:/bin"};
  }
  std::string dir_;
};

TEST_F(BinaryTest, InvalidConfigurationExitsWithCode2AndNamesTheVariable) {
  auto env = BaseEnv();
  env.push_back({"CHAT_IDP_TOKEN_TTL_SECONDS=forever"});
  Child c = Spawn({DEV_IDP_BINARY}, env);
  int code = WaitExit(c.pid, 10s);
  std::string err = ReadAll(c.err_fd);
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("CHAT_IDP_TOKEN_TTL_SECONDS"), std::string::npos) << err;
  ::close(c.out_fd);
  ::close(c.err_fd);
}

TEST_F(BinaryTest, ServesOnARandomPortAndStopsOnSigterm) {
  Child c = Spawn({DEV_IDP_BINARY}, BaseEnv());
  std::string line = ReadLine(c.out_fd, 30s);
  json ev = json::parse(line, nullptr, false);
  ASSERT_TRUE(ev.is_object()) << "stdout: " << line;
  EXPECT_EQ(ev["event"], "listening");
  int port = ev["port"].get<int>();
  ASSERT_GT(port, 0);

  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/realms/nats-chat/.well-known/openid-configuration");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["issuer"],
            "http://127.0.0.1:" + std::to_string(port) + "/realms/nats-chat");
  auto t =
      client.Post("/realms/nats-chat/protocol/openid-connect/token",
                  "grant_type=password&client_id=nats-chat-app&username=julia&password=julia123",
                  "application/x-www-form-urlencoded");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, 200);

  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(c.pid, 30s), 0);
  std::string err = ReadAll(c.err_fd);
  EXPECT_NE(err.find("signing key generated"), std::string::npos);
  EXPECT_EQ(err.find("julia123"), std::string::npos);
  ::close(c.out_fd);
  ::close(c.err_fd);
}

// Issue 11 §4: the token endpoint (a form route) and the admin server's /metrics answer gzip,
// deflate and br bombs with 415 and a 50 MiB chunked body with 413, unread; the process's peak
// RSS grows by at most 5 MiB and every refusal is counted.
TEST_F(BinaryTest, BodyBombsAreRefusedWithoutMemory) {
  using chat::testing::BombEncoding;
  const size_t inflated = size_t{64} * 1024 * 1024;
  const std::pair<std::string, std::string> bombs[] = {
      {"gzip", chat::testing::CompressedZeros(BombEncoding::kGzip, inflated)},
      {"deflate", chat::testing::CompressedZeros(BombEncoding::kDeflate, inflated)},
      {"br", chat::testing::CompressedZeros(BombEncoding::kBrotli, inflated)}};
  const int admin_port = chat::testing::FreePort();
  auto env = BaseEnv();
  for (auto& e : env) {
    if (e.rfind("OTEL_EXPORTER_PROMETHEUS_PORT=", 0) == 0) {
      e = "OTEL_EXPORTER_PROMETHEUS_PORT=" + std::to_string(admin_port);
    }
  }
  Child c = Spawn({DEV_IDP_BINARY}, env);
  json ev = json::parse(ReadLine(c.out_fd, 30s), nullptr, false);
  ASSERT_TRUE(ev.is_object());
  const int port = ev["port"].get<int>();
  httplib::Client admin("127.0.0.1", admin_port);
  ASSERT_TRUE(testing::WaitFor([&] { return static_cast<bool>(admin.Get("/metrics")); }, 10s));
  httplib::Client api("127.0.0.1", port);
  ASSERT_TRUE(api.Get("/realms/nats-chat/.well-known/openid-configuration"));
  const long before = chat::testing::PeakRssKib(c.pid);

  const std::string token = "/realms/nats-chat/protocol/openid-connect/token";
  for (const auto& [target_port, path] :
       {std::pair{port, token}, std::pair{admin_port, std::string("/metrics")}}) {
    for (const auto& [encoding, body] : bombs) {
      auto r = chat::testing::SendWithLength(
          target_port, "POST", path,
          {{"Content-Encoding", encoding}, {"Content-Type", "application/x-www-form-urlencoded"}},
          body);
      EXPECT_EQ(r.status, 415) << path << " " << encoding << " " << r.error << r.head;
    }
    auto r = chat::testing::SendChunked(target_port, "POST", path,
                                        {{"Content-Type", "application/x-www-form-urlencoded"}},
                                        size_t{50} * 1024 * 1024);
    EXPECT_EQ(r.status, 413) << path << " " << r.error << r.head;
    EXPECT_LT(r.body_bytes_sent, 50u * 1024 * 1024) << path;
  }
  const long growth = chat::testing::PeakRssKib(c.pid) - before;
  EXPECT_LE(growth, chat::testing::kBombMaxRssGrowthKib)
      << "dev-idp peak RSS grew by " << growth << " KiB";
  auto metrics = admin.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("http_server_rejected_requests_total{server=\"dev-idp\","
                               "reason=\"unsupported_encoding\"} 3"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("http_server_rejected_requests_total{server=\"admin\","
                               "reason=\"too_large\"} 1"),
            std::string::npos);

  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(c.pid, 30s), 0);
  std::string err = ReadAll(c.err_fd);
  EXPECT_NE(err.find("http request refused"), std::string::npos);
  ::close(c.out_fd);
  ::close(c.err_fd);
}

TEST_F(BinaryTest, RotateKeysCliAddsASigningKey) {
  auto first = KeyStore::Open(dir_ + "/state");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::string old_kid = first->store->SigningKey()->kid();

  Child c = Spawn({DEV_IDP_BINARY, "rotate-keys", "--state-dir", dir_ + "/state"},
                  {"PATH=/usr/bin:/bin"});
  EXPECT_EQ(WaitExit(c.pid, 30s), 0);
  json ev = json::parse(ReadAll(c.out_fd), nullptr, false);
  ASSERT_TRUE(ev.is_object());
  EXPECT_EQ(ev["event"], "rotated");
  std::string new_kid = ev["kid"];
  EXPECT_NE(new_kid, old_kid);
  ::close(c.out_fd);
  ::close(c.err_fd);

  auto reopened = KeyStore::Open(dir_ + "/state");
  ASSERT_TRUE(reopened.ok());
  EXPECT_FALSE(reopened->generated);
  EXPECT_EQ(reopened->store->SigningKey()->kid(), new_kid);
  auto keys = reopened->store->PublishedKeys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1]->kid(), old_kid);
}

}  // namespace
}  // namespace chat::devidp

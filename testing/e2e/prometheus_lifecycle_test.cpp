// Prometheus started the way ./nats-chat starts it (the flags of deploy/local/prometheus.flags,
// which start_prometheus and PrometheusProcess both read) has no lifecycle API: any web page
// could otherwise POST /-/quit or /-/reload to it. /-/quit and /-/reload answer 403 and the
// server keeps running; a reload is SIGHUP to its pid, and that one works.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "chat/testing/wait_for.hpp"
#include "prometheus_process.hpp"

namespace chat::testing {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ./nats-chat and the parts it sources (tools/nats-chat/*.sh), as one text.
std::string ReadNatsChatScript() {
  std::string all = ReadFile(CHAT_SOURCE_DIR "/nats-chat");
  std::vector<std::filesystem::path> parts;
  for (const auto& e : std::filesystem::directory_iterator(CHAT_SOURCE_DIR "/tools/nats-chat")) {
    if (e.path().extension() == ".sh") {
      parts.push_back(e.path());
    }
  }
  std::sort(parts.begin(), parts.end());
  for (const auto& p : parts) {
    all += "\n" + ReadFile(p);
  }
  return all;
}

const std::filesystem::path kFlagsFile = CHAT_SOURCE_DIR "/deploy/local/prometheus.flags";

class PrometheusLifecycleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto p = PrometheusProcess::Start(PrometheusOptions{});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    prom_ = p->release();
  }
  static void TearDownTestSuite() {
    delete prom_;
    prom_ = nullptr;
  }
  static httplib::Result Post(const char* path) {
    httplib::Client client("127.0.0.1", prom_->port());
    client.set_connection_timeout(2);
    client.set_read_timeout(10);
    return client.Post(path, "", "application/x-www-form-urlencoded");
  }
  static bool Ready() {
    httplib::Client client("127.0.0.1", prom_->port());
    client.set_connection_timeout(1);
    auto res = client.Get("/-/ready");
    return res && res->status == 200;
  }
  static PrometheusProcess* prom_;
};
PrometheusProcess* PrometheusLifecycleTest::prom_ = nullptr;

TEST_F(PrometheusLifecycleTest, QuitIsRefusedAndTheServerKeepsRunning) {
  auto res = Post("/-/quit");
  ASSERT_TRUE(res) << "prometheus did not answer";
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_NE(res->body.find("Lifecycle API is not enabled"), std::string::npos) << res->body;
  // Still serving afterwards (a quit that had been honoured would stop it within a moment;
  // the API answering a query after the refusal shows it did not).
  EXPECT_TRUE(Ready());
  auto up = prom_->Query("up{job=\"prometheus\"}");
  EXPECT_TRUE(up.ok()) << up.status().ToString();
}

TEST_F(PrometheusLifecycleTest, HttpReloadIsRefused) {
  auto res = Post("/-/reload");
  ASSERT_TRUE(res) << "prometheus did not answer";
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_NE(res->body.find("Lifecycle API is not enabled"), std::string::npos) << res->body;
}

// SIGHUP reloads: a job added to the config file appears in the loaded configuration.
TEST_F(PrometheusLifecycleTest, SighupReloadsTheConfig) {
  const std::string job = "sighup-reload-probe";
  auto before = prom_->Api("/api/v1/status/config");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->value("yaml", "").find(job), std::string::npos);
  {
    std::ofstream out(prom_->config_path(), std::ios::app);
    out << "  - job_name: " << job << "\n    static_configs: [{targets: [\"127.0.0.1:1\"]}]\n";
  }
  ASSERT_TRUE(prom_->Reload());
  bool loaded = WaitFor(
      [&] {
        auto cfg = prom_->Api("/api/v1/status/config");
        return cfg.ok() && cfg->value("yaml", "").find(job) != std::string::npos;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(loaded) << prom_->LogTail();
  EXPECT_TRUE(Ready());
}

// The shared flag list is what both starters use, and it never enables the HTTP admin surfaces.
TEST(PrometheusFlagsTest, SharedFlagsHaveNoLifecycleOrAdminApi) {
  auto flags = ReadPrometheusFlags(kFlagsFile);
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  EXPECT_FALSE(flags->empty());
  for (const auto& f : *flags) {
    EXPECT_EQ(f.rfind("--web.enable-lifecycle", 0), std::string::npos) << f;
    EXPECT_EQ(f.rfind("--web.enable-admin-api", 0), std::string::npos) << f;
    EXPECT_EQ(f.rfind("--", 0), 0u) << "one flag a line: " << f;
  }
  // The features the local stack relies on are there (Tempo-style remote write, exemplars).
  auto has = [&](const std::string& f) {
    return std::find(flags->begin(), flags->end(), f) != flags->end();
  };
  EXPECT_TRUE(has("--web.enable-remote-write-receiver"));
  EXPECT_TRUE(has("--enable-feature=exemplar-storage"));
}

TEST(PrometheusFlagsTest, NatsChatScriptStartsPrometheusWithTheSharedFlags) {
  const std::string script = ReadNatsChatScript();
  ASSERT_FALSE(script.empty());
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(script, m, std::regex(R"(\nstart_prometheus\(\) \{\n([\s\S]*?)\n\}\n)")))
      << "start_prometheus() not found in nats-chat or tools/nats-chat/";
  const std::string body = m[1].str();
  EXPECT_NE(body.find("deploy/local/prometheus.flags"), std::string::npos) << body;
  EXPECT_NE(body.find("\"${flags[@]}\""), std::string::npos) << body;
  // Every flag on the spawn line other than the three per-instance ones comes from the file.
  static const std::regex kFlag(R"(--[a-z][a-z.-]*)");
  for (std::sregex_iterator it(body.begin(), body.end(), kFlag), end; it != end; ++it) {
    const std::string f = it->str();
    EXPECT_TRUE(f == "--config.file" || f == "--storage.tsdb.path" || f == "--web.listen-address")
        << "flag outside deploy/local/prometheus.flags: " << f;
  }
  EXPECT_EQ(script.find("--web.enable-lifecycle"), std::string::npos);
  EXPECT_EQ(script.find("/-/reload"), std::string::npos) << "reload is SIGHUP";
  EXPECT_EQ(script.find("/-/quit"), std::string::npos);
}

}  // namespace
}  // namespace chat::testing

// nats-exporter against a real nats-server with JetStream and monitoring on random ports: the
// stream and consumer are made with libnats (not through the monitoring API), then the
// exporter's /metrics is scraped over HTTP and its numbers checked against what we did.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nats/nats.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "chat/testing/process.hpp"
#include "chat/testing/wait_for.hpp"
#include "exporter.hpp"

namespace chat::nats_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// nats-server -js on random client and monitoring ports, learnt from its ports file.
class NatsServerProcess {
 public:
  NatsServerProcess() {
    dir_ = fs::temp_directory_path() /
           ("nats_exporter_test_" + std::to_string(getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(dir_);
    std::vector<std::string> argv = {Binary(),
                                     "-js",
                                     "-sd",
                                     (dir_ / "js").string(),
                                     "-a",
                                     "127.0.0.1",
                                     "-p",
                                     "-1",
                                     "-m",
                                     "-1",
                                     "--ports_file_dir",
                                     dir_.string(),
                                     "-l",
                                     (dir_ / "log").string()};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~NatsServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  NatsServerProcess(const NatsServerProcess&) = delete;
  NatsServerProcess& operator=(const NatsServerProcess&) = delete;

  // Waits for the ports file; fills client_url and monitor_url.
  bool WaitReady() {
    if (pid_ <= 0) return false;
    const fs::path ports = dir_ / ("nats-server_" + std::to_string(pid_) + ".ports");
    return chat::testing::WaitFor(
        [&] {
          std::ifstream in(ports);
          if (!in) return false;
          std::stringstream ss;
          ss << in.rdbuf();
          auto j = nlohmann::json::parse(ss.str(), nullptr, false);
          if (j.is_discarded() || !j["nats"].is_array() || !j["monitoring"].is_array() ||
              j["nats"].empty() || j["monitoring"].empty()) {
            return false;
          }
          client_url = j["nats"][0].get<std::string>();
          monitor_url = j["monitoring"][0].get<std::string>();
          return true;
        },
        10s);
  }

  std::string client_url;
  std::string monitor_url;

 private:
  // Debian installs it in /usr/sbin, which is not always on a test runner's PATH.
  static std::string Binary() {
    for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server"}) {
      if (access(p, X_OK) == 0) return p;
    }
    return "nats-server";
  }

  static inline int counter_ = 0;
  fs::path dir_;
  pid_t pid_ = -1;
};

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

class NatsExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(nats_.WaitReady()) << "nats-server did not start";
    ASSERT_EQ(natsConnection_ConnectTo(&nc_, nats_.client_url.c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_JetStream(&js_, nc_, nullptr), NATS_OK);

    Config config;
    config.monitor_url = nats_.monitor_url;
    config.host = "127.0.0.1";
    config.port = 0;
    exporter_ = std::make_unique<ExporterServer>(config);
    ASSERT_TRUE(exporter_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", exporter_->port());
    client_->set_read_timeout(10);
  }
  void TearDown() override {
    exporter_.reset();
    if (sub_ != nullptr) natsSubscription_Destroy(sub_);
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (nc_ != nullptr) natsConnection_Destroy(nc_);
  }

  std::string ScrapeText() {
    auto res = client_->Get("/metrics");
    if (!res || res->status != 200) return "";
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return res->body;
  }

  void CreateStreamAndConsumer() {
    auto jerr = static_cast<jsErrCode>(0);
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char* subjects[] = {"orders.>"};
    sc.Name = "ORDERS";
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    jsStreamInfo* si = nullptr;
    ASSERT_EQ(js_AddStream(&si, js_, &sc, nullptr, &jerr), NATS_OK) << jerr;
    jsStreamInfo_Destroy(si);

    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = "worker";
    // libnats 3.4 does not JSON-escape the description: keep it free of quotes.
    cc.Description = "persist worker";
    cc.AckPolicy = js_AckExplicit;
    cc.FilterSubject = "orders.>";
    jsConsumerInfo* ci = nullptr;
    natsStatus s = js_AddConsumer(&ci, js_, "ORDERS", &cc, nullptr, &jerr);
    ASSERT_EQ(s, NATS_OK) << jerr << " " << nats_GetLastError(nullptr);
    jsConsumerInfo_Destroy(ci);
  }

  void Publish(int n) {
    for (int i = 0; i < n; ++i) {
      auto jerr = static_cast<jsErrCode>(0);
      jsPubAck* pa = nullptr;
      ASSERT_EQ(js_Publish(&pa, js_, "orders.new", "payload", 7, nullptr, &jerr), NATS_OK);
      jsPubAck_Destroy(pa);
    }
  }

  NatsServerProcess nats_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::unique_ptr<ExporterServer> exporter_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(NatsExporterTest, ConsumerPendingFollowsPublishFetchAndAck) {
  CreateStreamAndConsumer();
  Publish(5);
  const std::vector<std::string> consumer = {"stream_name=\"ORDERS\"", "consumer_name=\"worker\"",
                                             "is_consumer_leader=\"true\"", "account=\"$G\""};
  std::string text = ScrapeText();
  EXPECT_EQ(Sample(text, "jetstream_consumer_num_pending", consumer), 5) << text;
  EXPECT_EQ(Sample(text, "jetstream_consumer_num_ack_pending", consumer), 0);
  EXPECT_EQ(Sample(text, "jetstream_consumer_num_redelivered", consumer), 0);
  EXPECT_EQ(Sample(text, "jetstream_consumer_delivered_consumer_seq", consumer), 0);
  EXPECT_EQ(Sample(text, "jetstream_stream_total_messages", {"stream_name=\"ORDERS\""}), 5);
  EXPECT_GT(Sample(text, "jetstream_stream_total_bytes", {"stream_name=\"ORDERS\""}).value_or(0),
            0);
  EXPECT_THAT(text, HasSubstr("consumer_desc=\"persist worker\""));
  EXPECT_THAT(text, HasSubstr("server_id=\"" + nats_.monitor_url + "\""));

  // Fetch two without acking: they move from pending to ack-pending.
  auto jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PullSubscribe(&sub_, js_, "orders.>", "worker", nullptr, nullptr, &jerr), NATS_OK)
      << jerr;
  natsMsgList list{};
  ASSERT_EQ(natsSubscription_Fetch(&list, sub_, 2, 5000, &jerr), NATS_OK) << jerr;
  ASSERT_EQ(list.Count, 2);
  text = ScrapeText();
  EXPECT_EQ(Sample(text, "jetstream_consumer_num_pending", consumer), 3) << text;
  EXPECT_EQ(Sample(text, "jetstream_consumer_num_ack_pending", consumer), 2);
  EXPECT_EQ(Sample(text, "jetstream_consumer_delivered_consumer_seq", consumer), 2);

  ASSERT_EQ(natsMsg_AckSync(list.Msgs[0], nullptr, &jerr), NATS_OK);
  natsMsgList_Destroy(&list);
  text = ScrapeText();
  EXPECT_EQ(Sample(text, "jetstream_consumer_num_ack_pending", consumer), 1) << text;
  EXPECT_EQ(Sample(text, "jetstream_consumer_ack_floor_consumer_seq", consumer), 1);
  EXPECT_EQ(Sample(text, "nats_exporter_up"), 1);
}

TEST_F(NatsExporterTest, VarzSeriesCarryServerId) {
  Publish(0);
  natsConnection_PublishString(nc_, "plain.subject", "x");
  ASSERT_EQ(natsConnection_Flush(nc_), NATS_OK);
  std::string text = ScrapeText();
  const std::vector<std::string> id = {"server_id=\"" + nats_.monitor_url + "\""};
  EXPECT_GE(Sample(text, "gnatsd_varz_connections", id).value_or(-1), 1) << text;
  EXPECT_GE(Sample(text, "gnatsd_varz_in_msgs", id).value_or(-1), 1);
  EXPECT_GE(Sample(text, "gnatsd_varz_in_bytes", id).value_or(-1), 1);
  EXPECT_GT(Sample(text, "gnatsd_varz_mem", id).value_or(-1), 0);
  EXPECT_GT(Sample(text, "gnatsd_varz_subscriptions", id).value_or(-1), 0);
  for (const char* name :
       {"gnatsd_varz_slow_consumers", "gnatsd_varz_out_msgs", "gnatsd_varz_out_bytes"}) {
    EXPECT_TRUE(Sample(text, name, id).has_value()) << name;
  }
  EXPECT_THAT(text, HasSubstr("# TYPE gnatsd_varz_in_msgs gauge\n"));
  EXPECT_EQ(Sample(text, "jetstream_server_total_streams"), 0);
}

TEST_F(NatsExporterTest, DeletedStreamDisappears) {
  CreateStreamAndConsumer();
  EXPECT_THAT(ScrapeText(), HasSubstr("stream_name=\"ORDERS\""));
  auto jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_DeleteStream(js_, "ORDERS", nullptr, &jerr), NATS_OK);
  EXPECT_THAT(ScrapeText(), Not(HasSubstr("ORDERS")));
}

TEST_F(NatsExporterTest, OutputPassesPromtool) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool not installed";
  CreateStreamAndConsumer();
  Publish(3);
  std::string text = ScrapeText();
  auto [exit_code, output] = chat::testing::RunCommand("/usr/bin/promtool check metrics", text);
  // promtool parses, then lints. The official name jetstream_stream_consumer_count draws the
  // lint "should not have _count suffix"; we keep the official name, so that one finding is
  // allowed and anything else (a parse error above all) fails.
  EXPECT_NE(exit_code, -1) << output;
  EXPECT_THAT(output, Not(HasSubstr("error while linting"))) << output;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_EQ(line.rfind("jetstream_stream_consumer_count non-histogram and non-summary", 0), 0u)
        << "unexpected promtool finding: " << line;
  }
}

TEST(NatsExporterNoServerTest, UnreachableMonitorCountsErrorsAndStillServes) {
  Config config;
  config.monitor_url = "http://127.0.0.1:1";  // nothing listens on port 1
  config.poll_timeout = 1000ms;
  Collector collector(config);
  std::string text = collector.Scrape();
  text = collector.Scrape();
  EXPECT_THAT(text, Not(HasSubstr("gnatsd_varz_")));
  EXPECT_EQ(Sample(text, "nats_exporter_scrape_errors_total", {"endpoint=\"varz\""}), 2);
  EXPECT_EQ(Sample(text, "nats_exporter_scrape_errors_total", {"endpoint=\"jsz\""}), 0);
  EXPECT_EQ(Sample(text, "nats_exporter_up"), 0);
  EXPECT_EQ(Sample(text, "nats_exporter_scrapes_total"), 2);
}

TEST(NatsExporterConfigTest, FlagsOverrideEnvironment) {
  core::MapEnv env{{"NATS_EXPORTER_MONITOR_URL", "http://nats-1:8222"},
                   {"NATS_EXPORTER_PORT", "9000"}};
  auto c = Config::FromArgs({}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->monitor_url, "http://nats-1:8222");
  EXPECT_EQ(c->port, 9000);
  c = Config::FromArgs({"--port", "7778", "--server-id-from-varz", "http://nats-2:8222/"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->monitor_url, "http://nats-2:8222/");
  EXPECT_EQ(c->port, 7778);
  EXPECT_TRUE(c->server_id_from_varz);
  auto defaults = Config::FromArgs({}, core::MapEnv{});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->port, 7777);
  EXPECT_EQ(defaults->host, "127.0.0.1");  // loopback unless configured (issue 11 §15)
}

TEST(NatsExporterConfigTest, ReportsEveryProblem) {
  auto c = Config::FromArgs({"--port", "x", "--bogus", "ftp://nats"}, core::MapEnv{});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("--port"));
  EXPECT_THAT(c.status().message(), HasSubstr("--bogus"));
  EXPECT_THAT(c.status().message(), HasSubstr("ftp://nats"));
}

}  // namespace
}  // namespace chat::nats_exporter

// AdminServer end to end over HTTP: content negotiation, /healthz, /readyz, port clashes, and a
// real Prometheus 2.42 scrape of the OpenMetrics output (exemplars included).
#include "chat/telemetry/sdk/admin_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/process.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::telemetry::sdk {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(AcceptsOpenMetricsTest, ParsesAcceptHeaders) {
  EXPECT_TRUE(AcceptsOpenMetrics(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
      "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
  EXPECT_TRUE(AcceptsOpenMetrics("Application/OpenMetrics-Text"));
  EXPECT_FALSE(AcceptsOpenMetrics(""));
  EXPECT_FALSE(AcceptsOpenMetrics("text/plain;version=0.0.4"));
  EXPECT_FALSE(AcceptsOpenMetrics("*/*"));
  EXPECT_FALSE(AcceptsOpenMetrics("application/openmetrics-text;q=0, text/plain"));
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = registry_.AddCounter("chat_test_requests_total", "Requests.", {"result"});
    c.With({"ok"}).Add(2);
    server_ = std::make_unique<AdminServer>(registry_, AdminServerOptions{"127.0.0.1", 0});
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_connection_timeout(5);
    client_->set_read_timeout(5);
  }

  MetricRegistry registry_;
  std::unique_ptr<AdminServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(AdminServerTest, MetricsDefaultsToPrometheusText) {
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kPrometheusTextContentType);
  EXPECT_THAT(res->body, HasSubstr("# TYPE chat_test_requests_total counter\n"));
  EXPECT_THAT(res->body, HasSubstr("chat_test_requests_total{result=\"ok\"} 2\n"));
  EXPECT_THAT(res->body, ::testing::Not(HasSubstr("# EOF")));
}

TEST_F(AdminServerTest, MetricsServesOpenMetricsWhenAsked) {
  httplib::Headers headers = {
      {"Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"}};
  auto res = client_->Get("/metrics", headers);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kOpenMetricsContentType);
  EXPECT_THAT(res->body, HasSubstr("# TYPE chat_test_requests counter\n"));
  EXPECT_THAT(res->body, HasSubstr("chat_test_requests_total{result=\"ok\"} 2\n"));
  EXPECT_THAT(res->body, ::testing::EndsWith("# EOF\n"));
}

TEST_F(AdminServerTest, HealthzIsOk) {
  auto res = client_->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
}

TEST_F(AdminServerTest, ReadyzFlipsFrom503To200WhenChecksPass) {
  std::atomic<bool> nats_up{false};
  server_->AddReadinessCheck("nats", [&]() -> core::Status {
    return nats_up ? core::Status::Ok() : core::Unavailable("not connected");
  });
  server_->AddReadinessCheck("always", [] { return core::Status::Ok(); });

  auto res = client_->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << res->body;
  EXPECT_EQ(body["status"], "not_ready");
  ASSERT_EQ(body["failing"].size(), 1u);
  EXPECT_EQ(body["failing"][0]["name"], "nats");
  EXPECT_EQ(body["failing"][0]["error"], "unavailable: not connected");

  nats_up = true;
  res = client_->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  body = nlohmann::json::parse(res->body, nullptr, false);
  EXPECT_EQ(body["status"], "ready");
  EXPECT_TRUE(body["failing"].empty());
}

TEST_F(AdminServerTest, ReadyzWithoutChecksIsReady) {
  auto res = client_->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(AdminServerTest, PortClashIsAnErrorStatus) {
  AdminServer second(registry_, AdminServerOptions{"127.0.0.1", server_->port()});
  core::Status st = second.Start();
  EXPECT_EQ(st.code(), core::ErrorCode::kUnavailable) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr(std::to_string(server_->port())));
  EXPECT_EQ(second.port(), 0);
  // The first server is unaffected.
  auto res = client_->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(AdminServerTest, StopIsIdempotentAndRefusesConnections) {
  int port = server_->port();
  server_->Stop();
  server_->Stop();
  EXPECT_EQ(server_->port(), 0);
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2);
  EXPECT_FALSE(c.Get("/healthz"));
}

TEST(AdminServerStartTest, StartTwiceFails) {
  MetricRegistry registry;
  AdminServer server(registry, AdminServerOptions{"127.0.0.1", 0});
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.Start().code(), core::ErrorCode::kFailedPrecondition);
}

// The routes run on the HttpRouter: a throwing readiness check is the internal-error body and one
// ERROR line; a 503 while not ready is a DEBUG line only (no ERROR per probe); no spans.
TEST(AdminServerRouterTest, ProbesAreQuietAndAThrowingCheckIsTheInternalErrorBody) {
  MetricRegistry registry;
  std::mutex mu;
  std::vector<std::string> lines;
  Logger logger("admin-test", LogLevel::kDebug, nullptr, core::SystemClock::Instance(),
                [&](std::string_view line) {
                  std::lock_guard lock(mu);
                  lines.emplace_back(line);
                });
  auto count = [&](std::string_view needle) {
    std::lock_guard lock(mu);
    return std::count_if(lines.begin(), lines.end(),
                         [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  };
  std::atomic<int> mode{0};  // 0 not ready, 1 throws
  AdminServer server(registry, AdminServerOptions{"127.0.0.1", 0, &logger});
  server.AddReadinessCheck("dep", [&]() -> core::Status {
    if (mode.load() == 1) throw std::runtime_error("secret detail");
    return core::Unavailable("dep down");
  });
  ASSERT_TRUE(server.Start().ok());
  httplib::Client cli("127.0.0.1", server.port());

  auto not_ready = cli.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(count("service not ready"), 1);
  EXPECT_EQ(count("\"ERROR\""), 0);
  EXPECT_EQ(count("\"WARN\""), 0);

  mode = 1;
  auto threw = cli.Get("/readyz");
  ASSERT_TRUE(threw);
  EXPECT_EQ(threw->status, 500);
  EXPECT_EQ(threw->body, R"({"error":{"code":"internal","message":"Internal error."}})");
  EXPECT_EQ(count("http request failed"), 1);
  EXPECT_EQ(count("\"chat.http.server\":\"admin\""), 1);

  auto names = registry.FamilyNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), "trace_context_invalid_total"), 0);
}

// ---- a real Prometheus scrapes the OpenMetrics output ----------------------------------------

using chat::testing::FreePort;

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv)
      : pid_(chat::testing::SpawnWithEnv(argv, {}, -1, -1)) {}
  ~ChildProcess() { chat::testing::TerminateAndWait(pid_, std::chrono::seconds(10)); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool ok() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

TEST(AdminServerPrometheusTest, PrometheusScrapesOpenMetricsWithExemplars) {
  constexpr const char* kPrometheus = "/usr/bin/prometheus";
  if (access(kPrometheus, X_OK) != 0) GTEST_SKIP() << "prometheus not installed";

  MetricRegistry registry;
  auto h =
      registry.AddHistogram("chat_test_duration_seconds", "Duration.", kBucketsNats, {"action"});
  auto c = registry.AddCounter("chat_test_requests_total", "Requests \"quoted\".", {"result"});
  SpanContext ctx;
  for (size_t i = 0; i < 16; ++i) ctx.trace_id.bytes[i] = static_cast<uint8_t>(0x11 * (i % 15 + 1));
  for (size_t i = 0; i < 8; ++i) ctx.span_id.bytes[i] = static_cast<uint8_t>(0x21 + i);
  ctx.trace_flags = kTraceFlagSampled;
  h.With({"cre\"ate\\x\ny"}).Record(0.3, &ctx);
  c.With({"ok"}).Add(7, &ctx);
  c.With({"error"});

  AdminServer server(registry, AdminServerOptions{"127.0.0.1", 0});
  ASSERT_TRUE(server.Start().ok());

  auto dir = std::filesystem::temp_directory_path() /
             ("admin_prom_" + std::to_string(getpid()) + "_" + std::to_string(FreePort()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream cfg(dir / "prometheus.yml");
    cfg << "global: {scrape_interval: 1s}\n"
        << "scrape_configs:\n"
        << "  - job_name: admin\n"
        << "    static_configs: [{targets: ['127.0.0.1:" << server.port() << "']}]\n";
  }
  const int prom_port = FreePort();
  ChildProcess prom({kPrometheus, "--config.file=" + (dir / "prometheus.yml").string(),
                     "--storage.tsdb.path=" + (dir / "data").string(),
                     "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                     "--enable-feature=exemplar-storage", "--log.level=warn"});
  ASSERT_TRUE(prom.ok());

  httplib::Client api("127.0.0.1", prom_port);
  api.set_connection_timeout(2);
  api.set_read_timeout(5);
  nlohmann::json target;
  bool up = chat::testing::WaitFor(
      [&] {
        auto res = api.Get("/api/v1/targets");
        if (!res || res->status != 200) return false;
        auto j = nlohmann::json::parse(res->body, nullptr, false);
        if (j.is_discarded()) return false;
        auto& active = j["data"]["activeTargets"];
        if (!active.is_array() || active.empty()) return false;
        target = active[0];
        return target["health"] == "up" || !target["lastError"].get<std::string>().empty();
      },
      60s);
  ASSERT_TRUE(up) << "prometheus never scraped the admin server";
  ASSERT_EQ(target["health"], "up") << target.dump();
  EXPECT_EQ(target["lastError"], "");

  // The counter value and the escaped label value round-trip through Prometheus' parser.
  auto res = api.Get("/api/v1/query?query=chat_test_requests_total%7Bresult%3D%22ok%22%7D");
  ASSERT_TRUE(res);
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_EQ(j["data"]["result"].size(), 1u) << res->body;
  EXPECT_EQ(j["data"]["result"][0]["value"][1], "7");
  res = api.Get("/api/v1/query?query=chat_test_duration_seconds_count");
  ASSERT_TRUE(res);
  j = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_EQ(j["data"]["result"].size(), 1u) << res->body;
  EXPECT_EQ(j["data"]["result"][0]["metric"]["action"], "cre\"ate\\x\ny");

  // The histogram exemplar is stored with our trace_id / span_id labels.
  const std::string trace_hex = "112233445566778899aabbccddeeff11";
  bool found = chat::testing::WaitFor(
      [&] {
        auto r =
            api.Get("/api/v1/query_exemplars?query=chat_test_duration_seconds_bucket&start=0&end=" +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count() +
                                   3600));
        return r && r->body.find(trace_hex) != std::string::npos &&
               r->body.find("2122232425262728") != std::string::npos;
      },
      20s);
  EXPECT_TRUE(found);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace chat::telemetry::sdk

// The real binary end to end through testing::SinkProcess: start on a random port, post OTLP,
// query it back, SIGTERM exits 0. Also: bad configuration exits 2.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "chat/testing/sink_process.hpp"
#include "test_util.hpp"

namespace chat::sink {
namespace {

using namespace chat::sink::test;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;

TEST(SinkProcessTest, StartPostQueryAndStopCleanly) {
  chat::testing::SinkProcess sink;
  auto started = sink.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  ASSERT_GT(sink.port(), 0);

  SpanList spans;
  auto root = MakeSpan(Tid(1), Sid(1), SpanId{}, "send_message", SpanKind::kInternal, 0, 5000);
  root->attributes.push_back({"chat.action", "send"});
  spans.push_back(std::move(root));
  auto post = sink.Http("POST", "/v1/traces", EncodeTraces("web-frontend", spans),
                        {{"Content-Type", "application/x-protobuf"}});
  ASSERT_TRUE(post.ok()) << post.status().ToString();
  ASSERT_EQ(post->status, 200) << post->body;

  LogList logs;
  logs.push_back(MakeLog(telemetry::LogLevel::kInfo, "message persisted", Tid(1), Sid(1), 10));
  auto post_logs = sink.Http("POST", "/v1/logs", EncodeLogs("persist-worker", logs, true),
                             {{"Content-Type", "application/json"}});
  ASSERT_TRUE(post_logs.ok());
  ASSERT_EQ(post_logs->status, 200);

  auto trace = sink.WaitForTrace(
      Tid(1).Hex(), [](const nlohmann::json& t) { return t["spans"].size() == 1; }, 5s);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ((*trace)["spans"][0]["attributes"]["chat.action"], "send");

  auto found = sink.SearchTraces("service=web-frontend&attr.chat.action=send");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ((*found)["traces"].size(), 1u);
  EXPECT_EQ((*found)["traces"][0]["trace_id"], Tid(1).Hex());

  auto got_logs = sink.Logs("trace_id=" + Tid(1).Hex() + "&level=INFO");
  ASSERT_TRUE(got_logs.ok());
  ASSERT_EQ((*got_logs)["logs"].size(), 1u);
  EXPECT_EQ((*got_logs)["logs"][0]["msg"], "message persisted");

  auto metrics = sink.Metrics();
  ASSERT_TRUE(metrics.ok());
  auto samples = ParseExposition(*metrics);
  EXPECT_EQ(FindSample(samples, "traces_spanmetrics_calls_total",
                       {{"service", "web-frontend"},
                        {"span_name", "send_message"},
                        {"chat_action", "send"},
                        {"source", "tempo"}}),
            1);
  EXPECT_FALSE(sink.GetTrace(Tid(2).Hex()).ok());

  EXPECT_EQ(sink.Stop(), 0);
}

TEST(SinkProcessTest, BadConfigurationExitsWithCode2) {
  chat::testing::SinkProcessOptions options;
  options.env["SINK_MAX_SPANS"] = "lots";
  chat::testing::SinkProcess sink;
  auto started = sink.Start(options);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.message().find("exit 2"), std::string::npos) << started.ToString();
}

}  // namespace
}  // namespace chat::sink

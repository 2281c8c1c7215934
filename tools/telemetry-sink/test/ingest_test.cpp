// OTLP ingest through Sink::HandleOtlp and the query API: what goes in comes out exactly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chat/core/clock.hpp"
#include "sink.hpp"
#include "test_util.hpp"

namespace chat::sink {
namespace {

using namespace chat::sink::test;  // NOLINT(google-build-using-namespace)
using telemetry::LogLevel;

class SinkIngestTest : public ::testing::Test {
 protected:
  SinkConfig Config() {
    SinkConfig c;
    c.port = 0;
    c.max_body_bytes = size_t{64} * 1024;
    return c;
  }
  void SetUp() override { sink_ = std::make_unique<Sink>(Config(), clock_); }

  // A three-span trace: browser root → producer → consumer in another service.
  SpanList SendTrace(TraceId t) {
    SpanList spans;
    auto root = MakeSpan(t, Sid(1), SpanId{}, "send_message", SpanKind::kInternal, 0, 9'000'000);
    root->attributes.push_back({"chat.action", "send"});
    root->attributes.push_back({"chat.room", "general"});
    root->events.push_back(telemetry::SpanEvent{
        "echo_rendered", kT0 + 8'000'000, {Attribute{"chat.message_id", "m1"}}});
    auto pub = MakeSpan(t, Sid(2), Sid(1), "publish deliver.{user}.send.{room}",
                        SpanKind::kProducer, 1'000'000, 500'000, StatusCode::kError);
    pub->status_message = "no responders";
    pub->attributes.push_back({"messaging.system", "nats"});
    pub->attributes.push_back({"chat.retry", 2});
    pub->attributes.push_back({"chat.sampled", true});
    pub->attributes.push_back({"chat.ratio", 0.25});
    telemetry::SpanLink link;
    link.context.trace_id = Tid(99);
    link.context.span_id = Sid(98);
    link.attributes.push_back({"chat.link.reason", "backlog"});
    pub->links.push_back(link);
    spans.push_back(std::move(root));
    spans.push_back(std::move(pub));
    return spans;
  }

  core::FakeClock clock_;
  std::unique_ptr<Sink> sink_;
};

void ExpectSendTrace(const nlohmann::json& trace, TraceId t) {
  ASSERT_EQ(trace["trace_id"], t.Hex());
  ASSERT_EQ(trace["spans"].size(), 2u);
  const auto& root = trace["spans"][0];
  EXPECT_EQ(root["span_id"], Sid(1).Hex());
  EXPECT_EQ(root["parent_span_id"], "");
  EXPECT_EQ(root["name"], "send_message");
  EXPECT_EQ(root["kind"], "SPAN_KIND_INTERNAL");
  EXPECT_EQ(root["service_name"], "web-frontend");
  EXPECT_EQ(root["start_unix_nano"].get<int64_t>(), kT0);
  EXPECT_EQ(root["end_unix_nano"].get<int64_t>(), kT0 + 9'000'000);
  EXPECT_EQ(root["duration_ns"].get<int64_t>(), 9'000'000);
  EXPECT_EQ(root["status"]["code"], "STATUS_CODE_UNSET");
  EXPECT_EQ(root["attributes"]["chat.action"], "send");
  EXPECT_EQ(root["attributes"]["chat.room"], "general");
  EXPECT_EQ(root["resource"]["service.name"], "web-frontend");
  ASSERT_EQ(root["events"].size(), 1u);
  EXPECT_EQ(root["events"][0]["name"], "echo_rendered");
  EXPECT_EQ(root["events"][0]["time_unix_nano"].get<int64_t>(), kT0 + 8'000'000);
  EXPECT_EQ(root["events"][0]["attributes"]["chat.message_id"], "m1");
  EXPECT_TRUE(root["links"].empty());

  const auto& pub = trace["spans"][1];
  EXPECT_EQ(pub["span_id"], Sid(2).Hex());
  EXPECT_EQ(pub["parent_span_id"], Sid(1).Hex());
  EXPECT_EQ(pub["name"], "publish deliver.{user}.send.{room}");
  EXPECT_EQ(pub["kind"], "SPAN_KIND_PRODUCER");
  EXPECT_EQ(pub["status"]["code"], "STATUS_CODE_ERROR");
  EXPECT_EQ(pub["status"]["message"], "no responders");
  EXPECT_EQ(pub["attributes"]["messaging.system"], "nats");
  EXPECT_EQ(pub["attributes"]["chat.retry"].get<int64_t>(), 2);
  EXPECT_EQ(pub["attributes"]["chat.sampled"].get<bool>(), true);
  EXPECT_DOUBLE_EQ(pub["attributes"]["chat.ratio"].get<double>(), 0.25);
  ASSERT_EQ(pub["links"].size(), 1u);
  EXPECT_EQ(pub["links"][0]["trace_id"], Tid(99).Hex());
  EXPECT_EQ(pub["links"][0]["span_id"], Sid(98).Hex());
  EXPECT_EQ(pub["links"][0]["attributes"]["chat.link.reason"], "backlog");
}

TEST_F(SinkIngestTest, ProtobufTracesAreStoredExactly) {
  auto body = EncodeTraces("web-frontend", SendTrace(Tid(1)));
  auto reply = sink_->HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, "");
  EXPECT_EQ(reply.content_type, "application/x-protobuf");
  auto got = sink_->GetTrace(Tid(1).Hex());
  ASSERT_EQ(got.status, 200);
  ExpectSendTrace(nlohmann::json::parse(got.body), Tid(1));
}

TEST_F(SinkIngestTest, JsonTracesAreStoredExactly) {
  auto body = EncodeTraces("web-frontend", SendTrace(Tid(2)), /*json=*/true);
  auto reply = sink_->HandleOtlp(OtlpSignal::kTraces, "application/json; charset=utf-8", "", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, "{}");
  auto got = sink_->GetTrace(Tid(2).Hex());
  ASSERT_EQ(got.status, 200);
  ExpectSendTrace(nlohmann::json::parse(got.body), Tid(2));
}

TEST_F(SinkIngestTest, GzipBodiesAreAccepted) {
  auto body = EncodeTraces("web-frontend", SendTrace(Tid(3)));
  auto gz = telemetry::sdk::Gzip(body);
  ASSERT_TRUE(gz.ok());
  auto reply = sink_->HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "gzip", *gz);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto got = sink_->GetTrace(Tid(3).Hex());
  ASSERT_EQ(got.status, 200);
  ExpectSendTrace(nlohmann::json::parse(got.body), Tid(3));
}

TEST_F(SinkIngestTest, UnknownTraceIs404AndBadIdIs400) {
  EXPECT_EQ(sink_->GetTrace(Tid(77).Hex()).status, 404);
  EXPECT_EQ(sink_->GetTrace("xyz").status, 400);
}

double Rejected(const Sink& sink, const std::string& signal, const std::string& reason) {
  auto samples = ParseExposition(sink.Metrics(false).body);
  auto v =
      FindSample(samples, "sink_rejected_requests_total", {{"signal", signal}, {"reason", reason}});
  return v.value_or(-1);
}

TEST_F(SinkIngestTest, RejectionsHaveTheirStatusAndAreCounted) {
  EXPECT_EQ(Rejected(*sink_, "traces", "malformed"), 0);  // zero-initialised

  auto bad = sink_->HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "",
                               std::string("\x0a\xff\xff\xff", 4));
  EXPECT_EQ(bad.status, 400);
  auto err = nlohmann::json::parse(bad.body, nullptr, false);
  ASSERT_FALSE(err.is_discarded());
  EXPECT_EQ(err["error"]["code"], "invalid_argument");
  EXPECT_EQ(sink_->HandleOtlp(OtlpSignal::kLogs, "application/json", "", "{not json").status, 400);

  std::string big(64 * 1024 + 1, 'x');
  EXPECT_EQ(sink_->HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "", big).status, 413);
  // Small on the wire, too big once inflated: the limit also holds after gunzip.
  auto bomb = telemetry::sdk::Gzip(std::string(size_t{1024} * 1024, '\0'));
  ASSERT_TRUE(bomb.ok());
  ASSERT_LT(bomb->size(), 64u * 1024);
  EXPECT_EQ(sink_->HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "gzip", *bomb).status,
            413);
  EXPECT_EQ(sink_->HandleOtlp(OtlpSignal::kTraces, "text/plain", "", "hello").status, 415);
  EXPECT_EQ(sink_->HandleOtlp(OtlpSignal::kTraces, "application/json", "br", "{}").status, 415);
  EXPECT_EQ(
      sink_->HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "gzip", "notgzip").status,
      400);

  EXPECT_EQ(Rejected(*sink_, "traces", "malformed"), 2);
  EXPECT_EQ(Rejected(*sink_, "logs", "malformed"), 1);
  EXPECT_EQ(Rejected(*sink_, "traces", "too_large"), 2);
  EXPECT_EQ(Rejected(*sink_, "traces", "unsupported_media_type"), 1);
  EXPECT_EQ(Rejected(*sink_, "traces", "unsupported_encoding"), 1);
  EXPECT_EQ(sink_->store().span_count(), 0u);
}

TEST_F(SinkIngestTest, LogsAreStoredAndQueried) {
  LogList logs;
  auto info = MakeLog(LogLevel::kInfo, "message persisted", Tid(5), Sid(3), 1000);
  info->attributes.push_back({"chat.message_id", "m-42"});
  logs.push_back(std::move(info));
  logs.push_back(MakeLog(LogLevel::kError, "insert failed", Tid(5), Sid(3), 2000));
  logs.push_back(MakeLog(LogLevel::kInfo, "started", TraceId{}, SpanId{}, 0));
  auto body = EncodeLogs("persist-worker", logs);
  ASSERT_EQ(sink_->HandleOtlp(OtlpSignal::kLogs, "application/x-protobuf", "", body).status, 200);
  LogList other;
  other.push_back(MakeLog(LogLevel::kWarn, "slow", Tid(6), Sid(4), 3000));
  auto json_body = EncodeLogs("fanout-service", other, /*json=*/true);
  ASSERT_EQ(sink_->HandleOtlp(OtlpSignal::kLogs, "application/json", "", json_body).status, 200);

  auto by_trace = nlohmann::json::parse(
      sink_->SearchLogs({{"trace_id", Tid(5).Hex()}, {"direction", "forward"}}).body);
  ASSERT_EQ(by_trace["logs"].size(), 2u);
  const auto& first = by_trace["logs"][0];
  EXPECT_EQ(first["msg"], "message persisted");
  EXPECT_EQ(first["level"], "INFO");
  EXPECT_EQ(first["severity_number"], 9);
  EXPECT_EQ(first["service"], "persist-worker");
  EXPECT_EQ(first["trace_id"], Tid(5).Hex());
  EXPECT_EQ(first["span_id"], Sid(3).Hex());
  EXPECT_EQ(first["time_unix_nano"].get<int64_t>(), kT0 + 1000);
  EXPECT_EQ(first["timestamp"], "2023-11-14T22:13:20.000001000Z");
  EXPECT_EQ(first["attributes"]["chat.message_id"], "m-42");
  EXPECT_EQ(by_trace["logs"][1]["level"], "ERROR");

  auto errors = nlohmann::json::parse(sink_->SearchLogs({{"level", "error"}}).body);
  ASSERT_EQ(errors["logs"].size(), 1u);
  EXPECT_EQ(errors["logs"][0]["msg"], "insert failed");

  auto fanout = nlohmann::json::parse(sink_->SearchLogs({{"service", "fanout-service"}}).body);
  ASSERT_EQ(fanout["logs"].size(), 1u);
  EXPECT_EQ(fanout["logs"][0]["level"], "WARN");

  auto all = nlohmann::json::parse(sink_->SearchLogs({{"limit", "2"}}).body);
  ASSERT_EQ(all["logs"].size(), 2u);  // newest first
  EXPECT_EQ(all["logs"][0]["msg"], "slow");
  auto no_ctx = nlohmann::json::parse(sink_->SearchLogs({{"service", "persist-worker"}}).body);
  ASSERT_EQ(no_ctx["logs"].size(), 3u);
  EXPECT_FALSE(no_ctx["logs"][2].contains("trace_id"));  // "started" had no span

  EXPECT_EQ(sink_->SearchLogs({{"trace_id", "zz"}}).status, 400);
  auto services = nlohmann::json::parse(sink_->Services().body);
  EXPECT_EQ(services["services"], nlohmann::json({"fanout-service", "persist-worker"}));
}

TEST_F(SinkIngestTest, MetricsPointsAreCountedNotStored) {
  // A hand-built ExportMetricsServiceRequest in JSON: one gauge with two points.
  std::string body = R"({"resourceMetrics":[{"resource":{"attributes":[]},"scopeMetrics":[{
    "metrics":[{"name":"g","gauge":{"dataPoints":[{"asDouble":1},{"asDouble":2}]}}]}]}]})";
  auto reply = sink_->HandleOtlp(OtlpSignal::kMetrics, "application/json", "", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto samples = ParseExposition(sink_->Metrics(false).body);
  EXPECT_EQ(FindSample(samples, "sink_received_metric_points_total", {{"format", "json"}}), 2);
}

}  // namespace
}  // namespace chat::sink

// The bounded store: eviction by count and age (FakeClock), trace search filters, since= parsing.
#include "store.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "chat/core/clock.hpp"
#include "sink.hpp"
#include "test_util.hpp"

namespace chat::sink {
namespace {

using namespace chat::sink::test;  // NOLINT(google-build-using-namespace)

std::vector<DecodedSpan> Decode(const std::string& service, const SpanList& spans) {
  auto decoded = telemetry::sdk::DecodeTracesProtobuf(EncodeTraces(service, spans));
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? std::move(decoded).value() : std::vector<DecodedSpan>{};
}

SpanList OneSpan(TraceId t, SpanId s, int64_t offset = 0) {
  SpanList spans;
  spans.push_back(MakeSpan(t, s, SpanId{}, "op", SpanKind::kServer, offset, 1000));
  return spans;
}

TEST(SinkStoreTest, EvictsOldestByCountAndCountsIt) {
  core::FakeClock clock;
  uint64_t evicted = 0;
  TelemetryStore store(StoreLimits{3, 10, std::chrono::seconds(3600)}, clock,
                       [&](Signal s, EvictReason r, uint64_t n) {
                         if (s == Signal::kSpans && r == EvictReason::kCount) evicted += n;
                       });
  for (uint8_t i = 1; i <= 5; ++i) store.AddSpans(Decode("svc", OneSpan(Tid(i), Sid(i))));
  EXPECT_EQ(store.span_count(), 3u);
  EXPECT_EQ(store.trace_count(), 3u);
  EXPECT_EQ(evicted, 2u);
  EXPECT_FALSE(store.TraceJson(Tid(1)).has_value());
  EXPECT_FALSE(store.TraceJson(Tid(2)).has_value());
  EXPECT_TRUE(store.TraceJson(Tid(3)).has_value());
  EXPECT_TRUE(store.TraceJson(Tid(5)).has_value());
}

TEST(SinkStoreTest, EvictsByAgeThroughTheSinkAndCountsIt) {
  core::FakeClock clock;
  SinkConfig config;
  config.max_age = std::chrono::seconds(60);
  Sink sink(config, clock);
  auto body = EncodeTraces("svc", OneSpan(Tid(1), Sid(1)));
  ASSERT_EQ(sink.HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "", body).status, 200);
  LogList logs;
  logs.push_back(MakeLog(telemetry::LogLevel::kInfo, "x", Tid(1), Sid(1), 0));
  ASSERT_EQ(
      sink.HandleOtlp(OtlpSignal::kLogs, "application/x-protobuf", "", EncodeLogs("svc", logs))
          .status,
      200);
  clock.Advance(std::chrono::seconds(30));
  ASSERT_EQ(sink.HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "",
                            EncodeTraces("svc", OneSpan(Tid(2), Sid(2))))
                .status,
            200);
  sink.Housekeeping();
  EXPECT_EQ(sink.store().span_count(), 2u);
  clock.Advance(std::chrono::seconds(31));  // first span is 61 s old, second 31 s
  sink.Housekeeping();
  EXPECT_EQ(sink.store().span_count(), 1u);
  EXPECT_EQ(sink.store().log_count(), 0u);
  EXPECT_EQ(sink.GetTrace(Tid(1).Hex()).status, 404);
  EXPECT_EQ(sink.GetTrace(Tid(2).Hex()).status, 200);
  auto samples = ParseExposition(sink.Metrics(false).body);
  EXPECT_EQ(FindSample(samples, "sink_evicted_spans_total", {{"reason", "age"}}), 1);
  EXPECT_EQ(FindSample(samples, "sink_evicted_spans_total", {{"reason", "count"}}), 0);
  EXPECT_EQ(FindSample(samples, "sink_evicted_log_records_total", {{"reason", "age"}}), 1);
  EXPECT_EQ(FindSample(samples, "sink_stored_spans", {}), 1);
}

class SinkSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Trace 1 (older): web root → fanout consumer (error, chat.action=send).
    SpanList web;
    auto root = MakeSpan(Tid(1), Sid(1), SpanId{}, "send_message", SpanKind::kInternal, 0, 5000);
    web.push_back(std::move(root));
    store_.AddSpans(Decode("web-frontend", web));
    SpanList fanout;
    auto c = MakeSpan(Tid(1), Sid(2), Sid(1), "process deliver.{user}.send.{room}",
                      SpanKind::kConsumer, 100, 2000, StatusCode::kError);
    c->attributes.push_back({"chat.action", "send"});
    c->attributes.push_back({"chat.message_id", "m-1"});
    fanout.push_back(std::move(c));
    store_.AddSpans(Decode("fanout-service", fanout));
    // Trace 2 (newer): history request, ok.
    SpanList hist;
    auto h = MakeSpan(Tid(2), Sid(3), SpanId{}, "process chat.history.{room}", SpanKind::kServer,
                      1'000'000'000, 3000, StatusCode::kOk);
    h->attributes.push_back({"chat.action", "history"});
    hist.push_back(std::move(h));
    store_.AddSpans(Decode("history-service", hist));
  }

  std::vector<std::string> Ids(const QueryParams& params) {
    auto q = ParseTraceQuery(params, kT0 + 2'000'000'000);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    std::vector<std::string> ids;
    const nlohmann::json found = store_.SearchTraces(*q);  // keep the temporary alive
    for (const auto& t : found["traces"]) ids.push_back(t["trace_id"]);
    return ids;
  }

  core::FakeClock clock_;
  TelemetryStore store_{StoreLimits{}, clock_};
};

TEST_F(SinkSearchTest, SummariesNewestFirst) {
  auto q = ParseTraceQuery({}, kT0);
  ASSERT_TRUE(q.ok());
  auto found = store_.SearchTraces(*q)["traces"];
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0]["trace_id"], Tid(2).Hex());
  const auto& t1 = found[1];
  EXPECT_EQ(t1["trace_id"], Tid(1).Hex());
  EXPECT_EQ(t1["root_service"], "web-frontend");
  EXPECT_EQ(t1["root_name"], "send_message");
  EXPECT_EQ(t1["start_unix_nano"].get<int64_t>(), kT0);
  EXPECT_EQ(t1["duration_ns"].get<int64_t>(), 5000);
  EXPECT_EQ(t1["span_count"], 2);
  EXPECT_EQ(t1["error_count"], 1);
  EXPECT_EQ(t1["services"], nlohmann::json({"fanout-service", "web-frontend"}));
}

TEST_F(SinkSearchTest, FiltersMustAllHoldOnOneSpan) {
  EXPECT_EQ(Ids({{"service", "fanout-service"}}), std::vector<std::string>{Tid(1).Hex()});
  EXPECT_EQ(Ids({{"name", "process chat.history.{room}"}}), std::vector<std::string>{Tid(2).Hex()});
  EXPECT_EQ(Ids({{"status", "error"}}), std::vector<std::string>{Tid(1).Hex()});
  EXPECT_EQ(Ids({{"status", "ok"}}), std::vector<std::string>{Tid(2).Hex()});
  EXPECT_EQ(Ids({{"attr.chat.message_id", "m-1"}}), std::vector<std::string>{Tid(1).Hex()});
  EXPECT_EQ(Ids({{"attr.chat.action", "send"}, {"attr.chat.message_id", "m-1"}}),
            std::vector<std::string>{Tid(1).Hex()});
  EXPECT_TRUE(Ids({{"attr.chat.action", "history"}, {"attr.chat.message_id", "m-1"}}).empty());
  EXPECT_TRUE(Ids({{"service", "web-frontend"}, {"status", "error"}}).empty());
  EXPECT_EQ(Ids({{"attr.service.name", "history-service"}}),  // resource attributes match too
            std::vector<std::string>{Tid(2).Hex()});
  EXPECT_EQ(Ids({{"since", std::to_string(kT0 + 500'000'000)}}),
            std::vector<std::string>{Tid(2).Hex()});
  EXPECT_EQ(Ids({{"since", "1500ms"}}), std::vector<std::string>{Tid(2).Hex()});
  EXPECT_EQ(Ids({{"limit", "1"}}), std::vector<std::string>{Tid(2).Hex()});
  EXPECT_FALSE(ParseTraceQuery({{"status", "bad"}}, kT0).ok());
  EXPECT_FALSE(ParseTraceQuery({{"limit", "0"}}, kT0).ok());
}

TEST(SinkParseSinceTest, AcceptsNanosRfc3339AndDurations) {
  const int64_t now = kT0;
  EXPECT_EQ(*ParseSince("123", now), 123);
  EXPECT_EQ(*ParseSince("2023-11-14T22:13:20Z", now), kT0);
  EXPECT_EQ(*ParseSince("2023-11-14T22:13:20.5Z", now), kT0 + 500'000'000);
  EXPECT_EQ(*ParseSince("2023-11-14T23:13:20+01:00", now), kT0);
  EXPECT_EQ(*ParseSince("5m", now), now - 300'000'000'000);
  EXPECT_EQ(*ParseSince("1h30m", now), now - 5'400'000'000'000);
  EXPECT_FALSE(ParseSince("yesterday", now).ok());
  EXPECT_FALSE(ParseSince("5x", now).ok());
  EXPECT_EQ(FormatRfc3339Nanos(kT0 + 5), "2023-11-14T22:13:20.000000005Z");
}

TEST(SinkConfigTest, DefaultsAndValidation) {
  auto ok = SinkConfig::FromEnv(core::MapEnv{});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->host, "127.0.0.1");
  EXPECT_EQ(ok->port, 4318);
  EXPECT_EQ(ok->max_spans, 200000u);
  EXPECT_EQ(ok->max_body_bytes, 8u * 1024 * 1024);
  EXPECT_EQ(ok->cors_origins, std::vector<std::string>{"http://127.0.0.1:3000"});
  EXPECT_EQ(ok->max_bytes, 256u * 1024 * 1024);
  EXPECT_EQ(ok->service_graph_wait, std::chrono::seconds(10));

  auto bad = SinkConfig::FromEnv(core::MapEnv{{"SINK_PORT", "70000"},
                                              {"SINK_MAX_SPANS", "many"},
                                              {"SINK_FORWARD_OTLP_ENDPOINT", "collector"}});
  ASSERT_FALSE(bad.ok());
  const std::string& msg = bad.status().message();
  EXPECT_NE(msg.find("SINK_PORT"), std::string::npos) << msg;
  EXPECT_NE(msg.find("SINK_MAX_SPANS"), std::string::npos) << msg;
  EXPECT_NE(msg.find("SINK_FORWARD_OTLP_ENDPOINT"), std::string::npos) << msg;

  auto fwd = SinkConfig::FromEnv(
      core::MapEnv{{"SINK_FORWARD_OTLP_ENDPOINT", "http://collector:4318/"}, {"SINK_PORT", "0"}});
  ASSERT_TRUE(fwd.ok());
  EXPECT_EQ(fwd->forward_endpoint, "http://collector:4318");
  EXPECT_EQ(fwd->port, 0);
}

}  // namespace
}  // namespace chat::sink

// Trace-derived metrics: span metrics and service-graph edges under Tempo's names and labels,
// checked on small known span sets; the exposition must pass `promtool check metrics`.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "chat/core/clock.hpp"
#include "chat/testing/process.hpp"
#include "sink.hpp"
#include "test_util.hpp"

namespace chat::sink {
namespace {

using namespace chat::sink::test;  // NOLINT(google-build-using-namespace)

class SinkDerivedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SinkConfig c;
    c.service_graph_wait = std::chrono::seconds(10);
    sink_ = std::make_unique<Sink>(c, clock_);
  }
  void Post(const std::string& service, const SpanList& spans) {
    auto reply = sink_->HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "",
                                   EncodeTraces(service, spans));
    ASSERT_EQ(reply.status, 200) << reply.body;
  }
  std::vector<Sample> Samples(bool om = false) { return ParseExposition(sink_->Metrics(om).body); }
  std::optional<double> Edge(const std::string& metric, const std::string& client,
                             const std::string& server, const std::string& type) {
    return FindSample(
        Samples(), metric,
        {{"client", client}, {"server", server}, {"connection_type", type}, {"source", "tempo"}});
  }

  core::FakeClock clock_;
  std::unique_ptr<Sink> sink_;
};

TEST_F(SinkDerivedTest, SpanMetricsCountCallsStatusActionAndLatency) {
  SpanList spans;
  auto a = MakeSpan(Tid(1), Sid(1), SpanId{}, "process chat.{room}", SpanKind::kConsumer, 0,
                    3'000'000);  // 3 ms
  a->attributes.push_back({"chat.action", "send"});
  auto b = MakeSpan(Tid(2), Sid(2), SpanId{}, "process chat.{room}", SpanKind::kConsumer, 0,
                    30'000'000);  // 30 ms
  b->attributes.push_back({"chat.action", "send"});
  auto c = MakeSpan(Tid(3), Sid(3), SpanId{}, "process chat.{room}", SpanKind::kConsumer, 0,
                    700'000'000, StatusCode::kError);  // 0.7 s
  c->attributes.push_back({"chat.action", "send"});
  auto d = MakeSpan(Tid(4), Sid(4), SpanId{}, "INSERT messages", SpanKind::kInternal, 0, 1000);
  spans.push_back(std::move(a));
  spans.push_back(std::move(b));
  spans.push_back(std::move(c));
  spans.push_back(std::move(d));
  Post("persist-worker", spans);

  auto s = Samples();
  const std::map<std::string, std::string> ok = {{"service", "persist-worker"},
                                                 {"span_name", "process chat.{room}"},
                                                 {"span_kind", "SPAN_KIND_CONSUMER"},
                                                 {"status_code", "STATUS_CODE_UNSET"},
                                                 {"chat_action", "send"},
                                                 {"source", "tempo"}};
  auto err = ok;
  err["status_code"] = "STATUS_CODE_ERROR";
  EXPECT_EQ(FindSample(s, "traces_spanmetrics_calls_total", ok), 2);
  EXPECT_EQ(FindSample(s, "traces_spanmetrics_calls_total", err), 1);
  EXPECT_EQ(FindSample(s, "traces_spanmetrics_calls_total",
                       {{"span_name", "INSERT messages"},
                        {"span_kind", "SPAN_KIND_INTERNAL"},
                        {"chat_action", ""}}),
            1);
  auto le = [&](const std::string& bound) {
    auto labels = ok;
    labels["le"] = bound;
    return FindSample(s, "traces_spanmetrics_latency_bucket", labels);
  };
  EXPECT_EQ(le("0.001"), 0);
  EXPECT_EQ(le("0.005"), 1);  // 3 ms
  EXPECT_EQ(le("0.025"), 1);
  EXPECT_EQ(le("0.05"), 2);  // 30 ms
  EXPECT_EQ(le("5"), 2);
  EXPECT_EQ(le("+Inf"), 2);
  EXPECT_EQ(FindSample(s, "traces_spanmetrics_latency_count", ok), 2);
  EXPECT_NEAR(*FindSample(s, "traces_spanmetrics_latency_sum", ok), 0.033, 1e-9);
  auto err_le = err;
  err_le["le"] = "0.5";
  EXPECT_EQ(FindSample(s, "traces_spanmetrics_latency_bucket", err_le), 0);
  err_le["le"] = "1";
  EXPECT_EQ(FindSample(s, "traces_spanmetrics_latency_bucket", err_le), 1);
  auto size = FindSample(s, "traces_spanmetrics_size_total", ok);
  ASSERT_TRUE(size.has_value());
  EXPECT_GT(*size, 2 * 50.0);  // two spans of at least ids + name + times + one attribute

  // OpenMetrics carries Tempo's exemplar label.
  bool exemplar = false;
  for (const auto& sample : Samples(/*om=*/true)) {
    if (sample.name == "traces_spanmetrics_latency_bucket" &&
        sample.exemplar.find("traceID=\"" + Tid(3).Hex() + "\"") != std::string::npos) {
      exemplar = true;
    }
  }
  EXPECT_TRUE(exemplar);
}

SpanList ClientSpan(TraceId t, SpanId id, const std::string& name, SpanKind kind, int64_t start,
                    int64_t dur, StatusCode st = StatusCode::kUnset) {
  SpanList l;
  l.push_back(MakeSpan(t, id, SpanId{}, name, kind, start, dur, st));
  return l;
}

SpanList ChildSpan(TraceId t, SpanId id, SpanId parent, const std::string& name, SpanKind kind,
                   int64_t start, int64_t dur, StatusCode st = StatusCode::kUnset) {
  SpanList l;
  l.push_back(MakeSpan(t, id, parent, name, kind, start, dur, st));
  return l;
}

TEST_F(SinkDerivedTest, ClientServerEdgeInEitherOrder) {
  // client first
  Post("web-frontend",
       ClientSpan(Tid(1), Sid(1), "request msg.get", SpanKind::kClient, 0, 4'000'000));
  Post("fanout-service", ChildSpan(Tid(1), Sid(2), Sid(1), "process msg.get", SpanKind::kServer,
                                   1'000'000, 2'000'000, StatusCode::kError));
  // server first
  Post("fanout-service", ChildSpan(Tid(2), Sid(4), Sid(3), "process msg.get", SpanKind::kServer,
                                   1'000'000, 2'000'000));
  Post("web-frontend",
       ClientSpan(Tid(2), Sid(3), "request msg.get", SpanKind::kClient, 0, 4'000'000));
  EXPECT_EQ(Edge("traces_service_graph_request_total", "web-frontend", "fanout-service", ""), 2);
  EXPECT_EQ(Edge("traces_service_graph_request_failed_total", "web-frontend", "fanout-service", ""),
            1);
  EXPECT_EQ(Edge("traces_service_graph_request_server_seconds_count", "web-frontend",
                 "fanout-service", ""),
            2);
  EXPECT_NEAR(*Edge("traces_service_graph_request_server_seconds_sum", "web-frontend",
                    "fanout-service", ""),
              0.004, 1e-9);
  EXPECT_NEAR(*Edge("traces_service_graph_request_client_seconds_sum", "web-frontend",
                    "fanout-service", ""),
              0.008, 1e-9);
  EXPECT_EQ(sink_->derived().waiting(), 0u);  // request edges pair once and leave the store
}

TEST_F(SinkDerivedTest, ProducerConsumerEdgesWithMessagingLatency) {
  // fanout publishes chat.{room}; fanout's notify path and persist-worker both consume it.
  Post("persist-worker", ChildSpan(Tid(1), Sid(3), Sid(1), "process chat.{room}",
                                   SpanKind::kConsumer, 12'000'000, 5'000'000));
  Post("fanout-service", ClientSpan(Tid(1), Sid(1), "publish chat.{room}", SpanKind::kProducer, 0,
                                    2'000'000));  // ends at 2 ms
  Post("fanout-service", ChildSpan(Tid(1), Sid(2), Sid(1), "process chat.{room}",
                                   SpanKind::kConsumer, 3'000'000, 1'000'000));
  EXPECT_EQ(Edge("traces_service_graph_request_total", "fanout-service", "persist-worker",
                 "messaging_system"),
            1);
  EXPECT_EQ(Edge("traces_service_graph_request_total", "fanout-service", "fanout-service",
                 "messaging_system"),
            1);
  // producer end (2 ms) → consumer start (12 ms) = 10 ms
  EXPECT_NEAR(*Edge("traces_service_graph_request_messaging_system_seconds_sum", "fanout-service",
                    "persist-worker", "messaging_system"),
              0.010, 1e-9);
  auto s = Samples();
  EXPECT_EQ(
      FindSample(s, "traces_service_graph_request_messaging_system_seconds_bucket",
                 {{"client", "fanout-service"}, {"server", "persist-worker"}, {"le", "0.01"}}),
      1);
  EXPECT_EQ(
      FindSample(s, "traces_service_graph_request_messaging_system_seconds_bucket",
                 {{"client", "fanout-service"}, {"server", "persist-worker"}, {"le", "0.005"}}),
      0);
  // The producer waits out its window for more consumers, then leaves without an unpaired count.
  clock_.Advance(std::chrono::seconds(11));
  sink_->Housekeeping();
  EXPECT_EQ(sink_->derived().waiting(), 0u);
  EXPECT_EQ(FindSample(Samples(), "traces_service_graph_unpaired_spans_total",
                       {{"client", "fanout-service"}, {"server", ""}}),
            std::nullopt);
}

TEST_F(SinkDerivedTest, DatabaseEdgeToAVirtualNodeNamedByServerAddress) {
  SpanList spans;
  auto ins = MakeSpan(Tid(1), Sid(2), Sid(1), "INSERT messages", SpanKind::kClient, 0, 2'000'000);
  ins->attributes.push_back({"db.system", "postgresql"});
  ins->attributes.push_back({"db.system.name", "postgresql"});
  ins->attributes.push_back({"server.address", "db.local"});
  spans.push_back(std::move(ins));
  auto kv = MakeSpan(Tid(1), Sid(3), Sid(1), "get RATE_LIMIT", SpanKind::kClient, 0, 1'000'000,
                     StatusCode::kError);
  kv->attributes.push_back({"db.system", "nats_kv"});
  spans.push_back(std::move(kv));
  Post("persist-worker", spans);
  EXPECT_EQ(Edge("traces_service_graph_request_total", "persist-worker", "db.local", "database"),
            1);
  EXPECT_EQ(Edge("traces_service_graph_request_total", "persist-worker", "nats_kv", "database"), 1);
  EXPECT_EQ(
      Edge("traces_service_graph_request_failed_total", "persist-worker", "nats_kv", "database"),
      1);
  EXPECT_EQ(
      Edge("traces_service_graph_request_failed_total", "persist-worker", "db.local", "database"),
      0);
  EXPECT_NEAR(*Edge("traces_service_graph_request_client_seconds_sum", "persist-worker", "db.local",
                    "database"),
              0.002, 1e-9);
  EXPECT_EQ(sink_->derived().waiting(), 0u);
}

TEST_F(SinkDerivedTest, UnpairedSpansBecomeVirtualNodesOrAreCounted) {
  SpanList idp;
  auto call =
      MakeSpan(Tid(1), Sid(1), SpanId{}, "POST {token endpoint}", SpanKind::kClient, 0, 1'000'000);
  call->attributes.push_back({"peer.service", "idp"});
  idp.push_back(std::move(call));
  Post("web-frontend", idp);
  Post("web-frontend", ClientSpan(Tid(2), Sid(2), "request room.info.{room}", SpanKind::kClient, 0,
                                  1'000'000));  // nobody answers
  Post("room-service", ChildSpan(Tid(3), Sid(4), Sid(3), "process room.info.{room}",
                                 SpanKind::kServer, 0, 1'000'000));  // caller never reports
  Post("auth-service", ClientSpan(Tid(4), Sid(5), "POST /credentials", SpanKind::kServer, 0,
                                  1'000'000));  // a root server span: called by "user"
  EXPECT_EQ(sink_->derived().waiting(), 4u);
  clock_.Advance(std::chrono::seconds(9));
  sink_->Housekeeping();
  EXPECT_EQ(sink_->derived().waiting(), 4u);  // still within the wait
  clock_.Advance(std::chrono::seconds(2));
  sink_->Housekeeping();
  EXPECT_EQ(sink_->derived().waiting(), 0u);
  EXPECT_EQ(Edge("traces_service_graph_request_total", "web-frontend", "idp", "virtual_node"), 1);
  EXPECT_EQ(Edge("traces_service_graph_request_total", "user", "auth-service", "virtual_node"), 1);
  auto s = Samples();
  EXPECT_EQ(FindSample(s, "traces_service_graph_unpaired_spans_total",
                       {{"client", "web-frontend"}, {"server", ""}, {"source", "tempo"}}),
            1);
  EXPECT_EQ(FindSample(s, "traces_service_graph_unpaired_spans_total",
                       {{"client", ""}, {"server", "room-service"}}),
            1);
}

TEST(SinkDerivedLimitsTest, FullPairingStoreDropsAndCounts) {
  core::FakeClock clock;
  SinkConfig c;
  c.service_graph_max_items = 1;
  Sink sink(c, clock);
  for (uint8_t i = 1; i <= 3; ++i) {
    ASSERT_EQ(sink.HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "",
                              EncodeTraces("web-frontend", ClientSpan(Tid(i), Sid(i), "request x",
                                                                      SpanKind::kClient, 0, 1000)))
                  .status,
              200);
  }
  auto s = ParseExposition(sink.Metrics(false).body);
  EXPECT_EQ(FindSample(s, "traces_service_graph_dropped_spans_total",
                       {{"client", "web-frontend"}, {"server", ""}}),
            2);
}

TEST_F(SinkDerivedTest, ExpositionPassesPromtool) {
  Post("web-frontend",
       ClientSpan(Tid(1), Sid(1), "request msg.get", SpanKind::kClient, 0, 4'000'000));
  Post("fanout-service", ChildSpan(Tid(1), Sid(2), Sid(1), "process msg.get", SpanKind::kServer,
                                   1'000'000, 2'000'000));
  std::string text = sink_->Metrics(false).body;
  auto [rc, out] = chat::testing::RunCommand(std::string(CHAT_PROMTOOL) + " check metrics", text);
  EXPECT_EQ(rc, 0) << out << "\n--- exposition ---\n" << text.substr(0, 4000);
}

}  // namespace
}  // namespace chat::sink

// The HTTP front in-process on a random port: routes, CORS, gzip through cpp-httplib, the
// Content-Length check before reading, the forwarder to a second sink.
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/testing/wait_for.hpp"
#include "http_server.hpp"
#include "test_util.hpp"

namespace chat::sink {
namespace {

using namespace chat::sink::test;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;

struct Running {
  explicit Running(SinkConfig c) : sink(std::move(c), core::SystemClock::Instance()), server(sink) {
    auto p = server.Start();
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    port = p.ok() ? *p : 0;
  }
  Sink sink;
  SinkServer server;
  uint16_t port = 0;
};

SinkConfig TestConfig() {
  SinkConfig c;
  c.port = 0;
  c.max_body_bytes = size_t{16} * 1024;
  c.cors_origins = {"http://localhost:5173"};
  return c;
}

TEST(SinkHttpTest, CorsPreflightAndHeaders) {
  Running r(TestConfig());
  httplib::Client cli("127.0.0.1", r.port);
  auto pre =
      cli.Options("/v1/traces", {{"Origin", "http://localhost:5173"},
                                 {"Access-Control-Request-Method", "POST"},
                                 {"Access-Control-Request-Headers", "content-type,traceparent"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "http://localhost:5173");
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("traceparent"),
            std::string::npos);
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("Content-Type"),
            std::string::npos);
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);

  SpanList spans;
  spans.push_back(MakeSpan(Tid(1), Sid(1), SpanId{}, "send_message", SpanKind::kInternal, 0, 10));
  auto post = cli.Post("/v1/traces", {{"Origin", "http://localhost:5173"}},
                       EncodeTraces("web-frontend", spans, true), "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->body, "{}");
  EXPECT_EQ(post->get_header_value("Access-Control-Allow-Origin"), "http://localhost:5173");

  auto trace = cli.Get("/api/traces/" + Tid(1).Hex());
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->status, 200);
  EXPECT_EQ(nlohmann::json::parse(trace->body)["spans"][0]["name"], "send_message");
  auto list = cli.Get("/api/traces?service=web-frontend&limit=5");
  ASSERT_TRUE(list);
  EXPECT_EQ(nlohmann::json::parse(list->body)["traces"].size(), 1u);
  auto missing = cli.Get("/api/traces/" + Tid(2).Hex());
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto page = cli.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("waterfall"), std::string::npos);
  for (const char* path : {"/healthz", "/readyz", "/api/services"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
  }
}

TEST(SinkHttpTest, GzipIsInflatedByTheSinkWithItsLimit) {
  Running r(TestConfig());
  httplib::Client cli("127.0.0.1", r.port);
  SpanList spans;
  spans.push_back(MakeSpan(Tid(3), Sid(1), SpanId{}, "op", SpanKind::kServer, 0, 10));
  auto gz = telemetry::sdk::Gzip(EncodeTraces("svc", spans));
  ASSERT_TRUE(gz.ok());
  auto ok = cli.Post("/v1/traces", {{"Content-Encoding", "gzip"}}, *gz, "application/x-protobuf");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(r.sink.GetTrace(Tid(3).Hex()).status, 200);

  auto bomb = telemetry::sdk::Gzip(std::string(size_t{2} * 1024 * 1024, 'a'));
  ASSERT_TRUE(bomb.ok());
  ASSERT_LT(bomb->size(), 16u * 1024);
  auto big =
      cli.Post("/v1/traces", {{"Content-Encoding", "gzip"}}, *bomb, "application/x-protobuf");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413) << big->body;

  auto err = nlohmann::json::parse(big->body, nullptr, false);
  ASSERT_FALSE(err.is_discarded()) << big->body;  // the sink's answer, not cpp-httplib's
  EXPECT_EQ(err["error"]["code"], "resource_exhausted");

  auto wrong = cli.Post("/v1/logs", "hello", "text/plain");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 415);
}

TEST(SinkHttpTest, DeclaredLengthAboveLimitIsRejectedBeforeReading) {
  Running r(TestConfig());
  httplib::Client cli("127.0.0.1", r.port);
  auto res = cli.Post("/v1/traces", std::string(size_t{20} * 1024, 'x'), "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  auto err = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_FALSE(err.is_discarded()) << res->body;
  EXPECT_EQ(err["error"]["code"], "resource_exhausted");
  auto samples = ParseExposition(r.sink.Metrics(false).body);
  EXPECT_EQ(FindSample(samples, "sink_rejected_requests_total",
                       {{"signal", "traces"}, {"reason", "too_large"}}),
            1);
}

TEST(SinkHttpTest, ChunkedBodyOverTheLimitGetsTheRouterErrorBodyAndIsCounted) {
  Running r(TestConfig());
  httplib::Client cli("127.0.0.1", r.port);
  // No Content-Length: the router's guard stops reading at SINK_MAX_BODY_BYTES.
  const std::string chunk(4096, 'x');
  auto res = cli.Post(
      "/v1/logs",
      [&](size_t offset, httplib::DataSink& out) {
        if (offset < size_t{64} * 1024) {
          out.write(chunk.data(), chunk.size());
        } else {
          out.done();
        }
        return true;
      },
      "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  auto err = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_FALSE(err.is_discarded()) << res->body;
  EXPECT_EQ(err["error"]["code"], "resource_exhausted");
  auto samples = ParseExposition(r.sink.Metrics(false).body);
  EXPECT_EQ(FindSample(samples, "sink_rejected_requests_total",
                       {{"signal", "logs"}, {"reason", "too_large"}}),
            1);
  EXPECT_EQ(FindSample(samples, "http_server_rejected_requests_total",
                       {{"server", "telemetry-sink"}, {"reason", "too_large"}}),
            1);
}

TEST(SinkHttpTest, IngestIsUntracedAndARejectedPayloadKeepsTheErrorBody) {
  Running r(TestConfig());
  httplib::Client cli("127.0.0.1", r.port);
  // A traceparent on ingest is not read: the sink makes no spans of its own requests, so the
  // route layer registers no trace_context_invalid_total either.
  httplib::Headers bad_context = {{"traceparent", "00-not-a-context-01"}};
  auto res = cli.Post("/v1/traces", bad_context, "not protobuf", "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  auto err = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_FALSE(err.is_discarded()) << res->body;
  EXPECT_EQ(err["error"]["code"], "invalid_argument");
  const std::string text = r.sink.Metrics(false).body;
  EXPECT_EQ(text.find("trace_context_invalid_total"), std::string::npos);
  auto samples = ParseExposition(text);
  EXPECT_EQ(FindSample(samples, "sink_rejected_requests_total",
                       {{"signal", "traces"}, {"reason", "malformed"}}),
            1);
  EXPECT_EQ(r.sink.store().span_count(), 0u);
}

TEST(SinkHttpTest, MetricsContentNegotiation) {
  Running r(TestConfig());
  httplib::Client cli("127.0.0.1", r.port);
  auto prom = cli.Get("/metrics");
  ASSERT_TRUE(prom);
  EXPECT_NE(prom->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_EQ(prom->body.find("# EOF"), std::string::npos);
  auto om = cli.Get("/metrics", {{"Accept", "application/openmetrics-text; version=1.0.0"}});
  ASSERT_TRUE(om);
  EXPECT_NE(om->get_header_value("Content-Type").find("application/openmetrics-text"),
            std::string::npos);
  // exactly one # EOF, at the end
  EXPECT_EQ(om->body.find("# EOF"), om->body.size() - 6);
}

TEST(SinkHttpTest, ForwardsAcceptedRequestsUpstream) {
  Running upstream(TestConfig());
  SinkConfig c = TestConfig();
  c.forward_endpoint = "http://127.0.0.1:" + std::to_string(upstream.port);
  Running downstream(c);
  httplib::Client cli("127.0.0.1", downstream.port);
  SpanList spans;
  spans.push_back(MakeSpan(Tid(9), Sid(1), SpanId{}, "op", SpanKind::kServer, 0, 10));
  auto gz = telemetry::sdk::Gzip(EncodeTraces("svc", spans));
  ASSERT_TRUE(gz.ok());
  auto res = cli.Post("/v1/traces", {{"Content-Encoding", "gzip"}}, *gz, "application/x-protobuf");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_TRUE(chat::testing::WaitFor(
      [&] { return upstream.sink.GetTrace(Tid(9).Hex()).status == 200; }, 10s));
  downstream.server.Stop();
  downstream.sink.Shutdown(5s);
  auto samples = ParseExposition(downstream.sink.Metrics(false).body);
  EXPECT_EQ(FindSample(samples, "sink_forward_requests_total", {{"result", "ok"}}), 1);
}

TEST(SinkHttpTest, ForwardFailuresAreCounted) {
  SinkConfig c = TestConfig();
  c.forward_endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  Sink sink(c, core::SystemClock::Instance());
  SpanList spans;
  spans.push_back(MakeSpan(Tid(9), Sid(1), SpanId{}, "op", SpanKind::kServer, 0, 10));
  ASSERT_EQ(
      sink.HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "", EncodeTraces("svc", spans))
          .status,
      200);  // ingest never waits for the upstream
  EXPECT_TRUE(chat::testing::WaitFor(
      [&] {
        auto samples = ParseExposition(sink.Metrics(false).body);
        return FindSample(samples, "sink_forward_requests_total",
                          {{"result", "connection_error"}}) == 1;
      },
      10s));
  sink.Shutdown(1s);
}

TEST(SinkHttpTest, ConcurrentIngestAndQueries) {
  Running r(TestConfig());
  std::vector<std::thread> threads;
  for (uint8_t w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      httplib::Client cli("127.0.0.1", r.port);
      for (uint8_t i = 0; i < 25; ++i) {
        SpanList spans;
        auto id = static_cast<uint8_t>(w * 25 + i + 1);
        spans.push_back(MakeSpan(Tid(id), Sid(1), SpanId{}, "op", SpanKind::kClient, 0, 10));
        auto res = cli.Post("/v1/traces", EncodeTraces("svc", spans), "application/x-protobuf");
        EXPECT_TRUE(res && res->status == 200);
        auto q = cli.Get("/api/traces?service=svc&limit=10");
        EXPECT_TRUE(q && q->status == 200);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.sink.store().span_count(), 100u);
  EXPECT_EQ(r.sink.derived().waiting(), 100u);  // 100 client halves waiting for a server
}

}  // namespace
}  // namespace chat::sink

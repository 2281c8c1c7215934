// Issue 11 §8 and §4 for the sink: CORS answers only the configured origins (no page of another
// origin can read traces or post spans), the store is bounded in bytes (ten 4 MiB spans stay
// within SINK_MAX_BYTES), OpenTelemetry span limits drop and truncate what exceeds them and count
// it; and the real binary answers body bombs with 413/415 without its peak RSS growing by more
// than 5 MiB.
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/testing/http_bomb.hpp"
#include "chat/testing/sink_process.hpp"
#include "http_server.hpp"
#include "test_util.hpp"

namespace chat::sink {
namespace {

using namespace chat::sink::test;  // NOLINT(google-build-using-namespace)
using chat::testing::BombEncoding;
using chat::testing::RawResponse;

constexpr const char* kWebOrigin = "http://127.0.0.1:3000";
constexpr const char* kEvilOrigin = "http://evil.example";

std::string Hex(uint8_t trace, size_t bytes) {
  std::string s(bytes * 2, '0');
  s[0] = 'a';
  static const char* digits = "0123456789abcdef";
  s[s.size() - 2] = digits[trace >> 4];
  s[s.size() - 1] = digits[trace & 15];
  return s;
}

std::string Attr(const std::string& key, const std::string& value) {
  return R"({"key":")" + key + R"(","value":{"stringValue":")" + value + R"("}})";
}

std::string Attrs(const std::string& prefix, int n, const std::string& value = "v") {
  std::string out = "[";
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + Attr(prefix + std::to_string(i), value);
  return out + "]";
}

// One span of trace `trace` as OTLP/JSON with the given attribute/event/link arrays.
std::string SpanJsonBody(uint8_t trace, const std::string& attributes,
                         const std::string& events = "[]", const std::string& links = "[]") {
  return R"({"resourceSpans":[{"resource":{"attributes":[)" + Attr("service.name", "svc") +
         R"(]},"scopeSpans":[{"scope":{"name":"t"},"spans":[{"traceId":")" + Hex(trace, 16) +
         R"(","spanId":")" + Hex(1, 8) +
         R"(","name":"op","kind":1,"startTimeUnixNano":"1700000000000000000",)"
         R"("endTimeUnixNano":"1700000000000001000","attributes":)" +
         attributes + R"(,"events":)" + events + R"(,"links":)" + links + "}]}]}]}";
}

double Sample(const Sink& sink, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  auto samples = ParseExposition(sink.Metrics(false).body);
  return FindSample(samples, name, labels).value_or(-1);
}

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

SinkConfig HttpConfig() {
  SinkConfig c;  // cors_origins left at its default: the local web client's origin
  c.port = 0;
  return c;
}

TEST(SinkCorsTest, DefaultsToTheWebClientOrigin) {
  auto c = SinkConfig::FromEnv(core::MapEnv{});
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->cors_origins.size(), 1u);
  EXPECT_EQ(c->cors_origins[0], kWebOrigin);
  auto listed = SinkConfig::FromEnv(
      core::MapEnv{{"SINK_CORS_ORIGINS", "http://127.0.0.1:23000, https://chat.example"}});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->cors_origins,
            (std::vector<std::string>{"http://127.0.0.1:23000", "https://chat.example"}));
  EXPECT_FALSE(SinkConfig::FromEnv(core::MapEnv{{"SINK_CORS_ORIGINS", "evil.example"}}).ok());
  EXPECT_FALSE(SinkConfig::FromEnv(core::MapEnv{{"SINK_CORS_ORIGIN", "*"}}).ok());
}

TEST(SinkCorsTest, AnotherOriginCanNeitherReadNorPost) {
  Running r(HttpConfig());
  httplib::Client cli("127.0.0.1", r.port);
  SpanList spans;
  spans.push_back(MakeSpan(Tid(1), Sid(1), SpanId{}, "secret", SpanKind::kServer, 0, 10));
  ASSERT_EQ(
      r.sink
          .HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "", EncodeTraces("svc", spans))
          .status,
      200);

  // Reading: the answer carries no Access-Control-Allow-Origin, so the page cannot see it.
  for (const char* path : {"/api/traces?limit=5", "/api/logs", "/api/services"}) {
    auto res = cli.Get(path, {{"Origin", kEvilOrigin}});
    ASSERT_TRUE(res) << path;
    EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin")) << path;
  }
  auto pre = cli.Options("/v1/traces", {{"Origin", kEvilOrigin},
                                        {"Access-Control-Request-Method", "POST"},
                                        {"Access-Control-Request-Headers", "content-type"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 403);
  EXPECT_FALSE(pre->has_header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(pre->has_header("Access-Control-Allow-Methods"));

  // Posting (what a form or a no-cors fetch could still send): refused, counted, not stored.
  SpanList injected;
  injected.push_back(MakeSpan(Tid(2), Sid(1), SpanId{}, "forged", SpanKind::kServer, 0, 10));
  auto post = cli.Post("/v1/traces", {{"Origin", kEvilOrigin}}, EncodeTraces("svc", injected, true),
                       "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 403);
  EXPECT_EQ(r.sink.GetTrace(Tid(2).Hex()).status, 404);
  EXPECT_EQ(Sample(r.sink, "sink_rejected_requests_total",
                   {{"signal", "traces"}, {"reason", "forbidden_origin"}}),
            1);

  // The web client's own origin still works (and gets its CORS headers).
  auto own = cli.Get("/api/services", {{"Origin", kWebOrigin}});
  ASSERT_TRUE(own);
  EXPECT_EQ(own->get_header_value("Access-Control-Allow-Origin"), kWebOrigin);
  auto own_post = cli.Post("/v1/traces", {{"Origin", kWebOrigin}},
                           EncodeTraces("svc", injected, true), "application/json");
  ASSERT_TRUE(own_post);
  EXPECT_EQ(own_post->status, 200);
  EXPECT_EQ(own_post->get_header_value("Access-Control-Allow-Origin"), kWebOrigin);
}

TEST(SinkByteBoundTest, TenFourMebibyteSpansStayWithinMaxBytes) {
  SinkConfig c;
  c.max_bytes = size_t{16} * 1024 * 1024;
  c.span_limits.attribute_value_length = 0;  // unlimited: the byte bound alone must hold
  Sink sink(c, core::SystemClock::Instance());
  const std::string big(size_t{4} * 1024 * 1024, 'x');
  for (uint8_t i = 1; i <= 10; ++i) {
    SpanList spans;
    spans.push_back(MakeSpan(Tid(i), Sid(1), SpanId{}, "op", SpanKind::kServer, 0, 10));
    spans.back()->attributes.push_back({"blob", big});
    auto reply = sink.HandleOtlp(OtlpSignal::kTraces, "application/x-protobuf", "",
                                 EncodeTraces("svc", spans));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_LE(sink.store().bytes(), c.max_bytes) << "after span " << int(i);
  }
  EXPECT_GE(sink.store().bytes(), 3u * 4 * 1024 * 1024);  // it still keeps what fits
  EXPECT_EQ(sink.GetTrace(Tid(10).Hex()).status, 200);    // the newest stays
  EXPECT_EQ(sink.GetTrace(Tid(1).Hex()).status, 404);     // the oldest went first
  EXPECT_GE(Sample(sink, "sink_evicted_spans_total", {{"reason", "bytes"}}), 7);
  EXPECT_LE(Sample(sink, "sink_stored_bytes"), static_cast<double>(c.max_bytes));
}

TEST(SinkByteBoundTest, LogsShareTheBound) {
  SinkConfig c;
  c.max_bytes = size_t{2} * 1024 * 1024;
  c.span_limits.log_attribute_value_length = 0;
  Sink sink(c, core::SystemClock::Instance());
  const std::string big(size_t{512} * 1024, 'y');
  for (int i = 0; i < 10; ++i) {
    std::string body = R"({"resourceLogs":[{"resource":{"attributes":[)" +
                       Attr("service.name", "svc") +
                       R"(]},"scopeLogs":[{"scope":{"name":"t"},"logRecords":[{"timeUnixNano":"1",)"
                       R"("severityText":"INFO","body":{"stringValue":"m"},"attributes":[)" +
                       Attr("blob", big) + "]}]}]}]}";
    ASSERT_EQ(sink.HandleOtlp(OtlpSignal::kLogs, "application/json", "", body).status, 200);
    EXPECT_LE(sink.store().bytes(), c.max_bytes);
  }
  EXPECT_GE(Sample(sink, "sink_evicted_log_records_total", {{"reason", "bytes"}}), 6);
}

TEST(SinkSpanLimitsTest, ExcessIsDroppedTruncatedAndCounted) {
  SinkConfig c;  // OpenTelemetry defaults: 128 of each; the sink's value length limit 64 KiB
  Sink sink(c, core::SystemClock::Instance());
  std::string events = "[";
  for (int i = 0; i < 150; ++i) {
    events += std::string(i ? "," : "") + R"({"name":"e","timeUnixNano":"1","attributes":)" +
              Attrs("k", i == 0 ? 130 : 1) + "}";
  }
  events += "]";
  std::string links = "[";
  for (int i = 0; i < 140; ++i) {
    links += std::string(i ? "," : "") + R"({"traceId":")" + Hex(9, 16) + R"(","spanId":")" +
             Hex(static_cast<uint8_t>(i), 8) + R"(","attributes":)" + Attrs("l", i == 0 ? 129 : 0) +
             "}";
  }
  links += "]";
  std::string attrs = Attrs("a", 200);
  attrs.insert(1, Attr("long", std::string(size_t{100} * 1024, 'z')) + ",");
  auto reply = sink.HandleOtlp(OtlpSignal::kTraces, "application/json", "",
                               SpanJsonBody(3, attrs, events, links));
  ASSERT_EQ(reply.status, 200) << reply.body;

  auto trace = nlohmann::json::parse(sink.GetTrace(Hex(3, 16)).body);
  const auto& span = trace["spans"][0];
  EXPECT_EQ(span["attributes"].size(), 128u);
  EXPECT_EQ(span["attributes"]["long"].get<std::string>().size(), 65536u);
  EXPECT_EQ(span["events"].size(), 128u);
  EXPECT_EQ(span["events"][0]["attributes"].size(), 128u);
  EXPECT_EQ(span["links"].size(), 128u);
  EXPECT_EQ(span["links"][0]["attributes"].size(), 128u);

  EXPECT_EQ(Sample(sink, "sink_span_limit_dropped_total", {{"what", "attribute"}}), 73);
  EXPECT_EQ(Sample(sink, "sink_span_limit_dropped_total", {{"what", "event"}}), 22);
  EXPECT_EQ(Sample(sink, "sink_span_limit_dropped_total", {{"what", "link"}}), 12);
  EXPECT_EQ(Sample(sink, "sink_span_limit_dropped_total", {{"what", "event_attribute"}}), 2);
  EXPECT_EQ(Sample(sink, "sink_span_limit_dropped_total", {{"what", "link_attribute"}}), 1);
  EXPECT_EQ(Sample(sink, "sink_attribute_values_truncated_total"), 1);

  auto env = SinkConfig::FromEnv(core::MapEnv{{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "10"},
                                              {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"}});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->span_limits.attribute_count, 10u);
  EXPECT_EQ(env->span_limits.attribute_value_length, 100u);
  EXPECT_EQ(env->span_limits.event_count, 128u);
}

// The binary, out of process: gzip on the OTLP route inflates only up to SINK_MAX_BODY_BYTES,
// deflate and br are refused unread, chunked bodies stop at the limit, and routes without a body
// refuse any encoding or body; the sink's peak RSS grows by at most 5 MiB.
TEST(SinkProcessBodyLimitTest, BombsCostNoMemory) {
  const size_t inflated = size_t{64} * 1024 * 1024;
  const std::string gzip = chat::testing::CompressedZeros(BombEncoding::kGzip, inflated);
  const std::string deflate = chat::testing::CompressedZeros(BombEncoding::kDeflate, inflated);
  const std::string br = chat::testing::CompressedZeros(BombEncoding::kBrotli, inflated);
  chat::testing::SinkProcess sink;
  chat::testing::SinkProcessOptions options;
  options.env["SINK_MAX_BODY_BYTES"] = std::to_string(1024 * 1024);
  ASSERT_TRUE(sink.Start(options).ok());
  ASSERT_TRUE(sink.Metrics().ok());  // warm: threads and buffers exist before the baseline
  const long before = chat::testing::PeakRssKib(sink.pid());
  ASSERT_GT(before, 0);

  const chat::testing::HeaderList proto = {{"Content-Type", "application/x-protobuf"}};
  auto with = [&](const std::string& encoding) {
    auto h = proto;
    h.emplace_back("Content-Encoding", encoding);
    return h;
  };
  RawResponse r =
      chat::testing::SendWithLength(sink.port(), "POST", "/v1/traces", with("gzip"), gzip);
  EXPECT_EQ(r.status, 413) << r.error << r.head;
  r = chat::testing::SendWithLength(sink.port(), "POST", "/v1/traces", with("deflate"), deflate);
  EXPECT_EQ(r.status, 415) << r.error << r.head;
  r = chat::testing::SendWithLength(sink.port(), "POST", "/v1/logs", with("br"), br);
  EXPECT_EQ(r.status, 415) << r.error << r.head;
  r = chat::testing::SendChunked(sink.port(), "POST", "/v1/traces", proto,
                                 size_t{50} * 1024 * 1024);
  EXPECT_EQ(r.status, 413) << r.error << r.head;
  EXPECT_LT(r.body_bytes_sent, 50u * 1024 * 1024);
  for (const char* path : {"/metrics", "/api/traces"}) {
    for (const auto& [encoding, body] :
         {std::pair{"gzip", &gzip}, std::pair{"deflate", &deflate}, std::pair{"br", &br}}) {
      r = chat::testing::SendWithLength(sink.port(), "POST", path, with(encoding), *body);
      EXPECT_EQ(r.status, 415) << path << " " << encoding << r.error << r.head;
    }
    r = chat::testing::SendChunked(sink.port(), "POST", path, {}, size_t{50} * 1024 * 1024);
    EXPECT_EQ(r.status, 413) << path << r.error << r.head;
  }

  const long growth = chat::testing::PeakRssKib(sink.pid()) - before;
  EXPECT_LE(growth, chat::testing::kBombMaxRssGrowthKib)
      << "sink peak RSS grew by " << growth << " KiB";
  auto metrics = sink.Metrics();
  ASSERT_TRUE(metrics.ok());
  auto samples = ParseExposition(*metrics);
  EXPECT_EQ(FindSample(samples, "http_server_rejected_requests_total",
                       {{"server", "telemetry-sink"}, {"reason", "unsupported_encoding"}}),
            8);
  EXPECT_EQ(FindSample(samples, "sink_rejected_requests_total",
                       {{"signal", "traces"}, {"reason", "too_large"}}),
            2);
}

}  // namespace
}  // namespace chat::sink

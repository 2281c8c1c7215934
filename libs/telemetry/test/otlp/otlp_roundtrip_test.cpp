// decode(encode(x)) == x for traces and logs in both formats, the JSON variants other senders use
// (enum names, numbers for 64-bit ints, base64 ids, snake_case keys), rendering of AnyValue kinds
// our encoder never writes (arrays, kvlists, bytes), and metric data point counting.
#include <gtest/gtest.h>

#include <cmath>

#include "otlp_test_data.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace testdata;

TEST(OtlpRoundTrip, TracesProtobuf) {
  auto spans = FixtureSpans();
  std::string out;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), spans, out);
  auto decoded = DecodeTracesProtobuf(out);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    ExpectSpanEq(*spans[i], (*decoded)[i]);
    ASSERT_NE((*decoded)[i].resource, nullptr);
    ExpectResourceEq(FixtureResource(), *(*decoded)[i].resource);
    EXPECT_EQ((*decoded)[i].scope_name, "chat.telemetry");
  }
  // One resource object shared by all spans of a ResourceSpans.
  EXPECT_EQ((*decoded)[0].resource, (*decoded)[2].resource);
}

TEST(OtlpRoundTrip, TracesJson) {
  auto spans = FixtureSpans();
  std::string out;
  EncodeTracesJson(FixtureResource(), FixtureScope(), spans, out);
  auto decoded = DecodeTracesJson(out);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    ExpectSpanEq(*spans[i], (*decoded)[i]);
    ExpectResourceEq(FixtureResource(), *(*decoded)[i].resource);
    EXPECT_EQ((*decoded)[i].scope_name, "chat.telemetry");
  }
}

TEST(OtlpRoundTrip, LogsProtobuf) {
  auto logs = FixtureLogs();
  std::string out;
  EncodeLogsProtobuf(FixtureResource(), FixtureScope(), logs, out);
  auto decoded = DecodeLogsProtobuf(out);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), logs.size());
  for (size_t i = 0; i < logs.size(); ++i) {
    ExpectLogEq(*logs[i], (*decoded)[i]);
    EXPECT_EQ((*decoded)[i].resource->service_name, "fixture-service");
  }
}

TEST(OtlpRoundTrip, LogsJson) {
  auto logs = FixtureLogs();
  std::string out;
  EncodeLogsJson(FixtureResource(), FixtureScope(), logs, out);
  auto decoded = DecodeLogsJson(out);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), logs.size());
  for (size_t i = 0; i < logs.size(); ++i) ExpectLogEq(*logs[i], (*decoded)[i]);
}

TEST(OtlpRoundTrip, EmptyBatchesAndReusedBuffer) {
  std::vector<std::unique_ptr<SpanData>> none;
  std::string out = "stale contents that must disappear";
  EncodeTracesProtobuf(Resource{}, InstrumentationScope{}, none, out);
  auto decoded = DecodeTracesProtobuf(out);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
  EncodeTracesJson(Resource{}, InstrumentationScope{}, none, out);
  auto decoded_json = DecodeTracesJson(out);
  ASSERT_TRUE(decoded_json.ok()) << out;
  EXPECT_TRUE(decoded_json->empty());
  EXPECT_TRUE(DecodeTracesProtobuf("")->empty());  // an empty request is valid protobuf
}

TEST(OtlpRoundTrip, InvalidUtf8IsReplacedNotPassedThrough) {
  std::vector<std::unique_ptr<SpanData>> spans;
  auto s = std::make_unique<SpanData>();
  s->trace_id = MakeTraceId(1);
  s->span_id = MakeSpanId(2);
  s->name = "bad \xff\xfe name";
  s->attributes = {{"v", std::string("x\xc3")}};
  spans.push_back(std::move(s));
  for (bool json : {false, true}) {
    std::string out;
    if (json) {
      EncodeTracesJson(Resource{}, InstrumentationScope{}, spans, out);
    } else {
      EncodeTracesProtobuf(Resource{}, InstrumentationScope{}, spans, out);
    }
    auto decoded = json ? DecodeTracesJson(out) : DecodeTracesProtobuf(out);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ((*decoded)[0].name, "bad \xef\xbf\xbd\xef\xbf\xbd name");
    EXPECT_EQ(std::get<std::string>((*decoded)[0].attributes[0].value), "x\xef\xbf\xbd");
  }
}

TEST(OtlpRoundTrip, SpecialDoublesInJson) {
  std::vector<std::unique_ptr<SpanData>> spans;
  auto s = std::make_unique<SpanData>();
  s->trace_id = MakeTraceId(1);
  s->span_id = MakeSpanId(2);
  s->attributes = {{"nan", AttributeValue(std::nan(""))},
                   {"inf", AttributeValue(std::numeric_limits<double>::infinity())},
                   {"ninf", AttributeValue(-std::numeric_limits<double>::infinity())},
                   {"tiny", AttributeValue(5e-324)},
                   {"big", AttributeValue(1.7976931348623157e308)}};
  spans.push_back(std::move(s));
  std::string out;
  EncodeTracesJson(Resource{}, InstrumentationScope{}, spans, out);
  auto decoded = DecodeTracesJson(out);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString() << out;
  const auto& a = (*decoded)[0].attributes;
  EXPECT_TRUE(std::isnan(std::get<double>(a[0].value)));
  EXPECT_EQ(std::get<double>(a[1].value), std::numeric_limits<double>::infinity());
  EXPECT_EQ(std::get<double>(a[2].value), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(std::get<double>(a[3].value), 5e-324);
  EXPECT_EQ(std::get<double>(a[4].value), 1.7976931348623157e308);
}

TEST(OtlpJsonVariants, EnumNamesNumbersBase64IdsAndSnakeCase) {
  // trace id 0102..10 and span id a1..a8 in base64; snake_case keys; ints as numbers.
  const std::string body = R"({
    "resource_spans": [{
      "resource": {"attributes": [{"key": "service.name", "value": {"string_value": "svc"}}]},
      "scope_spans": [{
        "scope": {"name": "lib"},
        "spans": [{
          "trace_id": "AQIDBAUGBwgJCgsMDQ4PEA==",
          "span_id": "oaKjpKWmp6g=",
          "parent_span_id": "",
          "name": "op",
          "kind": "SPAN_KIND_SERVER",
          "start_time_unix_nano": 1700000000000000000,
          "endTimeUnixNano": "1700000000000000001",
          "flags": "1",
          "attributes": [
            {"key": "i", "value": {"int_value": 5}},
            {"key": "d", "value": {"doubleValue": 1}},
            {"key": "arr", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "2"}, {"boolValue": true}]}}},
            {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "x", "value": {"doubleValue": 0.5}}]}}},
            {"key": "b", "value": {"bytesValue": "AQID"}}
          ],
          "status": {"code": "STATUS_CODE_ERROR", "message": "bad"}
        }, {
          "traceId": "0102030405060708090A0B0C0D0E0F10",
          "spanId": "a1a2a3a4a5a6a7a8",
          "kind": 3,
          "droppedAttributesCount": "4"
        }]
      }]
    }]
  })";
  auto decoded = DecodeTracesJson(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 2u);
  const DecodedSpan& s = (*decoded)[0];
  EXPECT_EQ(s.trace_id, MakeTraceId(1));
  EXPECT_EQ(s.span_id, MakeSpanId(0xa1));
  EXPECT_EQ(s.parent_span_id, SpanId{});
  EXPECT_EQ(s.kind, 2);
  EXPECT_EQ(s.start_unix_nano, 1700000000000000000);
  EXPECT_EQ(s.end_unix_nano, 1700000000000000001);
  EXPECT_EQ(s.flags, 1u);
  EXPECT_EQ(s.status_code, 2);
  EXPECT_EQ(s.status_message, "bad");
  EXPECT_EQ(s.resource->service_name, "svc");
  EXPECT_EQ(s.scope_name, "lib");
  ASSERT_EQ(s.attributes.size(), 5u);
  EXPECT_EQ(std::get<int64_t>(s.attributes[0].value), 5);
  EXPECT_EQ(std::get<double>(s.attributes[1].value), 1.0);
  EXPECT_EQ(std::get<std::string>(s.attributes[2].value), R"(["a",2,true])");
  EXPECT_EQ(std::get<std::string>(s.attributes[3].value), R"({"x":0.5})");
  EXPECT_EQ(std::get<std::string>(s.attributes[4].value), R"("AQID")");
  const DecodedSpan& t = (*decoded)[1];
  EXPECT_EQ(t.trace_id, MakeTraceId(1));
  EXPECT_EQ(t.kind, 3);
  EXPECT_EQ(t.dropped_attributes, 4u);
}

TEST(OtlpJsonVariants, LogsWithNonStringBodyAndSeverityName) {
  const std::string body = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
    {"timeUnixNano": 5, "severityNumber": "SEVERITY_NUMBER_WARN", "body": {"kvlistValue":
      {"values": [{"key": "a", "value": {"intValue": "1"}}]}}},
    {"severity_number": 9, "body": {"intValue": 7}, "trace_id": "0102030405060708090a0b0c0d0e0f10"}
  ]}]}]})";
  auto decoded = DecodeLogsJson(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].time_unix_nano, 5);
  EXPECT_EQ((*decoded)[0].severity_number, 13);
  EXPECT_EQ((*decoded)[0].body, R"({"a":1})");
  EXPECT_EQ((*decoded)[0].resource->service_name, "unknown_service");
  EXPECT_EQ((*decoded)[1].severity_number, 9);
  EXPECT_EQ((*decoded)[1].body, "7");
  EXPECT_EQ((*decoded)[1].trace_id, MakeTraceId(1));
}

// Hand-encoded protobuf for AnyValue kinds our encoder does not produce.
TEST(OtlpProtobufDecode, ArrayKvlistAndBytesRenderAsJson) {
  // KeyValue{key:"a", value: AnyValue{array_value{[string "x", int 3, kvlist{[k: bool true]}]}}}
  std::string kv_inner = std::string("\x0a\x01k\x12\x02\x10\x01", 7);  // KeyValue k=true
  std::string kvlist = "\x0a" + std::string(1, static_cast<char>(kv_inner.size())) + kv_inner;
  std::string v_kvlist = R"(2)" + std::string(1, static_cast<char>(kvlist.size())) + kvlist;
  std::string arr = std::string("\x0a\x03\x0a\x01x", 5) + std::string("\x0a\x02\x18\x03", 4) +
                    "\x0a" + std::string(1, static_cast<char>(v_kvlist.size())) + v_kvlist;
  std::string any = R"(*)" + std::string(1, static_cast<char>(arr.size())) + arr;
  std::string keyvalue = std::string(
                             "\x0a\x01"
                             "a",
                             3) +
                         "\x12" + std::string(1, static_cast<char>(any.size())) + any;
  std::string bytes_kv = std::string(
      "\x0a\x01"
      "b"
      "\x12\x05\x3a\x03\x01\x02\x03",
      10);
  std::string span = std::string("\x2a\x02op", 4) + R"(J)" +
                     std::string(1, static_cast<char>(keyvalue.size())) + keyvalue + R"(J)" +
                     std::string(1, static_cast<char>(bytes_kv.size())) + bytes_kv;
  std::string scope_spans = "\x12" + std::string(1, static_cast<char>(span.size())) + span;
  std::string resource_spans =
      "\x12" + std::string(1, static_cast<char>(scope_spans.size())) + scope_spans;
  std::string request =
      "\x0a" + std::string(1, static_cast<char>(resource_spans.size())) + resource_spans;
  auto decoded = DecodeTracesProtobuf(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 1u);
  ASSERT_EQ((*decoded)[0].attributes.size(), 2u);
  EXPECT_EQ((*decoded)[0].name, "op");
  EXPECT_EQ(std::get<std::string>((*decoded)[0].attributes[0].value), R"(["x",3,{"k":true}])");
  EXPECT_EQ(std::get<std::string>((*decoded)[0].attributes[1].value), R"("AQID")");
}

TEST(OtlpProtobufDecode, UnknownFieldsAreSkipped) {
  std::string out;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), FixtureSpans(), out);
  // Append unknown fields of every wire type at the top level: 99 varint, 98 fixed64, 97 len,
  // 96 fixed32.
  std::string extra;
  extra += "\x98\x06\x05";                                       // field 99, varint 5
  extra += std::string("\x91\x06", 2) + std::string(8, '\x01');  // field 98 fixed64
  extra += std::string("\x8a\x06\x02zz", 5);                     // field 97 len 2
  extra += std::string("\x85\x06", 2) + std::string(4, '\x02');  // field 96 fixed32
  auto decoded = DecodeTracesProtobuf(out + extra);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->size(), 3u);
}

TEST(OtlpMetricsCount, ProtobufFromProtocText) {
  TempDir dir;
  WriteFile(dir.path() / "m.txt", R"(
resource_metrics {
  scope_metrics {
    metrics { name: "g" gauge { data_points { as_double: 1 } data_points { as_int: 2 } } }
    metrics { name: "s" sum { data_points { as_int: 3 } is_monotonic: true } }
    metrics { name: "h" histogram { data_points { count: 1 } } }
    metrics { name: "e" exponential_histogram { data_points { count: 1 } data_points { } } }
    metrics { name: "q" summary { data_points { count: 2 } } }
  }
}
resource_metrics { scope_metrics { metrics { name: "empty" } } }
)");
  auto r =
      RunCommand("/usr/bin/protoc -I" + ProtoDir().string() +
                 " --encode=opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest"
                 " opentelemetry/proto/collector/metrics/v1/metrics_service.proto < " +
                 (dir.path() / "m.txt").string());
  ASSERT_EQ(r.exit_code, 0);
  auto n = CountMetricPointsProtobuf(r.out);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 7u);
  EXPECT_FALSE(CountMetricPointsProtobuf(r.out.substr(0, r.out.size() - 1)).ok());
}

TEST(OtlpMetricsCount, Json) {
  auto n = CountMetricPointsJson(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[
    {"name":"g","gauge":{"dataPoints":[{"asDouble":1},{"asInt":"2"}]}},
    {"name":"s","sum":{"dataPoints":[{"asInt":"3"}],"isMonotonic":true}},
    {"name":"h","histogram":{"dataPoints":[{"count":"1"}]}},
    {"name":"e","exponential_histogram":{"data_points":[{},{}]}},
    {"name":"q","summary":{"dataPoints":[{}]}}]}]}]})");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 7u);
  EXPECT_FALSE(CountMetricPointsJson(R"({"resourceMetrics": 3})").ok());
  EXPECT_FALSE(CountMetricPointsJson("{").ok());
}

}  // namespace
}  // namespace chat::telemetry::sdk

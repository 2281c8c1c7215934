// Golden tests: the fixture records encode to the committed fixture files, protoc (with our .proto
// subset written from the public field numbers) reads our bytes back with the expected values,
// and protoc re-encoding its own text gives back our exact bytes (so our output is canonical).
// Set CHAT_UPDATE_GOLDEN=1 to rewrite the fixture files after an intended format change.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "otlp_test_data.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace testdata;

constexpr const char* kProtoc = "/usr/bin/protoc";
constexpr const char* kTraceRequest =
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest";
constexpr const char* kLogsRequest =
    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest";

bool UpdateGolden() {
  const char* v = std::getenv("CHAT_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

void CheckGolden(const std::string& name, const std::string& actual) {
  auto path = FixtureDir() / name;
  if (UpdateGolden()) {
    WriteFile(path, actual);
    GTEST_SKIP() << "rewrote " << path;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " missing; run with CHAT_UPDATE_GOLDEN=1";
  std::string expected = ReadFile(path);
  EXPECT_EQ(expected.size(), actual.size()) << name;
  EXPECT_TRUE(expected == actual) << name << " differs from the committed fixture";
}

std::string ProtocDecode(const std::string& type, const std::filesystem::path& input) {
  auto r = RunCommand(std::string(kProtoc) + " -I" + ProtoDir().string() + " --decode=" + type +
                      " $(cd " + ProtoDir().string() +
                      " && find . -name '*.proto' | sed 's|^./||')" + " < " + input.string());
  EXPECT_EQ(r.exit_code, 0) << "protoc --decode failed";
  return r.out;
}

std::string ProtocEncode(const std::string& type, const std::filesystem::path& text) {
  auto r = RunCommand(std::string(kProtoc) + " -I" + ProtoDir().string() + " --encode=" + type +
                      " $(cd " + ProtoDir().string() +
                      " && find . -name '*.proto' | sed 's|^./||')" + " < " + text.string());
  EXPECT_EQ(r.exit_code, 0) << "protoc --encode failed";
  return r.out;
}

void ExpectContains(const std::string& haystack, const std::string& needle) {
  EXPECT_NE(haystack.find(needle), std::string::npos) << "missing: " << needle;
}

TEST(OtlpGolden, TracesProtobufMatchesFixture) {
  std::string out;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), FixtureSpans(), out);
  CheckGolden("traces.pb", out);
}

TEST(OtlpGolden, TracesJsonMatchesFixture) {
  std::string out;
  EncodeTracesJson(FixtureResource(), FixtureScope(), FixtureSpans(), out);
  CheckGolden("traces.json", out);
}

TEST(OtlpGolden, LogsProtobufMatchesFixture) {
  std::string out;
  EncodeLogsProtobuf(FixtureResource(), FixtureScope(), FixtureLogs(), out);
  CheckGolden("logs.pb", out);
}

TEST(OtlpGolden, LogsJsonMatchesFixture) {
  std::string out;
  EncodeLogsJson(FixtureResource(), FixtureScope(), FixtureLogs(), out);
  CheckGolden("logs.json", out);
}

TEST(OtlpGolden, JsonFixturesAreValidJson) {
  for (const char* name : {"traces.json", "logs.json"}) {
    std::string text = ReadFile(FixtureDir() / name);
    auto j = nlohmann::json::parse(text, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << name;
  }
  // Spot-check the mapping rules on the encoder's own output.
  std::string out;
  EncodeTracesJson(FixtureResource(), FixtureScope(), FixtureSpans(), out);
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  const auto& span = j["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["traceId"], "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(span["spanId"], "a1a2a3a4a5a6a7a8");
  EXPECT_FALSE(span.contains("parentSpanId"));
  EXPECT_EQ(span["kind"], 2);
  EXPECT_EQ(span["startTimeUnixNano"], "1700000000000000000");
  EXPECT_EQ(span["status"]["code"], 2);
  EXPECT_EQ(span["attributes"][3]["value"]["intValue"], "42");
  EXPECT_EQ(span["attributes"][6]["value"]["doubleValue"], 3.25);
  EXPECT_EQ(span["attributes"][1]["value"]["boolValue"], true);
  EXPECT_EQ(span["attributes"][8]["value"]["stringValue"],
            "quote\" back\\ nl\n tab\t ctrl\x01 caf\xc3\xa9 \xe2\x9c\x93 /");
  const auto& child = j["resourceSpans"][0]["scopeSpans"][0]["spans"][1];
  EXPECT_EQ(child["parentSpanId"], "a1a2a3a4a5a6a7a8");
}

TEST(OtlpProtoc, DecodeRawAcceptsTraces) {
  TempDir dir;
  std::string out;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), FixtureSpans(), out);
  WriteFile(dir.path() / "t.pb", out);
  auto r = RunCommand(std::string(kProtoc) + " --decode_raw < " + (dir.path() / "t.pb").string());
  EXPECT_EQ(r.exit_code, 0);
  ExpectContains(r.out, "\"process chat.room.create\"");
}

TEST(OtlpProtoc, TracesDecodeWithExpectedValues) {
  TempDir dir;
  std::string out;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), FixtureSpans(), out);
  WriteFile(dir.path() / "t.pb", out);
  std::string text = ProtocDecode(kTraceRequest, dir.path() / "t.pb");
  ExpectContains(text, "key: \"service.name\"");
  ExpectContains(text, "string_value: \"fixture-service\"");
  ExpectContains(text, "int_value: 1234");
  ExpectContains(text, "double_value: 0.25");
  ExpectContains(text, "name: \"chat.telemetry\"");
  ExpectContains(text, "version: \"0.1.0\"");
  ExpectContains(text, R"(trace_id: "\001\002\003\004\005\006\007\010\t\n\013\014\r\016\017\020")");
  ExpectContains(text, "trace_state: \"vendor=abc,other=x\"");
  ExpectContains(text, "name: \"process chat.room.create\"");
  ExpectContains(text, "kind: SPAN_KIND_SERVER");
  ExpectContains(text, "kind: SPAN_KIND_CLIENT");
  ExpectContains(text, "kind: SPAN_KIND_CONSUMER");
  ExpectContains(text, "start_time_unix_nano: 1700000000000000000");
  ExpectContains(text, "end_time_unix_nano: 1700000000001500000");
  ExpectContains(text, "bool_value: true");
  ExpectContains(text, "bool_value: false");
  ExpectContains(text, "int_value: 42");
  ExpectContains(text, "int_value: -7");
  ExpectContains(text, "int_value: 0");
  ExpectContains(text, "int_value: 9223372036854775807");
  ExpectContains(text, "int_value: -9223372036854775808");
  ExpectContains(text, "double_value: 3.25");
  ExpectContains(text, "double_value: -0.5");
  ExpectContains(text, "string_value: \"\"");
  ExpectContains(text, "dropped_attributes_count: 1");
  ExpectContains(text, "name: \"exception\"");
  ExpectContains(text, "time_unix_nano: 1700000000001000000");
  ExpectContains(text, "string_value: \"duplicate key\"");
  ExpectContains(text, "dropped_events_count: 2");
  ExpectContains(text, "trace_state: \"k=v\"");
  ExpectContains(text, "dropped_links_count: 3");
  ExpectContains(text, R"(message: "boom: \"unique\" violated")");
  ExpectContains(text, "code: STATUS_CODE_ERROR");
  ExpectContains(text, "code: STATUS_CODE_OK");
  ExpectContains(text, "flags: 1");
  ExpectContains(text, R"(parent_span_id: "\241\242\243\244\245\246\247\250")");
  // Exactly one parent_span_id: the root and the minimal span have none.
  size_t first = text.find("parent_span_id");
  EXPECT_EQ(text.find("parent_span_id", first + 1), std::string::npos);
}

TEST(OtlpProtoc, TracesReEncodeToIdenticalBytes) {
  TempDir dir;
  std::string out;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), FixtureSpans(), out);
  WriteFile(dir.path() / "t.pb", out);
  WriteFile(dir.path() / "t.txt", ProtocDecode(kTraceRequest, dir.path() / "t.pb"));
  std::string again = ProtocEncode(kTraceRequest, dir.path() / "t.txt");
  EXPECT_EQ(again.size(), out.size());
  EXPECT_TRUE(again == out) << "our encoding is not canonical protobuf";
}

TEST(OtlpProtoc, LogsDecodeWithExpectedValuesAndReEncodeIdentically) {
  TempDir dir;
  std::string out;
  EncodeLogsProtobuf(FixtureResource(), FixtureScope(), FixtureLogs(), out);
  WriteFile(dir.path() / "l.pb", out);
  std::string text = ProtocDecode(kLogsRequest, dir.path() / "l.pb");
  ExpectContains(text, "time_unix_nano: 1700000000002000000");
  ExpectContains(text, "observed_time_unix_nano: 1700000000002000000");
  ExpectContains(text, "severity_number: 13");
  ExpectContains(text, "severity_text: \"WARN\"");
  ExpectContains(text, "severity_number: 17");
  ExpectContains(text, "string_value: \"message persisted\"");
  ExpectContains(text, R"(span_id: "\241\242\243\244\245\246\247\250")");
  ExpectContains(text, "flags: 1");
  ExpectContains(text, "int_value: 99");
  ExpectContains(text, "double_value: 0.125");
  WriteFile(dir.path() / "l.txt", text);
  std::string again = ProtocEncode(kLogsRequest, dir.path() / "l.txt");
  EXPECT_TRUE(again == out) << "our encoding is not canonical protobuf";
}

TEST(OtlpProtoc, LargeBatchReEncodesIdentically) {
  // Many spans push the outer lengths past one- and two-byte varints.
  std::vector<std::unique_ptr<SpanData>> spans;
  for (int i = 0; i < 300; ++i) {
    auto s = std::make_unique<SpanData>();
    s->trace_id = MakeTraceId(static_cast<uint8_t>(i));
    s->span_id = MakeSpanId(static_cast<uint8_t>(i + 1));
    s->name = "span " + std::to_string(i) + std::string(static_cast<size_t>(i), 'x');
    s->kind = SpanKind::kProducer;
    s->start_unix_nano = i + 1;
    s->end_unix_nano = i + 2;
    s->attributes = {{"i", i}, {"s", std::string(static_cast<size_t>(i) * 3, 'y')}};
    spans.push_back(std::move(s));
  }
  TempDir dir;
  std::string out;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), spans, out);
  ASSERT_GT(out.size(), 128u * 1024u);
  WriteFile(dir.path() / "t.pb", out);
  WriteFile(dir.path() / "t.txt", ProtocDecode(kTraceRequest, dir.path() / "t.pb"));
  EXPECT_TRUE(ProtocEncode(kTraceRequest, dir.path() / "t.txt") == out);
}

}  // namespace
}  // namespace chat::telemetry::sdk

// Malformed input: decoders must return invalid_argument (never crash, never read out of bounds)
// for truncations, bit flips, bad lengths, wrong wire types and absurd nesting. Run under the asan
// preset too, where an out-of-bounds read fails the test.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "otlp_test_data.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace testdata;

std::string ValidTraces() {
  std::string out;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), FixtureSpans(), out);
  return out;
}
std::string ValidLogs() {
  std::string out;
  EncodeLogsProtobuf(FixtureResource(), FixtureScope(), FixtureLogs(), out);
  return out;
}

// Copies the input into an exactly sized heap buffer, so ASan sees any read past its end.
template <typename Fn>
void WithExactBuffer(std::string_view data, Fn&& fn) {
  auto buf = std::make_unique<char[]>(data.size() + 1);
  std::memcpy(buf.get(), data.data(), data.size());
  fn(std::string_view(buf.get(), data.size()));
}

TEST(OtlpMalformed, EveryTruncationOfProtobufIsHandled) {
  for (const std::string& valid : {ValidTraces(), ValidLogs()}) {
    size_t errors = 0;
    for (size_t n = 0; n < valid.size(); ++n) {
      WithExactBuffer(std::string_view(valid).substr(0, n), [&](std::string_view in) {
        auto t = DecodeTracesProtobuf(in);
        auto l = DecodeLogsProtobuf(in);
        auto m = CountMetricPointsProtobuf(in);
        if (!t.ok()) {
          ++errors;
          EXPECT_EQ(t.status().code(), core::ErrorCode::kInvalidArgument);
        }
        (void)l;
        (void)m;
      });
    }
    // Almost every cut lands inside the single top-level field.
    EXPECT_GE(errors, valid.size() - 1);
  }
}

TEST(OtlpMalformed, RandomBitFlipsNeverCrash) {
  std::mt19937 rng(12345);
  for (const std::string& valid : {ValidTraces(), ValidLogs()}) {
    for (int iter = 0; iter < 3000; ++iter) {
      std::string data = valid;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        size_t pos = rng() % data.size();
        data[pos] = static_cast<char>(data[pos] ^ (1 << (rng() % 8)));
      }
      WithExactBuffer(data, [&](std::string_view in) {
        auto t = DecodeTracesProtobuf(in);
        auto l = DecodeLogsProtobuf(in);
        auto m = CountMetricPointsProtobuf(in);
        if (!t.ok()) {
          EXPECT_EQ(t.status().code(), core::ErrorCode::kInvalidArgument);
        }
        if (!l.ok()) {
          EXPECT_EQ(l.status().code(), core::ErrorCode::kInvalidArgument);
        }
        if (!m.ok()) {
          EXPECT_EQ(m.status().code(), core::ErrorCode::kInvalidArgument);
        }
      });
    }
  }
}

TEST(OtlpMalformed, RandomGarbageNeverCrashes) {
  std::mt19937 rng(777);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string data(rng() % 64, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    WithExactBuffer(data, [&](std::string_view in) {
      (void)DecodeTracesProtobuf(in);
      (void)DecodeLogsProtobuf(in);
      (void)CountMetricPointsProtobuf(in);
      (void)DecodeTracesJson(in);
      (void)DecodeLogsJson(in);
    });
  }
}

TEST(OtlpMalformed, SpecificProtobufErrors) {
  struct Case {
    std::string input;
    std::string reason;
  };
  const Case cases[] = {
      {std::string("\x0a", 1), "truncated varint at byte 1"},
      {std::string("\x0a\x80", 2), "truncated varint"},
      {std::string("\x0a\x05\x00", 3), "length past the end"},
      {std::string("\x0a\xff\xff\xff\xff\x0f", 6), "length past the end"},
      {std::string("\x08\x01", 2), "wrong wire type 0 for field 1"},
      {std::string("\x13", 1), "unsupported wire type 3"},
      {std::string("\x16", 1), "unsupported wire type 6"},
      {std::string("\x00", 1), "invalid field number"},
      {std::string("\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12), "varint"},
      // ResourceSpans{ScopeSpans{Span{trace_id: 3 bytes}}}
      {std::string("\x0a\x09\x12\x07\x12\x05\x0a\x03\x01\x02\x03", 11), "id of 3 bytes"},
      // Span.start_time as varint instead of fixed64.
      {std::string("\x0a\x06\x12\x04\x12\x02\x38\x01", 8), "wrong wire type 0 for field 7"},
  };
  for (const auto& c : cases) {
    WithExactBuffer(c.input, [&](std::string_view in) {
      auto r = DecodeTracesProtobuf(in);
      ASSERT_FALSE(r.ok()) << c.reason;
      EXPECT_EQ(r.status().code(), core::ErrorCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find(c.reason), std::string::npos)
          << r.status().message() << " vs " << c.reason;
    });
  }
}

// AnyValue{array_value{values: AnyValue{array_value{...}}}} nested `depth` times.
std::string NestedArrays(int depth) {
  std::string v = std::string("\x0a\x01x", 3);  // innermost: string_value "x"
  auto len_prefixed = [](uint8_t tag, const std::string& payload) {
    std::string out(1, static_cast<char>(tag));
    size_t n = payload.size();
    while (n >= 0x80) {
      out.push_back(static_cast<char>((n & 0x7f) | 0x80));
      n >>= 7;
    }
    out.push_back(static_cast<char>(n));
    return out + payload;
  };
  for (int i = 0; i < depth; ++i) {
    std::string array = len_prefixed(0x0a, v);  // ArrayValue.values = 1
    v = len_prefixed(0x2a, array);              // AnyValue.array_value = 5
  }
  std::string kv = std::string("\x0a\x01k", 3) + len_prefixed(0x12, v);
  std::string span = len_prefixed(0x4a, kv);
  return len_prefixed(0x0a, len_prefixed(0x12, len_prefixed(0x12, span)));
}

TEST(OtlpMalformed, AbsurdNestingIsRejected) {
  auto ok = DecodeTracesProtobuf(NestedArrays(5));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(std::get<std::string>((*ok)[0].attributes[0].value), R"([[[[["x"]]]]])");
  auto deep = DecodeTracesProtobuf(NestedArrays(5000));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("nested too deeply"), std::string::npos);
}

TEST(OtlpMalformed, JsonErrors) {
  const char* cases[] = {
      "",
      "{",
      "[]",
      "null",
      R"({"resourceSpans": 5})",
      R"({"resourceSpans": [5]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "0102"}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": 12}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": "SPAN_KIND_NOPE"}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "12x"}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": 1.5}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"droppedAttributesCount": -1}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": [{"key": "a", "value": {"intValue": "x"}}]}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": [{"key": "a", "value": {"boolValue": "yes"}}]}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": [{"key": "a", "value": {"bytesValue": "!!"}}]}]}]}]})",
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"status": []}]}]}]})",
  };
  for (const char* c : cases) {
    auto r = DecodeTracesJson(c);
    ASSERT_FALSE(r.ok()) << c;
    EXPECT_EQ(r.status().code(), core::ErrorCode::kInvalidArgument) << c;
  }
  std::string deep = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = DecodeTracesJson(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested too deeply"), std::string::npos);
}

TEST(OtlpMalformed, JsonTruncationsAndFlipsNeverCrash) {
  std::string traces;
  EncodeTracesJson(FixtureResource(), FixtureScope(), FixtureSpans(), traces);
  std::string logs;
  EncodeLogsJson(FixtureResource(), FixtureScope(), FixtureLogs(), logs);
  for (const std::string& valid : {traces, logs}) {
    for (size_t n = 0; n < valid.size(); n += 7) {
      WithExactBuffer(std::string_view(valid).substr(0, n), [&](std::string_view in) {
        auto t = DecodeTracesJson(in);
        EXPECT_FALSE(t.ok());  // a cut JSON document never parses
        (void)DecodeLogsJson(in);
        (void)CountMetricPointsJson(in);
      });
    }
    std::mt19937 rng(99);
    for (int iter = 0; iter < 1000; ++iter) {
      std::string data = valid;
      size_t pos = rng() % data.size();
      data[pos] = static_cast<char>(rng());
      WithExactBuffer(data, [&](std::string_view in) {
        (void)DecodeTracesJson(in);
        (void)DecodeLogsJson(in);
      });
    }
  }
}

// Amplification (issue 12's decoder measurement): small bodies that would decode to many times
// their size are refused before the memory is taken, and a realistic batch still decodes.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string LenField(uint32_t field, std::string_view payload) {
  return Varint((uint64_t{field} << 3) | 2) + Varint(payload.size()) + std::string(payload);
}
// ExportTraceServiceRequest{ResourceSpans{ScopeSpans{scope{name}, spans...}}}; logs share it.
std::string Envelope(std::string_view scope_name, std::string_view items) {
  std::string scope_spans = LenField(1, LenField(1, scope_name)) + std::string(items);
  return LenField(1, LenField(2, scope_spans));
}
bool RefusedForSize(const core::Status& st) {
  return st.code() == core::ErrorCode::kInvalidArgument &&
         st.message().find("decodes to more than") != std::string::npos;
}

TEST(OtlpMalformed, BodiesThatDecodeToManyTimesTheirSizeAreRefused) {
  // 1 MiB of empty spans (2 bytes each): without the budget, ~250 bytes of model per 2 bytes.
  std::string empties;
  for (int i = 0; i < (1 << 19); ++i) empties += LenField(2, "");
  auto spans = DecodeTracesProtobuf(Envelope("s", empties));
  ASSERT_FALSE(spans.ok());
  EXPECT_TRUE(RefusedForSize(spans.status())) << spans.status().ToString();
  auto logs = DecodeLogsProtobuf(Envelope("s", empties));
  ASSERT_FALSE(logs.ok());
  EXPECT_TRUE(RefusedForSize(logs.status())) << logs.status().ToString();

  // A 256 KiB scope name over 1,000 empty spans: each span copies the name (250 MiB in all).
  std::string thousand;
  for (int i = 0; i < 1000; ++i) thousand += LenField(2, "");
  auto copies = DecodeTracesProtobuf(Envelope(std::string(256 << 10, 'n'), thousand));
  ASSERT_FALSE(copies.ok());
  EXPECT_TRUE(RefusedForSize(copies.status())) << copies.status().ToString();

  // Attributes with empty key/value messages: 2 bytes on the wire each.
  std::string attrs;
  for (int i = 0; i < (1 << 19); ++i) attrs += LenField(9, "");
  auto attributed = DecodeTracesProtobuf(Envelope("s", LenField(2, attrs)));
  ASSERT_FALSE(attributed.ok());
  EXPECT_TRUE(RefusedForSize(attributed.status())) << attributed.status().ToString();

  // JSON: a megabyte of empty objects, each a container of nlohmann's DOM.
  std::string json = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{})";
  while (json.size() < (1 << 20)) json += ",{}";
  json += "]}]}]}";
  auto from_json = DecodeTracesJson(json);
  ASSERT_FALSE(from_json.ok());
  EXPECT_TRUE(RefusedForSize(from_json.status())) << from_json.status().ToString();
}

TEST(OtlpMalformed, ARealisticLargeBatchFitsTheBudget) {
  // What the SDK exports: 512 spans per request (the batch processor's default), fixture spans
  // with attributes, events and links; and the same as JSON.
  std::vector<std::unique_ptr<SpanData>> batch;
  while (batch.size() < 512) {
    for (auto& s : FixtureSpans()) batch.push_back(std::move(s));
  }
  std::string body;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), batch, body);
  auto spans = DecodeTracesProtobuf(body);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  EXPECT_EQ(spans->size(), batch.size());
  std::string json;
  EncodeTracesJson(FixtureResource(), FixtureScope(), batch, json);
  auto from_json = DecodeTracesJson(json);
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  EXPECT_EQ(from_json->size(), batch.size());
}

}  // namespace
}  // namespace chat::telemetry::sdk

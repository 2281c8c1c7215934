#include "chat/telemetry/trace_context.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace chat::telemetry {
namespace {

constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kSpan = "00f067aa0ba902b7";

std::string Tp(std::string_view version, std::string_view trace, std::string_view span,
               std::string_view flags) {
  return std::string(version) + "-" + std::string(trace) + "-" + std::string(span) + "-" +
         std::string(flags);
}

InvalidContextReason Reason(std::string_view tp, int count = 1) {
  ParsedContext p = ParseTraceparent(tp, {}, count);
  EXPECT_FALSE(p.context.has_value()) << tp;
  EXPECT_TRUE(p.invalid.has_value()) << tp;
  return p.invalid.value_or(InvalidContextReason::kMalformed);
}

TEST(TraceIdTest, HexRoundTripAndValidity) {
  auto id = TraceId::FromHex(kTrace);
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(id->IsValid());
  EXPECT_EQ(id->Hex(), kTrace);
  EXPECT_FALSE(TraceId{}.IsValid());
  EXPECT_FALSE(TraceId::FromHex("4BF92F3577B34DA6A3CE929D0E0E4736").has_value());
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e473").has_value());
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e473g").has_value());
  auto span = SpanId::FromHex(kSpan);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->Hex(), kSpan);
  EXPECT_FALSE(SpanId{}.IsValid());
  EXPECT_FALSE(SpanId::FromHex("00F067AA0BA902B7").has_value());
}

TEST(TraceparentTest, ValidSampledAndUnsampled) {
  ParsedContext p = ParseTraceparent(Tp("00", kTrace, kSpan, "01"));
  ASSERT_TRUE(p.context.has_value());
  EXPECT_FALSE(p.invalid.has_value());
  EXPECT_EQ(p.context->trace_id.Hex(), kTrace);
  EXPECT_EQ(p.context->span_id.Hex(), kSpan);
  EXPECT_TRUE(p.context->IsSampled());
  EXPECT_TRUE(p.context->is_remote);

  ParsedContext u = ParseTraceparent(Tp("00", kTrace, kSpan, "00"));
  ASSERT_TRUE(u.context.has_value());
  EXPECT_FALSE(u.context->IsSampled());
}

TEST(TraceparentTest, OnlySampledFlagIsKept) {
  ParsedContext p = ParseTraceparent(Tp("00", kTrace, kSpan, "ff"));
  ASSERT_TRUE(p.context.has_value());
  EXPECT_EQ(p.context->trace_flags, kTraceFlagSampled);
  ParsedContext q = ParseTraceparent(Tp("00", kTrace, kSpan, "02"));
  ASSERT_TRUE(q.context.has_value());
  EXPECT_EQ(q.context->trace_flags, 0);
  EXPECT_EQ(FormatTraceparent(*p.context), Tp("00", kTrace, kSpan, "01"));
}

TEST(TraceparentTest, AbsentHeaderIsNeitherValidNorInvalid) {
  ParsedContext p = ParseTraceparent("", "", 0);
  EXPECT_FALSE(p.context.has_value());
  EXPECT_FALSE(p.invalid.has_value());
}

TEST(TraceparentTest, MultipleValuesAreInvalid) {
  EXPECT_EQ(Reason(Tp("00", kTrace, kSpan, "01"), 2), InvalidContextReason::kMultiple);
}

TEST(TraceparentTest, WrongLengthIsMalformed) {
  std::string good = Tp("00", kTrace, kSpan, "01");
  EXPECT_EQ(Reason(""), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(good.substr(0, 54)), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("00", kTrace.substr(1), kSpan, "01")), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("00", kTrace, std::string(kSpan) + "0", "01")),
            InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("00", kTrace, kSpan, "1")), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("0", kTrace, kSpan, "01")), InvalidContextReason::kMalformed);
  // Wrong separators.
  std::string bad = good;
  bad[35] = '_';
  EXPECT_EQ(Reason(bad), InvalidContextReason::kMalformed);
}

TEST(TraceparentTest, UppercaseAndNonHexAreMalformed) {
  std::string upper_trace(kTrace);
  upper_trace[0] = 'B';  // "4Bf9..."
  upper_trace[1] = 'F';
  EXPECT_EQ(Reason(Tp("00", upper_trace, kSpan, "01")), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("00", kTrace, "00F067AA0BA902B7", "01")), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("00", kTrace, kSpan, "0A")), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("0A", kTrace, kSpan, "01")), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("00", "4bf92f3577b34da6a3ce929d0e0e473z", kSpan, "01")),
            InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("00", kTrace, "00f067aa0ba902bx", "01")), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("00", kTrace, kSpan, "0g")), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("zz", kTrace, kSpan, "01")), InvalidContextReason::kMalformed);
}

TEST(TraceparentTest, AllZeroIdsAreInvalid) {
  EXPECT_EQ(Reason(Tp("00", "00000000000000000000000000000000", kSpan, "01")),
            InvalidContextReason::kZeroId);
  EXPECT_EQ(Reason(Tp("00", kTrace, "0000000000000000", "01")), InvalidContextReason::kZeroId);
}

TEST(TraceparentTest, VersionFfIsBadVersion) {
  EXPECT_EQ(Reason(Tp("ff", kTrace, kSpan, "01")), InvalidContextReason::kBadVersion);
}

TEST(TraceparentTest, Version00WithExtraDataIsMalformed) {
  EXPECT_EQ(Reason(Tp("00", kTrace, kSpan, "01") + "-extra"), InvalidContextReason::kMalformed);
  EXPECT_EQ(Reason(Tp("00", kTrace, kSpan, "01") + "0"), InvalidContextReason::kMalformed);
}

TEST(TraceparentTest, FutureVersionIsParsedByItsFirstFourFields) {
  ParsedContext plain = ParseTraceparent(Tp("cc", kTrace, kSpan, "01"));
  ASSERT_TRUE(plain.context.has_value());
  EXPECT_EQ(plain.context->trace_id.Hex(), kTrace);

  ParsedContext extra = ParseTraceparent(Tp("cc", kTrace, kSpan, "01") + "-what-the-future-holds");
  ASSERT_TRUE(extra.context.has_value());
  EXPECT_EQ(extra.context->span_id.Hex(), kSpan);
  EXPECT_TRUE(extra.context->IsSampled());
  // Re-injected as version 00.
  EXPECT_EQ(FormatTraceparent(*extra.context), Tp("00", kTrace, kSpan, "01"));

  EXPECT_EQ(Reason(Tp("cc", kTrace, kSpan, "01") + "x-more"), InvalidContextReason::kMalformed);
}

TEST(TraceparentTest, TracestateReadOnlyWithValidTraceparent) {
  ParsedContext p = ParseTraceparent(Tp("00", kTrace, kSpan, "01"), "congo=t61rcWkgMzE");
  ASSERT_TRUE(p.context.has_value());
  EXPECT_EQ(p.context->trace_state, "congo=t61rcWkgMzE");
  ParsedContext bad = ParseTraceparent(Tp("ff", kTrace, kSpan, "01"), "congo=t61rcWkgMzE");
  EXPECT_FALSE(bad.context.has_value());
  // A valid traceparent with an invalid tracestate keeps the context and drops the state.
  ParsedContext dropped = ParseTraceparent(Tp("00", kTrace, kSpan, "01"), "Bad=1");
  ASSERT_TRUE(dropped.context.has_value());
  EXPECT_EQ(dropped.context->trace_state, "");
}

TEST(TraceparentTest, FormatParseRoundTrip) {
  for (int i = 0; i < 100; ++i) {
    SpanContext ctx;
    ctx.trace_id = NewTraceId();
    ctx.span_id = NewSpanId();
    ctx.trace_flags = static_cast<uint8_t>(i % 2);
    std::string tp = FormatTraceparent(ctx);
    ASSERT_EQ(tp.size(), 55u);
    ParsedContext p = ParseTraceparent(tp);
    ASSERT_TRUE(p.context.has_value()) << tp;
    EXPECT_EQ(p.context->trace_id, ctx.trace_id);
    EXPECT_EQ(p.context->span_id, ctx.span_id);
    EXPECT_EQ(p.context->trace_flags, ctx.trace_flags);
  }
  EXPECT_EQ(FormatTraceparent(SpanContext{}), "");
}

TEST(TraceparentTest, ReasonNamesAreTheMetricLabels) {
  EXPECT_EQ(InvalidContextReasonName(InvalidContextReason::kMalformed), "malformed");
  EXPECT_EQ(InvalidContextReasonName(InvalidContextReason::kMultiple), "multiple");
  EXPECT_EQ(InvalidContextReasonName(InvalidContextReason::kZeroId), "zero_id");
  EXPECT_EQ(InvalidContextReasonName(InvalidContextReason::kBadVersion), "bad_version");
}

TEST(TracestateTest, ValidListsAreKept) {
  EXPECT_EQ(ValidateTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(ValidateTracestate("tenant1@vendor=x y"), "tenant1@vendor=x y");
  // Optional whitespace and empty members are normalised away.
  EXPECT_EQ(ValidateTracestate(" a=1 ,, b=2 "), "a=1,b=2");
  EXPECT_EQ(ValidateTracestate(""), "");
}

TEST(TracestateTest, MalformedMembersDropTheHeader) {
  EXPECT_EQ(ValidateTracestate("A=1"), "");                  // uppercase key
  EXPECT_EQ(ValidateTracestate("1a=1"), "");                 // simple key must start with a letter
  EXPECT_EQ(ValidateTracestate("a"), "");                    // no '='
  EXPECT_EQ(ValidateTracestate("a="), "");                   // empty value
  EXPECT_EQ(ValidateTracestate("a=b=c"), "");                // '=' in value
  EXPECT_EQ(ValidateTracestate("a=x "), "a=x");              // trailing OWS is list whitespace
  EXPECT_EQ(ValidateTracestate("a=\x01"), "");               // control character
  EXPECT_EQ(ValidateTracestate("t@toolongsystemid=1"), "");  // system-id > 14 chars
  EXPECT_EQ(ValidateTracestate("@v=1"), "");                 // empty tenant
  EXPECT_EQ(ValidateTracestate("a=1,b=2,a=3"), "");          // duplicate key
}

TEST(TracestateTest, SizeLimits) {
  std::string members;
  for (int i = 0; i < 32; ++i) {
    if (i > 0) members += ",";
    members += "k" + std::to_string(i) + "=v";
  }
  EXPECT_EQ(ValidateTracestate(members), members);
  EXPECT_EQ(ValidateTracestate(members + ",k32=v"), "");  // 33 members

  std::string long_value(505, 'x');
  std::string at_limit = "a=" + long_value + ",b=1";  // 2 + 505 + 4 = 511
  ASSERT_LE(at_limit.size(), 512u);
  EXPECT_EQ(ValidateTracestate(at_limit), "");  // value > 256 chars is malformed anyway
  std::string long_list;
  while (long_list.size() <= 512) long_list += "abcdefghij=0123456789abcdef,";
  EXPECT_EQ(ValidateTracestate(long_list), "");
}

TEST(IdGeneratorTest, IdsAreValidAndDistinct) {
  std::set<std::string> traces;
  std::set<std::string> spans;
  for (int i = 0; i < 10000; ++i) {
    TraceId t = NewTraceId();
    SpanId s = NewSpanId();
    ASSERT_TRUE(t.IsValid());
    ASSERT_TRUE(s.IsValid());
    traces.insert(t.Hex());
    spans.insert(s.Hex());
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

}  // namespace
}  // namespace chat::telemetry

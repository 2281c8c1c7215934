#include "chat/telemetry/sdk/sampler.hpp"

#include <gtest/gtest.h>

namespace chat::telemetry::sdk {
namespace {

SpanContext Parent(bool sampled, bool remote) {
  SpanContext p;
  p.trace_id = NewTraceId();
  p.span_id = NewSpanId();
  p.trace_flags = sampled ? kTraceFlagSampled : 0;
  p.is_remote = remote;
  return p;
}

TEST(SamplerTest, AlwaysOnAndOff) {
  auto on = MakeSampler("always_on");
  auto off = MakeSampler("always_off");
  ASSERT_NE(on, nullptr);
  ASSERT_NE(off, nullptr);
  for (int i = 0; i < 10; ++i) {
    TraceId t = NewTraceId();
    EXPECT_EQ(on->ShouldSample({}, t, "x", SpanKind::kInternal),
              SamplingDecision::kRecordAndSample);
    EXPECT_EQ(off->ShouldSample({}, t, "x", SpanKind::kInternal), SamplingDecision::kDrop);
  }
  // Non-parent-based samplers ignore the parent's flag.
  EXPECT_EQ(off->ShouldSample(Parent(true, true), NewTraceId(), "x", SpanKind::kServer),
            SamplingDecision::kDrop);
}

TEST(SamplerTest, UnknownNameIsNull) { EXPECT_EQ(MakeSampler("sometimes"), nullptr); }

TEST(SamplerTest, RatioIsDeterministicOnTheTraceId) {
  auto a = MakeSampler("traceidratio", 0.25);
  auto b = MakeSampler("traceidratio", 0.25);
  int sampled = 0;
  constexpr int kN = 20000;
  for (int i = 0; i < kN; ++i) {
    TraceId t = NewTraceId();
    SamplingDecision da = a->ShouldSample({}, t, "x", SpanKind::kInternal);
    // Same trace id, other instance, other name/kind: same decision.
    EXPECT_EQ(da, b->ShouldSample({}, t, "y", SpanKind::kServer));
    if (da == SamplingDecision::kRecordAndSample) ++sampled;
  }
  // 25 % ± a wide margin (binomial sd ≈ 0.3 %).
  EXPECT_GT(sampled, kN * 20 / 100);
  EXPECT_LT(sampled, kN * 30 / 100);
}

TEST(SamplerTest, RatioUsesTheRightmost56Bits) {
  auto half = MakeSampler("traceidratio", 0.5);
  TraceId low;  // randomness 0x00...: below the threshold
  low.bytes[0] = 0xff;
  low.bytes[15] = 1;
  TraceId high;  // randomness 0xff...: above the threshold
  for (size_t i = 9; i < 16; ++i) high.bytes[i] = 0xff;
  EXPECT_EQ(half->ShouldSample({}, low, "x", SpanKind::kInternal), SamplingDecision::kDrop);
  EXPECT_EQ(half->ShouldSample({}, high, "x", SpanKind::kInternal),
            SamplingDecision::kRecordAndSample);
  auto none = MakeSampler("traceidratio", 0.0);
  auto all = MakeSampler("traceidratio", 1.0);
  EXPECT_EQ(none->ShouldSample({}, high, "x", SpanKind::kInternal), SamplingDecision::kDrop);
  EXPECT_EQ(all->ShouldSample({}, low, "x", SpanKind::kInternal),
            SamplingDecision::kRecordAndSample);
}

TEST(SamplerTest, ParentBasedHonoursTheParentFlag) {
  for (const char* name :
       {"parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"}) {
    auto s = MakeSampler(name, 0.0);
    ASSERT_NE(s, nullptr) << name;
    for (bool remote : {true, false}) {
      EXPECT_EQ(s->ShouldSample(Parent(true, remote), NewTraceId(), "x", SpanKind::kConsumer),
                SamplingDecision::kRecordAndSample)
          << name;
      EXPECT_EQ(s->ShouldSample(Parent(false, remote), NewTraceId(), "x", SpanKind::kConsumer),
                SamplingDecision::kDrop)
          << name;
    }
  }
}

TEST(SamplerTest, ParentBasedRootUsesTheRootSampler) {
  EXPECT_EQ(MakeSampler("parentbased_always_on")
                ->ShouldSample({}, NewTraceId(), "x", SpanKind::kInternal),
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(MakeSampler("parentbased_always_off")
                ->ShouldSample({}, NewTraceId(), "x", SpanKind::kInternal),
            SamplingDecision::kDrop);
  EXPECT_EQ(MakeSampler("parentbased_traceidratio", 0.0)
                ->ShouldSample({}, NewTraceId(), "x", SpanKind::kInternal),
            SamplingDecision::kDrop);
  EXPECT_NE(MakeSampler("parentbased_traceidratio", 0.5)->Description().find("ParentBased"),
            std::string::npos);
}

}  // namespace
}  // namespace chat::telemetry::sdk

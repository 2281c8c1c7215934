#include <gtest/gtest.h>

#include "chat/core/clock.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/sdk/sampler.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/telemetry/trace.hpp"

namespace chat::telemetry {
namespace {

using sdk::InMemoryTelemetry;
using sdk::InMemoryTelemetryOptions;

SpanContext RemoteParent(bool sampled) {
  auto p = ParseTraceparent(std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-") +
                                (sampled ? "01" : "00"),
                            "congo=t61rcWkgMzE");
  return *p.context;
}

TEST(SpanTest, RootSpanRecordsNameKindTimesAndAttributes) {
  core::FakeClock clock;
  InMemoryTelemetry t(clock);
  const int64_t start = clock.NowUnixNanos();
  {
    Span span = t.tracer().StartSpan("process chat.room.create", SpanKind::kServer, {});
    EXPECT_TRUE(span.IsRecording());
    EXPECT_TRUE(span.Context().IsValid());
    EXPECT_TRUE(span.Context().IsSampled());
    EXPECT_FALSE(span.Context().is_remote);
    span.SetAttribute("chat.room", "r1")
        .SetAttribute("chat.count", 3)
        .SetAttribute("chat.ratio", 0.5);
    span.SetAttribute("chat.flag", true);
    span.SetAttribute("chat.room", "r2");  // replaces
    clock.Advance(std::chrono::milliseconds(5));
  }
  auto s = t.FindSpan("process chat.room.create");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->kind, SpanKind::kServer);
  EXPECT_FALSE(s->parent_span_id.IsValid());
  EXPECT_EQ(s->start_unix_nano, start);
  EXPECT_EQ(s->end_unix_nano, start + 5'000'000);
  EXPECT_EQ(s->trace_flags, kTraceFlagSampled);
  ASSERT_EQ(s->attributes.size(), 4u);
  EXPECT_EQ(sdk::StringAttribute(*s, "chat.room"), "r2");
  EXPECT_EQ(sdk::IntAttribute(*s, "chat.count"), 3);
  EXPECT_EQ(std::get<double>(*sdk::FindAttribute(*s, "chat.ratio")), 0.5);
  EXPECT_EQ(std::get<bool>(*sdk::FindAttribute(*s, "chat.flag")), true);
  EXPECT_EQ(s->status_code, StatusCode::kUnset);
}

TEST(SpanTest, ChildOfRemoteParentKeepsTraceAndTracestate) {
  InMemoryTelemetry t;
  SpanContext parent = RemoteParent(true);
  SpanContext child_ctx;
  {
    Span span = t.tracer().StartSpan("process x", SpanKind::kConsumer, parent);
    child_ctx = span.Context();
    Span grandchild = t.tracer().StartSpan("db", SpanKind::kClient, span.Context());
    EXPECT_EQ(grandchild.Context().trace_id, parent.trace_id);
  }
  EXPECT_EQ(child_ctx.trace_id, parent.trace_id);
  EXPECT_NE(child_ctx.span_id, parent.span_id);
  EXPECT_EQ(child_ctx.trace_state, "congo=t61rcWkgMzE");
  auto s = t.FindSpan("process x");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->parent_span_id, parent.span_id);
  EXPECT_EQ(s->trace_state, "congo=t61rcWkgMzE");
  auto db = t.FindSpan("db");
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->parent_span_id, child_ctx.span_id);
  // Ended innermost first.
  ASSERT_EQ(t.Spans().size(), 2u);
  EXPECT_EQ(t.Spans()[0].name, "db");
}

TEST(SpanTest, UnsampledSpanIsNonRecordingButPropagates) {
  InMemoryTelemetryOptions o;
  o.sampler = sdk::MakeSampler("parentbased_always_on");
  InMemoryTelemetry t(std::move(o), core::SystemClock::Instance());
  SpanContext parent = RemoteParent(false);
  {
    Span span = t.tracer().StartSpan("process x", SpanKind::kConsumer, parent);
    EXPECT_FALSE(span.IsRecording());
    EXPECT_TRUE(span.Context().IsValid());
    EXPECT_FALSE(span.Context().IsSampled());
    EXPECT_EQ(span.Context().trace_id, parent.trace_id);
    EXPECT_NE(span.Context().span_id, parent.span_id);  // a fresh id for downstream
    span.SetAttribute("chat.room", "r").RecordError("timeout", "boom");
    EXPECT_EQ(FormatTraceparent(span.Context()).substr(53), "00");
  }
  EXPECT_EQ(t.SpanCount(), 0u);
  EXPECT_EQ(t.tracer_provider().spans_started(), 1u);
}

TEST(SpanTest, AlwaysOffRootStillHasAValidContext) {
  InMemoryTelemetryOptions o;
  o.sampler = sdk::MakeSampler("always_off");
  InMemoryTelemetry t(std::move(o), core::SystemClock::Instance());
  Span span = t.tracer().StartSpan("x");
  EXPECT_FALSE(span.IsRecording());
  EXPECT_TRUE(span.Context().IsValid());
  EXPECT_EQ(span.Context().trace_flags, 0);
}

TEST(SpanTest, DisabledProviderCarriesTheParentContext) {
  TracerProvider provider(Resource{}, sdk::MakeAlwaysOnSampler(), nullptr, SpanLimits{},
                          core::SystemClock::Instance());
  SpanContext parent = RemoteParent(true);
  Span child = provider.GetTracer().StartSpan("x", SpanKind::kServer, parent);
  EXPECT_FALSE(child.IsRecording());
  EXPECT_EQ(child.Context().trace_id, parent.trace_id);
  EXPECT_EQ(child.Context().span_id, parent.span_id);
  EXPECT_TRUE(child.Context().IsSampled());
  Span root = provider.GetTracer().StartSpan("y");
  EXPECT_FALSE(root.IsRecording());
  EXPECT_FALSE(root.Context().IsValid());
  EXPECT_TRUE(provider.ForceFlush(std::chrono::milliseconds(10)));

  Tracer noop;  // default-constructed
  Span n = noop.StartSpan("z", SpanKind::kClient, parent);
  EXPECT_FALSE(n.IsRecording());
  EXPECT_EQ(n.Context().span_id, parent.span_id);
}

TEST(SpanTest, RecordErrorSetsStatusAttributeAndExceptionEvent) {
  InMemoryTelemetry t;
  {
    Span span = t.tracer().StartSpan("publish chat.room.{room_id}.msg", SpanKind::kProducer, {});
    span.RecordError("no_responders", "no responders available", "", "publish failed");
  }
  auto s = t.FindSpan("publish chat.room.{room_id}.msg");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status_code, StatusCode::kError);
  EXPECT_EQ(s->status_message, "publish failed");
  EXPECT_EQ(sdk::StringAttribute(*s, semconv::kErrorType), "no_responders");
  const SpanEvent* e = sdk::FindEvent(*s, "exception");
  ASSERT_NE(e, nullptr);
  auto* type = sdk::FindAttribute(e->attributes, semconv::kExceptionType);
  auto* msg = sdk::FindAttribute(e->attributes, semconv::kExceptionMessage);
  ASSERT_NE(type, nullptr);
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(std::get<std::string>(*type), "no_responders");  // defaults to error_type
  EXPECT_EQ(std::get<std::string>(*msg), "no responders available");
}

TEST(SpanTest, RecordErrorTruncatesTheMessageAndOverridesOk) {
  InMemoryTelemetryOptions o;
  o.limits.attribute_value_length = 8;
  InMemoryTelemetry t(std::move(o), core::SystemClock::Instance());
  {
    Span span = t.tracer().StartSpan("x");
    span.SetStatus(StatusCode::kOk);
    span.RecordError("sql_error", "duplicate key value violates", "PgError");
  }
  auto s = t.FindSpan("x");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status_code, StatusCode::kError);
  const SpanEvent* e = sdk::FindEvent(*s, "exception");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(std::get<std::string>(*sdk::FindAttribute(e->attributes, "exception.message")),
            "duplicat");
  EXPECT_EQ(std::get<std::string>(*sdk::FindAttribute(e->attributes, "exception.type")), "PgError");
}

TEST(SpanTest, StatusRules) {
  InMemoryTelemetry t;
  {
    Span a = t.tracer().StartSpan("a");
    a.SetStatus(StatusCode::kError, "failed").SetStatus(StatusCode::kUnset);
    Span b = t.tracer().StartSpan("b");
    b.SetStatus(StatusCode::kOk, "ignored").SetStatus(StatusCode::kError, "late");
  }
  EXPECT_EQ(t.FindSpan("a")->status_code, StatusCode::kError);
  EXPECT_EQ(t.FindSpan("a")->status_message, "failed");
  EXPECT_EQ(t.FindSpan("b")->status_code, StatusCode::kOk);
  EXPECT_EQ(t.FindSpan("b")->status_message, "");
}

TEST(SpanTest, EventsLinksAndStartOptions) {
  core::FakeClock clock;
  InMemoryTelemetry t(clock);
  SpanContext linked = RemoteParent(true);
  {
    SpanStartOptions opts;
    opts.kind = SpanKind::kConsumer;
    opts.start_unix_nano = 42;
    opts.attributes.push_back({"chat.a", 1});
    opts.links.push_back(SpanLink{linked, {Attribute(semconv::kChatLinkReason, "backlog")}});
    opts.links.push_back(SpanLink{SpanContext{}, {}});  // invalid links are ignored
    Span span = t.tracer().StartSpan("process y", std::move(opts));
    clock.Advance(std::chrono::milliseconds(1));
    span.AddEvent("retry", {Attribute("chat.attempt", 2)});
    span.AddLink(RemoteParent(false));
    span.SetName("process z");
    span.End(100);
    span.End(200);  // idempotent
  }
  auto s = t.FindSpan("process z");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->start_unix_nano, 42);
  EXPECT_EQ(s->end_unix_nano, 100);
  EXPECT_EQ(s->kind, SpanKind::kConsumer);
  EXPECT_EQ(sdk::IntAttribute(*s, "chat.a"), 1);
  ASSERT_EQ(s->links.size(), 2u);
  EXPECT_EQ(s->links[0].context.trace_id, linked.trace_id);
  EXPECT_EQ(std::get<std::string>(s->links[0].attributes[0].value), "backlog");
  ASSERT_EQ(s->events.size(), 1u);
  EXPECT_EQ(s->events[0].name, "retry");
  EXPECT_EQ(s->events[0].time_unix_nano, clock.NowUnixNanos());
  EXPECT_EQ(t.SpanCount(), 1u);
}

TEST(SpanTest, LimitsDropAndCount) {
  InMemoryTelemetryOptions o;
  o.limits.attribute_count = 2;
  o.limits.event_count = 1;
  o.limits.link_count = 1;
  o.limits.attribute_value_length = 4;
  InMemoryTelemetry t(std::move(o), core::SystemClock::Instance());
  {
    Span span = t.tracer().StartSpan("x");
    span.SetAttribute("a", "123456789").SetAttribute("b", 2).SetAttribute("c", 3);
    span.SetAttribute("a", "xy");  // replacing an existing key is always allowed
    span.SetAttribute("d", true);
    span.AddEvent("e1", {Attribute("k1", 1), Attribute("k2", 2), Attribute("k3", 3)});
    span.AddEvent("e2");
    span.AddLink(RemoteParent(true));
    span.AddLink(RemoteParent(true));
  }
  auto s = t.FindSpan("x");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->attributes.size(), 2u);
  EXPECT_EQ(sdk::StringAttribute(*s, "a"), "xy");
  EXPECT_EQ(s->dropped_attributes, 2u);
  EXPECT_EQ(s->events.size(), 1u);
  EXPECT_EQ(s->events[0].attributes.size(), 2u);
  EXPECT_EQ(s->dropped_events, 1u);
  EXPECT_EQ(s->links.size(), 1u);
  EXPECT_EQ(s->dropped_links, 1u);
  TracerProvider& p = t.tracer_provider();
  EXPECT_EQ(p.dropped_attributes(), 3u);  // c, d, and k3 of the event
  EXPECT_EQ(p.dropped_events(), 1u);
  EXPECT_EQ(p.dropped_links(), 1u);
}

TEST(SpanTest, ValueTruncationKeepsUtf8Whole) {
  InMemoryTelemetryOptions o;
  o.limits.attribute_value_length = 4;
  InMemoryTelemetry t(std::move(o), core::SystemClock::Instance());
  {
    Span span = t.tracer().StartSpan("x");
    span.SetAttribute("a", "abc\xc3\xa9");  // "abcé": 5 bytes, the cut would split é
    span.SetAttribute("b", "ab");
  }
  auto s = t.FindSpan("x");
  EXPECT_EQ(sdk::StringAttribute(*s, "a"), "abc");
  EXPECT_EQ(sdk::StringAttribute(*s, "b"), "ab");
}

TEST(SpanTest, MovedSpanEndsOnce) {
  InMemoryTelemetry t;
  {
    Span a = t.tracer().StartSpan("a");
    Span b = std::move(a);
    EXPECT_FALSE(a.IsRecording());  // NOLINT(bugprone-use-after-move): checking the moved-from
    EXPECT_TRUE(b.IsRecording());
    Span c = t.tracer().StartSpan("c");
    c = std::move(b);  // ends "c"
    EXPECT_EQ(t.SpanCount(), 1u);
  }
  EXPECT_EQ(t.SpanCount(), 2u);
  EXPECT_TRUE(t.FindSpan("a").has_value());
  EXPECT_TRUE(t.FindSpan("c").has_value());
}

}  // namespace
}  // namespace chat::telemetry

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>

#include "chat/core/clock.hpp"
#include "chat/telemetry/log.hpp"
#include "chat/telemetry/sdk/batch_processor.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"

namespace chat::telemetry {
namespace {

using nlohmann::json;

struct Captured {
  std::mutex mu;
  std::vector<std::string> lines;
  Logger::LineWriter Writer() {
    return [this](std::string_view l) {
      std::lock_guard lock(mu);
      lines.emplace_back(l);
    };
  }
  json Parse(size_t i) {
    std::lock_guard lock(mu);
    json j = json::parse(lines.at(i), nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << lines.at(i);
    return j;
  }
  size_t size() {
    std::lock_guard lock(mu);
    return lines.size();
  }
};

SpanContext Ctx() {
  return *ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").context;
}

TEST(LogLevelTest, NamesAndParsing) {
  EXPECT_EQ(LogLevelName(LogLevel::kDebug), "DEBUG");
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "INFO");
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "WARN");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "ERROR");
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("INFO"), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("Warn"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error"), LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("warning").has_value());
  EXPECT_FALSE(ParseLogLevel("").has_value());
  EXPECT_EQ(static_cast<int>(LogLevel::kError), 17);
}

TEST(LoggerTest, JsonLineSchemaWithTraceContext) {
  core::FakeClock clock(1'772'366'400'123'456'789);  // 2026-03-01T12:00:00.123456789Z
  Captured out;
  Logger log("persist-worker", LogLevel::kInfo, nullptr, clock, out.Writer());
  SpanContext ctx = Ctx();
  log.Info(ctx, "message persisted",
           {{"chat.room", "general"},
            {"chat.message_id", int64_t{42}},
            {"duration_ms", 1.5},
            {"chat.flag", true}});
  ASSERT_EQ(out.size(), 1u);
  json j = out.Parse(0);
  EXPECT_EQ(j["timestamp"], "2026-03-01T12:00:00.123456789Z");
  EXPECT_EQ(j["level"], "INFO");
  EXPECT_EQ(j["msg"], "message persisted");
  EXPECT_EQ(j["service"], "persist-worker");
  EXPECT_EQ(j["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(j["span_id"], "00f067aa0ba902b7");
  EXPECT_EQ(j["chat.room"], "general");
  EXPECT_EQ(j["chat.message_id"], 42);
  EXPECT_EQ(j["duration_ms"], 1.5);
  EXPECT_EQ(j["chat.flag"], true);
  EXPECT_FALSE(j.contains("suppressed"));
  // Field order: timestamp, level, msg, service, trace_id, span_id, then attributes.
  std::string line = out.lines[0];
  EXPECT_LT(line.find("\"timestamp\""), line.find("\"level\""));
  EXPECT_LT(line.find("\"level\""), line.find("\"msg\""));
  EXPECT_LT(line.find("\"msg\""), line.find("\"service\""));
  EXPECT_LT(line.find("\"service\""), line.find("\"trace_id\""));
  EXPECT_LT(line.find("\"span_id\""), line.find("\"chat.room\""));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LoggerTest, NoTraceFieldsWithoutAValidContext) {
  core::FakeClock clock;
  Captured out;
  Logger log("svc", LogLevel::kInfo, nullptr, clock, out.Writer());
  log.Info("started");
  log.Info(SpanContext{}, "invalid context");
  ASSERT_EQ(out.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    json j = out.Parse(i);
    EXPECT_FALSE(j.contains("trace_id"));
    EXPECT_FALSE(j.contains("span_id"));
  }
}

TEST(LoggerTest, EscapesStrings) {
  core::FakeClock clock;
  Captured out;
  Logger log("svc", LogLevel::kInfo, nullptr, clock, out.Writer());
  const std::string nasty = "quote\" backslash\\ newline\n tab\t ctrl\x01 del\x7f é";
  log.Warn("odd \"msg\"", {{"error.type", nasty}});
  json j = out.Parse(0);
  EXPECT_EQ(j["msg"], "odd \"msg\"");
  EXPECT_EQ(j["error.type"], nasty);
  EXPECT_EQ(out.lines[0].find('\n'), std::string::npos);
}

TEST(LoggerTest, NonFiniteDoublesStayValidJson) {
  core::FakeClock clock;
  Captured out;
  Logger log("svc", LogLevel::kInfo, nullptr, clock, out.Writer());
  log.Info("x", {{"a", std::numeric_limits<double>::quiet_NaN()},
                 {"b", std::numeric_limits<double>::infinity()}});
  json j = out.Parse(0);
  EXPECT_EQ(j["a"], "NaN");
  EXPECT_EQ(j["b"], "Infinity");
}

TEST(LoggerTest, ThresholdFilters) {
  core::FakeClock clock;
  Captured out;
  Logger log("svc", LogLevel::kWarn, nullptr, clock, out.Writer());
  EXPECT_FALSE(log.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.Enabled(LogLevel::kError));
  log.Debug(Ctx(), "d");
  log.Info("i");
  log.Warn("w");
  log.Error(Ctx(), "e");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.Parse(0)["level"], "WARN");
  EXPECT_EQ(out.Parse(1)["level"], "ERROR");
}

TEST(LoggerTest, RepeatsAboveTenPerSecondAreSuppressedAndCounted) {
  core::FakeClock clock;
  Captured out;
  Logger log("svc", LogLevel::kDebug, nullptr, clock, out.Writer());
  for (int i = 0; i < 25; ++i) log.Warn("kv fallback");
  log.Error("kv fallback");  // another level: its own budget
  log.Warn("other message");
  EXPECT_EQ(out.size(), 12u);
  EXPECT_EQ(log.suppressed(LogLevel::kWarn), 15u);
  EXPECT_EQ(log.suppressed(LogLevel::kError), 0u);
  // The next window: the first line of that (level, msg) carries the count, once.
  clock.Advance(std::chrono::seconds(1));
  log.Warn("kv fallback");
  log.Warn("kv fallback");
  ASSERT_EQ(out.size(), 14u);
  json first = out.Parse(12);
  EXPECT_EQ(first["msg"], "kv fallback");
  EXPECT_EQ(first["suppressed"], 15);
  EXPECT_FALSE(out.Parse(13).contains("suppressed"));
}

TEST(LoggerTest, RecordsGoToTheProcessorWithContextAndFields) {
  core::FakeClock clock;
  Captured out;
  auto store = std::make_shared<sdk::InMemoryLogStore>();
  Logger log(
      "svc", LogLevel::kInfo,
      std::make_unique<sdk::SimpleLogProcessor>(std::make_unique<sdk::InMemoryLogExporter>(store)),
      clock, out.Writer());
  log.Error(Ctx(), "publish failed", {{"error.type", "timeout"}});
  log.Info("no context");
  auto records = store->Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].level, LogLevel::kError);
  EXPECT_EQ(records[0].body, "publish failed");
  EXPECT_EQ(records[0].time_unix_nano, clock.NowUnixNanos());
  EXPECT_EQ(records[0].trace_id, Ctx().trace_id);
  EXPECT_EQ(records[0].span_id, Ctx().span_id);
  EXPECT_EQ(records[0].trace_flags, kTraceFlagSampled);
  ASSERT_EQ(records[0].attributes.size(), 1u);
  EXPECT_EQ(records[0].attributes[0].key, "error.type");
  EXPECT_FALSE(records[1].trace_id.IsValid());
  EXPECT_TRUE(log.ForceFlush(std::chrono::seconds(1)));
  EXPECT_TRUE(log.Shutdown(std::chrono::seconds(1)));
}

TEST(LoggerTest, DefaultLoggerWorksWithoutSetUp) {
  Logger log;  // writes to stderr
  EXPECT_TRUE(log.Enabled(LogLevel::kInfo));
  EXPECT_FALSE(log.Enabled(LogLevel::kDebug));
  log.Info("default logger line from a test");
  EXPECT_TRUE(log.ForceFlush(std::chrono::milliseconds(1)));
}

TEST(InMemoryTelemetryTest, CapturesLinesRecordsAndSpans) {
  sdk::InMemoryTelemetry t;
  const Telemetry& tel = t.telemetry();
  ASSERT_NE(tel.logger, nullptr);
  ASSERT_NE(tel.metrics, nullptr);
  {
    Span span = tel.tracer.StartSpan("work");
    tel.logger->Info(span.Context(), "did work", {{"chat.room", "r"}});
  }
  ASSERT_EQ(t.LogLines().size(), 1u);
  json j = json::parse(t.LogLines()[0], nullptr, false);
  EXPECT_EQ(j["service"], "test-service");
  auto span = t.FindSpan("work");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(j["trace_id"], span->trace_id.Hex());
  EXPECT_EQ(j["span_id"], span->span_id.Hex());
  ASSERT_EQ(t.LogRecords().size(), 1u);
  t.Clear();
  EXPECT_TRUE(t.LogLines().empty());
  EXPECT_EQ(t.SpanCount(), 0u);
}

TEST(NoopTelemetryTest, IsUsable) {
  const Telemetry& n = Telemetry::Noop();
  EXPECT_EQ(&n, &Telemetry::Noop());
  ASSERT_NE(n.logger, nullptr);
  ASSERT_NE(n.metrics, nullptr);
  Span s = n.tracer.StartSpan("x");
  EXPECT_FALSE(s.IsRecording());
}

}  // namespace
}  // namespace chat::telemetry

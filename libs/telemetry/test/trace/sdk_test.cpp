#include "chat/telemetry/sdk/sdk.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "chat/core/clock.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Lines {
  std::mutex mu;
  std::vector<std::string> lines;
  Logger::LineWriter Writer() {
    return [this](std::string_view l) {
      std::lock_guard lock(mu);
      lines.emplace_back(l);
    };
  }
  std::vector<json> WithMsg(std::string_view msg) {
    std::lock_guard lock(mu);
    std::vector<json> out;
    for (const auto& l : lines) {
      json j = json::parse(l, nullptr, false);
      if (!j.is_discarded() && j["msg"] == msg) out.push_back(j);
    }
    return out;
  }
};

class FailingSpanExporter final : public SpanExporter {
 public:
  ExportResult Export(const std::vector<std::unique_ptr<SpanData>>&,
                      std::chrono::milliseconds) override {
    return ExportResult::kHttp4xx;
  }
};

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

TEST(TelemetrySdkTest, BuildsEverythingAndExposesZeroedSelfMetrics) {
  core::MapEnv env{{"OTEL_BSP_MAX_QUEUE_SIZE", "128"}, {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16"}};
  TelemetryConfig config = TelemetryConfig::FromEnv(env, "room-service", 9405);
  auto spans = std::make_shared<InMemorySpanStore>();
  auto logs = std::make_shared<InMemoryLogStore>();
  Lines lines;
  SdkOverrides o;
  o.span_exporter = std::make_unique<InMemorySpanExporter>(spans);
  o.log_exporter = std::make_unique<InMemoryLogExporter>(logs);
  o.log_writer = lines.Writer();
  auto sdk = TelemetrySdk::Create(config, core::SystemClock::Instance(), std::move(o));
  ASSERT_NE(sdk, nullptr);
  ASSERT_NE(sdk->span_processor(), nullptr);
  ASSERT_NE(sdk->log_processor(), nullptr);

  const std::string text = sdk->metrics().Expose(ExpositionFormat::kPrometheusText);
  for (std::string_view series :
       {"otel_sdk_processor_span_processed_total{error_type=\"\"} 0",
        "otel_sdk_processor_span_processed_total{error_type=\"queue_full\"} 0",
        "otel_sdk_processor_log_processed_total{error_type=\"queue_full\"} 0",
        "otel_sdk_exporter_span_exported_total{error_type=\"\"} 0",
        "otel_sdk_exporter_span_exported_total{error_type=\"timeout\"} 0",
        "otel_sdk_exporter_span_exported_total{error_type=\"http_4xx\"} 0",
        "otel_sdk_exporter_span_exported_total{error_type=\"http_5xx\"} 0",
        "otel_sdk_exporter_log_exported_total{error_type=\"connection_error\"} 0",
        "otel_sdk_span_limit_dropped_total{what=\"attribute\"} 0",
        "otel_sdk_span_limit_dropped_total{what=\"event\"} 0",
        "otel_sdk_span_limit_dropped_total{what=\"link\"} 0",
        "log_records_suppressed_total{level=\"WARN\"} 0",
        "otel_sdk_processor_span_queue_capacity 128", "otel_sdk_processor_span_queue_size 0",
        "otel_sdk_processor_log_queue_capacity 2048", "chat_build_info{version=\""}) {
    EXPECT_TRUE(Contains(text, series)) << series << "\n" << text;
  }

  // One "telemetry configured" line with the effective values and no warnings.
  auto configured = lines.WithMsg("telemetry configured");
  ASSERT_EQ(configured.size(), 1u);
  EXPECT_EQ(configured[0]["service"], "room-service");
  EXPECT_EQ(configured[0]["otel.traces.sampler"], "parentbased_traceidratio");
  EXPECT_EQ(configured[0]["otel.bsp.max_queue_size"], 128);
  EXPECT_TRUE(lines.WithMsg("telemetry configuration value ignored").empty());

  // Spans and logs flow through the batch processors; the counters follow.
  const Telemetry& t = sdk->telemetry();
  {
    Span s = t.tracer.StartSpan("work");
    EXPECT_TRUE(s.IsRecording());
    t.logger->Info(s.Context(), "did work");
  }
  EXPECT_TRUE(sdk->Shutdown(5s));
  EXPECT_EQ(spans->Count(), 1u);
  EXPECT_GE(logs->Count(), 2u);  // "telemetry configured" + "did work"
  const std::string after = sdk->metrics().Expose(ExpositionFormat::kPrometheusText);
  EXPECT_TRUE(Contains(after, "otel_sdk_processor_span_processed_total{error_type=\"\"} 1"))
      << after;
  EXPECT_TRUE(Contains(after, "otel_sdk_exporter_span_exported_total{error_type=\"\"} 1")) << after;
  EXPECT_TRUE(sdk->Shutdown(1s));  // idempotent
}

TEST(TelemetrySdkTest, ExportFailuresAndLimitDropsReachTheCounters) {
  core::MapEnv env{{"OTEL_SPAN_EVENT_COUNT_LIMIT", "0"}};
  Lines lines;
  SdkOverrides o;
  o.span_exporter = std::make_unique<FailingSpanExporter>();
  o.log_exporter = std::make_unique<InMemoryLogExporter>();
  o.log_writer = lines.Writer();
  auto sdk = TelemetrySdk::Create(TelemetryConfig::FromEnv(env, "svc"),
                                  core::SystemClock::Instance(), std::move(o));
  {
    Span s = sdk->telemetry().tracer.StartSpan("x");
    s.AddEvent("dropped");
  }
  ASSERT_TRUE(sdk->tracer_provider().ForceFlush(5s));
  const std::string text = sdk->metrics().Expose(ExpositionFormat::kPrometheusText);
  EXPECT_TRUE(Contains(text, "otel_sdk_exporter_span_exported_total{error_type=\"http_4xx\"} 1"))
      << text;
  EXPECT_TRUE(Contains(text, "otel_sdk_span_limit_dropped_total{what=\"event\"} 1")) << text;
  // Collecting twice does not double-count.
  const std::string again = sdk->metrics().Expose(ExpositionFormat::kPrometheusText);
  EXPECT_TRUE(Contains(again, "otel_sdk_span_limit_dropped_total{what=\"event\"} 1")) << again;
}

TEST(TelemetrySdkTest, DisabledSdkIsNoOpButKeepsBuildInfoAndStderrLogs) {
  core::MapEnv env{{"OTEL_SDK_DISABLED", "true"}};
  Lines lines;
  SdkOverrides o;
  o.log_writer = lines.Writer();
  auto sdk = TelemetrySdk::Create(TelemetryConfig::FromEnv(env, "svc"),
                                  core::SystemClock::Instance(), std::move(o));
  EXPECT_EQ(sdk->span_processor(), nullptr);
  EXPECT_EQ(sdk->log_processor(), nullptr);
  Span s = sdk->telemetry().tracer.StartSpan("x");
  EXPECT_FALSE(s.IsRecording());
  EXPECT_FALSE(s.Context().IsValid());
  const std::string text = sdk->metrics().Expose(ExpositionFormat::kPrometheusText);
  EXPECT_TRUE(Contains(text, "chat_build_info{")) << text;
  auto configured = lines.WithMsg("telemetry configured");
  ASSERT_EQ(configured.size(), 1u);
  EXPECT_EQ(configured[0]["otel.sdk.disabled"], true);
  EXPECT_TRUE(sdk->Shutdown(1s));
}

TEST(TelemetrySdkTest, ConfigWarningsBecomeOneWarnLineEach) {
  core::MapEnv env{{"OTEL_TRACES_SAMPLER", "nope"},
                   {"OTEL_BSP_MAX_QUEUE_SIZE", "x"},
                   {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=secret-token,broken"},
                   {"OTEL_TRACES_EXPORTER", "none"},
                   {"OTEL_LOGS_EXPORTER", "none"}};
  Lines lines;
  SdkOverrides o;
  o.log_writer = lines.Writer();
  auto sdk = TelemetrySdk::Create(TelemetryConfig::FromEnv(env, "svc"),
                                  core::SystemClock::Instance(), std::move(o));
  auto warns = lines.WithMsg("telemetry configuration value ignored");
  ASSERT_EQ(warns.size(), 3u);
  for (const auto& w : warns) EXPECT_EQ(w["level"], "WARN");
  auto configured = lines.WithMsg("telemetry configured");
  ASSERT_EQ(configured.size(), 1u);
  EXPECT_EQ(configured[0]["otel.exporter.otlp.header_names"], "authorization");
  std::lock_guard lock(lines.mu);
  for (const auto& l : lines.lines) EXPECT_FALSE(Contains(l, "secret-token")) << l;
  // traces exporter "none": spans still get sampled ids (for logs and propagation).
  EXPECT_NE(sdk->span_processor(), nullptr);
  EXPECT_EQ(sdk->log_processor(), nullptr);
}

TEST(TelemetrySdkTest, RealOtlpExporterFailureIsCountedNotFatal) {
  // Nothing listens on port 1: the exporter gets a connection error, the span is counted, and
  // neither Create nor Shutdown fails or hangs past its budget.
  core::MapEnv env{{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"},
                   {"OTEL_BSP_EXPORT_TIMEOUT", "300"},
                   {"OTEL_BLRP_EXPORT_TIMEOUT", "300"}};
  Lines lines;
  SdkOverrides o;
  o.log_writer = lines.Writer();
  auto sdk = TelemetrySdk::Create(TelemetryConfig::FromEnv(env, "svc"),
                                  core::SystemClock::Instance(), std::move(o));
  ASSERT_NE(sdk->span_processor(), nullptr);
  { Span s = sdk->telemetry().tracer.StartSpan("x"); }
  sdk->Shutdown(10s);
  const ProcessorStats& st = sdk->span_processor()->stats();
  EXPECT_EQ(st.processed(), 1u);
  EXPECT_EQ(st.exported(ExportResult::kSuccess), 0u);
  EXPECT_EQ(st.exported(ExportResult::kConnectionError) + st.exported(ExportResult::kTimeout), 1u);
}

}  // namespace
}  // namespace chat::telemetry::sdk

// TelemetrySdk: everything main() needs, built from a TelemetryConfig: resource, sampler, OTLP
// exporters, batch processors, TracerProvider, Logger and the MetricRegistry with the SDK
// self-metrics of docs/observability.md §6.2 (all label values created at 0) and chat_build_info.
// Initialisation never fails: OTEL_SDK_DISABLED or an unusable exporter leaves no-op tracing and
// stderr-only logs. Shutdown() flushes traces, then logs, within one budget (style rule 13).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include "chat/core/clock.hpp"
#include "chat/telemetry/sdk/batch_processor.hpp"
#include "chat/telemetry/sdk/config.hpp"
#include "chat/telemetry/sdk/exporter.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::telemetry::sdk {

// Test seams: replace the exporters chosen by the config, capture the JSON log lines.
struct SdkOverrides {
  std::unique_ptr<SpanExporter> span_exporter;
  std::unique_ptr<LogExporter> log_exporter;
  Logger::LineWriter log_writer;  // empty → stderr
};

class TelemetrySdk {
 public:
  static std::unique_ptr<TelemetrySdk> Create(const TelemetryConfig& config,
                                              const core::Clock& clock,
                                              SdkOverrides overrides = {});
  ~TelemetrySdk();  // Shutdown(5 s) unless already shut down
  TelemetrySdk(const TelemetrySdk&) = delete;
  TelemetrySdk& operator=(const TelemetrySdk&) = delete;

  const Telemetry& telemetry() const { return telemetry_; }
  MetricRegistry& metrics() { return *metrics_; }
  TracerProvider& tracer_provider() { return *provider_; }
  Logger& logger() { return *logger_; }
  const TelemetryConfig& config() const { return config_; }

  // Null when tracing/log export is off (disabled, or no processor for that signal).
  const BatchSpanProcessor* span_processor() const { return span_processor_; }
  const BatchLogProcessor* log_processor() const { return log_processor_; }

  // ForceFlush + Shutdown of traces, then logs, all within `budget`. True if everything was
  // exported in time. Idempotent.
  bool Shutdown(std::chrono::milliseconds budget);

 private:
  TelemetrySdk(TelemetryConfig config, const core::Clock& clock);
  void RegisterSelfMetrics();
  void CollectSelfMetrics();

  TelemetryConfig config_;
  const core::Clock& clock_;
  std::unique_ptr<TracerProvider> provider_;
  std::unique_ptr<Logger> logger_;
  BatchSpanProcessor* span_processor_ = nullptr;  // owned by provider_
  BatchLogProcessor* log_processor_ = nullptr;    // owned by logger_
  std::mutex shutdown_mu_;
  bool shut_down_ = false;

  struct SelfMetrics;
  std::unique_ptr<SelfMetrics> self_;
  // Declared last, destroyed first: its collect callbacks point into the members above.
  std::unique_ptr<MetricRegistry> metrics_;
  Telemetry telemetry_;
};

}  // namespace chat::telemetry::sdk

// In-memory exporters and a ready-made test bundle. Every test in the repository that checks
// spans or logs builds an InMemoryTelemetry: an always_on TracerProvider with a synchronous
// processor (a span is visible as soon as it ended), a Logger whose JSON lines and OTLP records
// are captured, and a private MetricRegistry.
//
//   sdk::InMemoryTelemetry t;
//   DoWork(t.telemetry());
//   auto span = t.FindSpan("process chat.room.create");   // std::optional<SpanData>
//   EXPECT_EQ(t.LogLines().size(), 1u);
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/telemetry/sdk/exporter.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::telemetry::sdk {

// Shared store behind the exporters, so the test keeps access after the exporter has been
// moved into a processor. Thread-safe; accessors return copies.
class InMemorySpanStore {
 public:
  void Add(const SpanData& span);
  std::vector<SpanData> Spans() const;
  size_t Count() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::vector<SpanData> spans_;
};

class InMemoryLogStore {
 public:
  void Add(const LogRecordData& record);
  std::vector<LogRecordData> Records() const;
  size_t Count() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::vector<LogRecordData> records_;
};

class InMemorySpanExporter final : public SpanExporter {
 public:
  explicit InMemorySpanExporter(
      std::shared_ptr<InMemorySpanStore> store = std::make_shared<InMemorySpanStore>())
      : store_(std::move(store)) {}
  ExportResult Export(const std::vector<std::unique_ptr<SpanData>>& batch,
                      std::chrono::milliseconds timeout) override;
  const std::shared_ptr<InMemorySpanStore>& store() const { return store_; }

 private:
  std::shared_ptr<InMemorySpanStore> store_;
};

class InMemoryLogExporter final : public LogExporter {
 public:
  explicit InMemoryLogExporter(
      std::shared_ptr<InMemoryLogStore> store = std::make_shared<InMemoryLogStore>())
      : store_(std::move(store)) {}
  ExportResult Export(const std::vector<std::unique_ptr<LogRecordData>>& batch,
                      std::chrono::milliseconds timeout) override;
  const std::shared_ptr<InMemoryLogStore>& store() const { return store_; }

 private:
  std::shared_ptr<InMemoryLogStore> store_;
};

// Attribute helpers for assertions (nullptr / nullopt when absent or of another type).
const AttributeValue* FindAttribute(const std::vector<Attribute>& attrs, std::string_view key);
const AttributeValue* FindAttribute(const SpanData& span, std::string_view key);
std::optional<std::string> StringAttribute(const SpanData& span, std::string_view key);
std::optional<int64_t> IntAttribute(const SpanData& span, std::string_view key);
const SpanEvent* FindEvent(const SpanData& span, std::string_view name);

struct InMemoryTelemetryOptions {
  std::string service_name = "test-service";
  LogLevel log_threshold = LogLevel::kDebug;
  SpanLimits limits;
  std::unique_ptr<Sampler> sampler;  // null → always_on
  bool echo_logs_to_stderr = false;
};

class InMemoryTelemetry {
 public:
  explicit InMemoryTelemetry(const core::Clock& clock = core::SystemClock::Instance());
  InMemoryTelemetry(InMemoryTelemetryOptions options, const core::Clock& clock);
  ~InMemoryTelemetry();
  InMemoryTelemetry(const InMemoryTelemetry&) = delete;
  InMemoryTelemetry& operator=(const InMemoryTelemetry&) = delete;

  // The bundle to hand to the code under test; valid as long as this object lives.
  const Telemetry& telemetry() const { return telemetry_; }
  Tracer tracer() const { return telemetry_.tracer; }
  TracerProvider& tracer_provider() { return *provider_; }
  Logger& logger() { return *logger_; }
  MetricRegistry& metrics() { return *metrics_; }

  // Finished spans in the order they ended.
  std::vector<SpanData> Spans() const { return spans_->Spans(); }
  size_t SpanCount() const { return spans_->Count(); }
  // The first finished span with this name.
  std::optional<SpanData> FindSpan(std::string_view name) const;
  std::vector<SpanData> FindSpans(std::string_view name) const;

  // The JSON lines the logger wrote (without the trailing newline) and the OTLP records.
  std::vector<std::string> LogLines() const;
  std::vector<LogRecordData> LogRecords() const { return logs_->Records(); }

  void Clear();

 private:
  std::shared_ptr<InMemorySpanStore> spans_;
  std::shared_ptr<InMemoryLogStore> logs_;
  mutable std::mutex lines_mu_;
  std::vector<std::string> lines_;
  std::unique_ptr<MetricRegistry> metrics_;
  std::unique_ptr<TracerProvider> provider_;
  std::unique_ptr<Logger> logger_;
  Telemetry telemetry_;
};

}  // namespace chat::telemetry::sdk

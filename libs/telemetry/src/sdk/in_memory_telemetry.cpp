// InMemoryTelemetry lives apart from the exporters so that tests using only the exporters do not
// pull in the MetricRegistry.
#include <cstdio>

#include "chat/telemetry/sdk/batch_processor.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/sdk/sampler.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::telemetry::sdk {

InMemoryTelemetry::InMemoryTelemetry(const core::Clock& clock)
    : InMemoryTelemetry(InMemoryTelemetryOptions{}, clock) {}

InMemoryTelemetry::InMemoryTelemetry(InMemoryTelemetryOptions options, const core::Clock& clock)
    : spans_(std::make_shared<InMemorySpanStore>()),
      logs_(std::make_shared<InMemoryLogStore>()),
      metrics_(std::make_unique<MetricRegistry>()) {
  Resource resource;
  resource.attributes.push_back({std::string(semconv::kServiceName), options.service_name});
  std::unique_ptr<Sampler> sampler =
      options.sampler != nullptr ? std::move(options.sampler) : MakeAlwaysOnSampler();
  provider_ = std::make_unique<TracerProvider>(
      std::move(resource), std::move(sampler),
      std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(spans_)),
      options.limits, clock);
  const bool echo = options.echo_logs_to_stderr;
  logger_ = std::make_unique<Logger>(
      options.service_name, options.log_threshold,
      std::make_unique<SimpleLogProcessor>(std::make_unique<InMemoryLogExporter>(logs_)), clock,
      [this, echo](std::string_view line) {
        if (echo) std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
        std::lock_guard lock(lines_mu_);
        lines_.emplace_back(line);
      });
  telemetry_.tracer = provider_->GetTracer();
  telemetry_.logger = logger_.get();
  telemetry_.metrics = metrics_.get();
}

InMemoryTelemetry::~InMemoryTelemetry() = default;

std::optional<SpanData> InMemoryTelemetry::FindSpan(std::string_view name) const {
  for (SpanData& s : spans_->Spans()) {
    if (s.name == name) return std::move(s);
  }
  return std::nullopt;
}

std::vector<SpanData> InMemoryTelemetry::FindSpans(std::string_view name) const {
  std::vector<SpanData> out;
  for (SpanData& s : spans_->Spans()) {
    if (s.name == name) out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> InMemoryTelemetry::LogLines() const {
  std::lock_guard lock(lines_mu_);
  return lines_;
}

void InMemoryTelemetry::Clear() {
  spans_->Clear();
  logs_->Clear();
  std::lock_guard lock(lines_mu_);
  lines_.clear();
}

}  // namespace chat::telemetry::sdk

// Exporter interfaces shared by the batch processors and the OTLP/in-memory exporters.
// Export is called from the processor's own thread, one batch at a time, never concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "chat/telemetry/log.hpp"
#include "chat/telemetry/span_data.hpp"

namespace chat::telemetry::sdk {

// Outcome of one export call; the names are the `error_type` label values of
// otel_sdk_exporter_{span,log}_exported_total ("" = success).
enum class ExportResult { kSuccess, kTimeout, kHttp4xx, kHttp5xx, kConnectionError };
std::string_view ExportErrorType(ExportResult r);

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Retries (if any) happen inside, within `timeout`.
  virtual ExportResult Export(const std::vector<std::unique_ptr<SpanData>>& batch,
                              std::chrono::milliseconds timeout) = 0;
  virtual void Shutdown() {}
};

class LogExporter {
 public:
  virtual ~LogExporter() = default;
  virtual ExportResult Export(const std::vector<std::unique_ptr<LogRecordData>>& batch,
                              std::chrono::milliseconds timeout) = 0;
  virtual void Shutdown() {}
};

}  // namespace chat::telemetry::sdk

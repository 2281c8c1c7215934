// OTLP/HTTP exporters (libcurl): protobuf by default or JSON, gzip by default, retry with
// exponential backoff and jitter on 429/502/503/504 and on connection errors, honouring
// Retry-After (seconds or HTTP date), always within the export timeout. 400 and other 4xx are
// dropped without retry. Called from one processor thread; not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/telemetry/sdk/exporter.hpp"

namespace chat::telemetry::sdk {

struct OtlpHttpOptions {
  std::string url;  // full URL, e.g. http://localhost:4318/v1/traces
  bool json = false;
  bool gzip = true;
  std::vector<std::pair<std::string, std::string>> headers;  // OTEL_EXPORTER_OTLP_HEADERS
};

std::unique_ptr<SpanExporter> MakeOtlpHttpSpanExporter(OtlpHttpOptions options, Resource resource,
                                                       InstrumentationScope scope);
std::unique_ptr<LogExporter> MakeOtlpHttpLogExporter(OtlpHttpOptions options, Resource resource,
                                                     InstrumentationScope scope);

}  // namespace chat::telemetry::sdk

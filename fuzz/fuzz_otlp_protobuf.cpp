// OTLP/protobuf decoding (telemetry sink, POST /v1/traces, /v1/logs, /v1/metrics): the body any
// exporter — or anyone who can reach the sink — sends. Each decoder gets the same bytes, and the
// gzip reader with the sink's kind of bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chat/telemetry/receiver/otlp_decode.hpp"
#include "chat/telemetry/sdk/otlp.hpp"

namespace sdk = chat::telemetry::sdk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto spans = sdk::DecodeTracesProtobuf(body);
  if (spans.ok()) {
    for (const auto& s : *spans) {
      if (s.resource == nullptr) std::abort();
    }
  }
  (void)sdk::DecodeLogsProtobuf(body);
  (void)sdk::CountMetricPointsProtobuf(body);
  constexpr size_t kMaxInflated = 1 << 20;
  auto inflated = sdk::Gunzip(body, kMaxInflated);
  if (inflated.ok() && inflated->size() > kMaxInflated) std::abort();
  return 0;
}

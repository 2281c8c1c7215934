// OTLP/JSON decoding (telemetry sink, Content-Type: application/json): the web client's exporter
// and any page that can reach the sink send it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chat/telemetry/receiver/otlp_decode.hpp"

namespace sdk = chat::telemetry::sdk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto spans = sdk::DecodeTracesJson(body);
  if (spans.ok()) {
    for (const auto& s : *spans) {
      if (s.resource == nullptr) std::abort();
    }
  }
  (void)sdk::DecodeLogsJson(body);
  (void)sdk::CountMetricPointsJson(body);
  return 0;
}

// OpenTelemetry span and log-record limits applied by the sink to what it stores (issue 11 §8):
// any page or process that can post OTLP could otherwise store spans with millions of
// attributes, events or links, or megabyte values. Excess attributes, events and links are
// dropped (the OTLP dropped_* counts grow accordingly) and string values longer than the value
// limit are truncated at a UTF-8 character boundary, as the SDK specification defines them.
#pragma once

#include <cstdint>
#include <vector>

#include "chat/telemetry/receiver/otlp_decode.hpp"
#include "config.hpp"

namespace chat::sink {

// What one call dropped or truncated, for the sink's counters.
struct LimitCounts {
  uint64_t attributes = 0;        // span attributes dropped
  uint64_t events = 0;            // span events dropped
  uint64_t links = 0;             // span links dropped
  uint64_t event_attributes = 0;  // attributes dropped from kept events
  uint64_t link_attributes = 0;   // attributes dropped from kept links
  uint64_t log_attributes = 0;    // log-record attributes dropped
  uint64_t truncated_values = 0;  // string values cut to the length limit
};

void ApplySpanLimits(std::vector<telemetry::sdk::DecodedSpan>& spans, const SpanLimits& limits,
                     LimitCounts& counts);
void ApplyLogLimits(std::vector<telemetry::sdk::DecodedLogRecord>& records,
                    const SpanLimits& limits, LimitCounts& counts);

}  // namespace chat::sink

#include "span_limits.hpp"

#include <string>
#include <variant>

namespace chat::sink {
namespace {

using telemetry::sdk::DecodedAttribute;

// Cuts `s` to at most `limit` bytes without splitting a UTF-8 sequence. True when it cut.
bool Truncate(std::string& s, size_t limit) {
  if (limit == 0 || s.size() <= limit) return false;
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s.shrink_to_fit();
  return true;
}

// Keeps the first `max_count` attributes (the order the sender gave) and truncates values.
// Returns how many were dropped.
uint64_t LimitAttributes(std::vector<DecodedAttribute>& attrs, size_t max_count,
                         size_t value_length, uint64_t& truncated) {
  uint64_t dropped = 0;
  if (attrs.size() > max_count) {
    dropped = attrs.size() - max_count;
    attrs.resize(max_count);
    attrs.shrink_to_fit();
  }
  for (DecodedAttribute& a : attrs) {
    if (auto* s = std::get_if<std::string>(&a.value); s != nullptr && Truncate(*s, value_length)) {
      ++truncated;
    }
  }
  return dropped;
}

uint32_t Saturating(uint32_t base, uint64_t add) {
  uint64_t sum = uint64_t{base} + add;
  return sum > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(sum);
}

}  // namespace

void ApplySpanLimits(std::vector<telemetry::sdk::DecodedSpan>& spans, const SpanLimits& limits,
                     LimitCounts& counts) {
  const size_t len = limits.attribute_value_length;
  for (auto& span : spans) {
    uint64_t dropped =
        LimitAttributes(span.attributes, limits.attribute_count, len, counts.truncated_values);
    counts.attributes += dropped;
    span.dropped_attributes = Saturating(span.dropped_attributes, dropped);
    if (span.events.size() > limits.event_count) {
      uint64_t n = span.events.size() - limits.event_count;
      span.events.resize(limits.event_count);
      span.events.shrink_to_fit();
      counts.events += n;
      span.dropped_events = Saturating(span.dropped_events, n);
    }
    if (span.links.size() > limits.link_count) {
      uint64_t n = span.links.size() - limits.link_count;
      span.links.resize(limits.link_count);
      span.links.shrink_to_fit();
      counts.links += n;
      span.dropped_links = Saturating(span.dropped_links, n);
    }
    for (auto& e : span.events) {
      counts.event_attributes +=
          LimitAttributes(e.attributes, limits.event_attribute_count, len, counts.truncated_values);
    }
    for (auto& l : span.links) {
      counts.link_attributes +=
          LimitAttributes(l.attributes, limits.link_attribute_count, len, counts.truncated_values);
    }
    // Not attributes, but as unbounded: names and status messages get the value limit too.
    if (Truncate(span.name, len)) ++counts.truncated_values;
    if (Truncate(span.status_message, len)) ++counts.truncated_values;
    for (auto& e : span.events) {
      if (Truncate(e.name, len)) ++counts.truncated_values;
    }
  }
}

void ApplyLogLimits(std::vector<telemetry::sdk::DecodedLogRecord>& records,
                    const SpanLimits& limits, LimitCounts& counts) {
  for (auto& r : records) {
    counts.log_attributes +=
        LimitAttributes(r.attributes, limits.log_attribute_count, limits.log_attribute_value_length,
                        counts.truncated_values);
  }
}

}  // namespace chat::sink

// Baseline for bench/otlp_bench.cpp (docs/style.md rule 17): the simplest correct OTLP protobuf
// encoder, which serializes every nested message (AnyValue, KeyValue, Span, ...) into its own
// std::string and copies it into its parent, the allocation and copy pattern of building protobuf
// message objects first. Covers the span fields the benchmark batch uses.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "chat/telemetry/span_data.hpp"

namespace chat::bench {

using chat::telemetry::AttributeValue;
using chat::telemetry::InstrumentationScope;
using chat::telemetry::Resource;
using chat::telemetry::SpanData;

inline void NaiveVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
inline void NaiveTag(std::string& out, uint32_t field, uint32_t wt) {
  NaiveVarint(out, (field << 3) | wt);
}
inline void NaiveLen(std::string& out, uint32_t field, const std::string& payload) {
  NaiveTag(out, field, 2);
  NaiveVarint(out, payload.size());
  out += payload;
}
inline void NaiveFixed(std::string& out, uint32_t field, uint64_t v, int bytes) {
  NaiveTag(out, field, bytes == 8 ? 1 : 5);
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline std::string NaiveAnyValue(const AttributeValue& v) {
  std::string m;
  if (const auto* b = std::get_if<bool>(&v)) {
    NaiveTag(m, 2, 0);
    NaiveVarint(m, *b ? 1 : 0);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    NaiveTag(m, 3, 0);
    NaiveVarint(m, static_cast<uint64_t>(*i));
  } else if (const auto* d = std::get_if<double>(&v)) {
    uint64_t bits = 0;
    std::memcpy(&bits, d, 8);
    NaiveFixed(m, 4, bits, 8);
  } else {
    NaiveLen(m, 1, std::get<std::string>(v));
  }
  return m;
}
inline std::string NaiveKeyValue(std::string_view key, const AttributeValue& v) {
  std::string m;
  if (!key.empty()) NaiveLen(m, 1, std::string(key));
  NaiveLen(m, 2, NaiveAnyValue(v));
  return m;
}
inline std::string NaiveSpan(const SpanData& s) {
  std::string m;
  auto bytes = [](const auto& id) {
    return std::string(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  };
  NaiveLen(m, 1, bytes(s.trace_id));
  NaiveLen(m, 2, bytes(s.span_id));
  if (!s.trace_state.empty()) NaiveLen(m, 3, s.trace_state);
  NaiveLen(m, 4, bytes(s.parent_span_id));  // the bench batch has parents throughout
  if (!s.name.empty()) NaiveLen(m, 5, s.name);
  NaiveTag(m, 6, 0);
  NaiveVarint(m, static_cast<uint64_t>(s.kind));
  NaiveFixed(m, 7, static_cast<uint64_t>(s.start_unix_nano), 8);
  NaiveFixed(m, 8, static_cast<uint64_t>(s.end_unix_nano), 8);
  for (const auto& a : s.attributes) NaiveLen(m, 9, NaiveKeyValue(a.key, a.value));
  if (s.trace_flags != 0) NaiveFixed(m, 16, s.trace_flags, 4);
  return m;
}
inline void NaiveEncode(const Resource& resource, const InstrumentationScope& scope,
                        const std::vector<std::unique_ptr<SpanData>>& spans, std::string& out) {
  std::string res;
  for (const auto& a : resource.attributes) NaiveLen(res, 1, NaiveKeyValue(a.key, a.value));
  std::string sc;
  if (!scope.name.empty()) NaiveLen(sc, 1, scope.name);
  if (!scope.version.empty()) NaiveLen(sc, 2, scope.version);
  std::string scope_spans;
  NaiveLen(scope_spans, 1, sc);
  for (const auto& s : spans) NaiveLen(scope_spans, 2, NaiveSpan(*s));
  std::string resource_spans;
  NaiveLen(resource_spans, 1, res);
  NaiveLen(resource_spans, 2, scope_spans);
  out.clear();
  NaiveLen(out, 1, resource_spans);
}

}  // namespace chat::bench

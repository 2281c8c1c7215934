// Builders shared by the sink tests: spans and log records encoded with the real OTLP encoders,
// and a small parser for the text exposition so assertions name series, not line layouts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "chat/telemetry/log.hpp"
#include "chat/telemetry/sdk/otlp.hpp"
#include "chat/telemetry/span_data.hpp"

namespace chat::sink::test {

using telemetry::Attribute;
using telemetry::SpanData;
using telemetry::SpanId;
using telemetry::SpanKind;
using telemetry::StatusCode;
using telemetry::TraceId;

inline TraceId Tid(uint8_t n) {
  TraceId t;
  t.bytes.fill(0);
  t.bytes[0] = 0xab;
  t.bytes[15] = n;
  return t;
}

inline SpanId Sid(uint8_t n) {
  SpanId s;
  s.bytes.fill(0);
  s.bytes[0] = 0xcd;
  s.bytes[7] = n;
  return s;
}

inline constexpr int64_t kT0 = 1'700'000'000'000'000'000;

inline std::unique_ptr<SpanData> MakeSpan(TraceId trace, SpanId id, SpanId parent, std::string name,
                                          SpanKind kind, int64_t start_offset_ns,
                                          int64_t duration_ns,
                                          StatusCode status = StatusCode::kUnset) {
  auto s = std::make_unique<SpanData>();
  s->trace_id = trace;
  s->span_id = id;
  s->parent_span_id = parent;
  s->trace_flags = 1;
  s->name = std::move(name);
  s->kind = kind;
  s->start_unix_nano = kT0 + start_offset_ns;
  s->end_unix_nano = kT0 + start_offset_ns + duration_ns;
  s->status_code = status;
  return s;
}

inline telemetry::Resource MakeResource(const std::string& service) {
  telemetry::Resource r;
  r.attributes.push_back({"service.name", service});
  r.attributes.push_back({"deployment.environment.name", std::string("test")});
  return r;
}

using SpanList = std::vector<std::unique_ptr<SpanData>>;

inline std::string EncodeTraces(const std::string& service, const SpanList& spans,
                                bool json = false) {
  std::string out;
  telemetry::InstrumentationScope scope{"sink-test", "1"};
  if (json) {
    telemetry::sdk::EncodeTracesJson(MakeResource(service), scope, spans, out);
  } else {
    telemetry::sdk::EncodeTracesProtobuf(MakeResource(service), scope, spans, out);
  }
  return out;
}

inline std::unique_ptr<telemetry::LogRecordData> MakeLog(telemetry::LogLevel level,
                                                         std::string body, TraceId trace,
                                                         SpanId span, int64_t offset_ns) {
  auto r = std::make_unique<telemetry::LogRecordData>();
  r->time_unix_nano = kT0 + offset_ns;
  r->level = level;
  r->body = std::move(body);
  r->trace_id = trace;
  r->span_id = span;
  r->trace_flags = 1;
  return r;
}

using LogList = std::vector<std::unique_ptr<telemetry::LogRecordData>>;

inline std::string EncodeLogs(const std::string& service, const LogList& logs, bool json = false) {
  std::string out;
  telemetry::InstrumentationScope scope{"sink-test", "1"};
  if (json) {
    telemetry::sdk::EncodeLogsJson(MakeResource(service), scope, logs, out);
  } else {
    telemetry::sdk::EncodeLogsProtobuf(MakeResource(service), scope, logs, out);
  }
  return out;
}

// One sample of a Prometheus/OpenMetrics text exposition.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
  std::string exemplar;  // text after " # " (OpenMetrics), if any
};

inline std::vector<Sample> ParseExposition(const std::string& text) {
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        std::string key = line.substr(i, eq - i);
        size_t q = eq + 2;  // after ="
        std::string value;
        while (q < line.size() && line[q] != '"') {
          if (line[q] == '\\' && q + 1 < line.size()) {
            ++q;
            value += line[q] == 'n' ? '\n' : line[q];
          } else {
            value += line[q];
          }
          ++q;
        }
        s.labels[key] = value;
        i = q + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    while (i < line.size() && line[i] == ' ') ++i;
    size_t end = line.find(' ', i);
    s.value = std::stod(line.substr(i, end - i));
    size_t hash = line.find(" # ", i);
    if (hash != std::string::npos) s.exemplar = line.substr(hash + 3);
    out.push_back(std::move(s));
  }
  return out;
}

// The value of the one sample whose name matches and whose labels include `labels`.
inline std::optional<double> FindSample(const std::vector<Sample>& samples, const std::string& name,
                                        const std::map<std::string, std::string>& labels) {
  std::optional<double> found;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      std::string have = it == s.labels.end() ? std::string() : it->second;
      if (have != v) match = false;
    }
    if (match) {
      if (found) return std::nullopt;  // ambiguous: the test must name more labels
      found = s.value;
    }
  }
  return found;
}

}  // namespace chat::sink::test

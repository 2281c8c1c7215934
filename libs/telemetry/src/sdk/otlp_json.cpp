// OTLP/JSON encoders (lowerCamelCase keys, hex ids, enums as integers, 64-bit integers as decimal
// strings), written straight into the output string, plus the hex/base64/UTF-8 helpers that the
// JSON decoder shares. Invalid UTF-8 in a value is replaced by U+FFFD so the body always parses.
#include <charconv>
#include <cmath>
#include <variant>

#include "chat/core/base64.hpp"
#include "chat/telemetry/sdk/otlp.hpp"
#include "otlp_wire.hpp"

namespace chat::telemetry::sdk {
namespace wire {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as in RFC 3629).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  size_t left = s.size() - i;
  auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsValidUtf8Slow(std::string_view s, size_t from) {
  size_t i = from;
  const size_t n = s.size();
  while (i < n) {
    // ASCII fast path, eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t chunk = 0;
      std::memcpy(&chunk, s.data() + i, 8);
      if ((chunk & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

void AppendHex(const uint8_t* bytes, size_t n, std::string& out) {
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHexDigits[bytes[i] >> 4]);
    out.push_back(kHexDigits[bytes[i] & 0xF]);
  }
}

bool DecodeId(std::string_view text, uint8_t* out, size_t n) {
  if (text.size() == 2 * n) {
    for (size_t i = 0; i < n; ++i) {
      int hi = HexValue(text[2 * i]);
      int lo = HexValue(text[2 * i + 1]);
      if (hi < 0 || lo < 0) return false;
      out[i] = static_cast<uint8_t>((hi << 4) | lo);
    }
    return true;
  }
  auto raw = core::Base64AnyDecode(text);
  if (!raw.ok() || raw->size() != n) return false;
  std::memcpy(out, raw->data(), n);
  return true;
}

}  // namespace wire

namespace {

void AppendEscaped(std::string_view s, std::string& out) {
  out.push_back('"');
  bool valid = wire::IsValidUtf8(s);
  std::string fixed;
  if (!valid) {
    fixed = wire::SanitizeUtf8(s);
    s = fixed;
  }
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        const char* hex = "0123456789abcdef";
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
      }
    }
  }
  out.append(s.substr(run));
  out.push_back('"');
}

template <typename T>
void AppendInt(T v, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// proto3 JSON: 64-bit integers are strings.
void AppendInt64String(int64_t v, std::string& out) {
  out.push_back('"');
  AppendInt(v, out);
  out.push_back('"');
}

void AppendDouble(double d, std::string& out) {
  if (std::isnan(d)) {
    out += "\"NaN\"";
  } else if (std::isinf(d)) {
    out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, r.ptr);
  }
}

void AppendAnyValue(const AttributeValue& v, std::string& out) {
  switch (v.index()) {
    case 0: out += std::get<bool>(v) ? "{\"boolValue\":true}" : "{\"boolValue\":false}"; break;
    case 1:
      out += "{\"intValue\":";
      AppendInt64String(std::get<int64_t>(v), out);
      out.push_back('}');
      break;
    case 2:
      out += "{\"doubleValue\":";
      AppendDouble(std::get<double>(v), out);
      out.push_back('}');
      break;
    default:
      out += "{\"stringValue\":";
      AppendEscaped(std::get<std::string>(v), out);
      out.push_back('}');
      break;
  }
}

template <typename Attrs>
void AppendAttributes(const Attrs& attrs, std::string& out) {
  out += "\"attributes\":[";
  bool first = true;
  for (const auto& a : attrs) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"key\":";
    AppendEscaped(a.key, out);
    out += ",\"value\":";
    AppendAnyValue(a.value, out);
    out.push_back('}');
  }
  out.push_back(']');
}

template <size_t N>
void AppendIdField(std::string_view name, const std::array<uint8_t, N>& id, std::string& out) {
  out.push_back('"');
  out += name;
  out += "\":\"";
  wire::AppendHex(id.data(), N, out);
  out.push_back('"');
}

void AppendEnvelopeOpen(std::string_view resource_key, std::string_view scope_key,
                        std::string_view items_key, const Resource& resource,
                        const InstrumentationScope& scope, std::string& out) {
  out += "{\"";
  out += resource_key;
  out += R"(":[{"resource":{)";
  AppendAttributes(resource.attributes, out);
  out += "},\"";
  out += scope_key;
  out += R"(":[{"scope":{"name":)";
  AppendEscaped(scope.name, out);
  if (!scope.version.empty()) {
    out += ",\"version\":";
    AppendEscaped(scope.version, out);
  }
  out += "},\"";
  out += items_key;
  out += "\":[";
}

void AppendSpan(const SpanData& s, std::string& out) {
  out.push_back('{');
  AppendIdField("traceId", s.trace_id.bytes, out);
  out.push_back(',');
  AppendIdField("spanId", s.span_id.bytes, out);
  if (!s.trace_state.empty()) {
    out += ",\"traceState\":";
    AppendEscaped(s.trace_state, out);
  }
  if (wire::IsNonZero(s.parent_span_id.bytes)) {
    out.push_back(',');
    AppendIdField("parentSpanId", s.parent_span_id.bytes, out);
  }
  if (s.trace_flags != 0) {
    out += ",\"flags\":";
    AppendInt(static_cast<unsigned>(s.trace_flags), out);
  }
  out += ",\"name\":";
  AppendEscaped(s.name, out);
  out += ",\"kind\":";
  AppendInt(static_cast<int>(s.kind), out);
  out += ",\"startTimeUnixNano\":";
  AppendInt64String(s.start_unix_nano, out);
  out += ",\"endTimeUnixNano\":";
  AppendInt64String(s.end_unix_nano, out);
  out.push_back(',');
  AppendAttributes(s.attributes, out);
  if (s.dropped_attributes != 0) {
    out += ",\"droppedAttributesCount\":";
    AppendInt(s.dropped_attributes, out);
  }
  if (!s.events.empty()) {
    out += ",\"events\":[";
    for (size_t i = 0; i < s.events.size(); ++i) {
      const SpanEvent& e = s.events[i];
      if (i != 0) out.push_back(',');
      out += "{\"timeUnixNano\":";
      AppendInt64String(e.time_unix_nano, out);
      out += ",\"name\":";
      AppendEscaped(e.name, out);
      out.push_back(',');
      AppendAttributes(e.attributes, out);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (s.dropped_events != 0) {
    out += ",\"droppedEventsCount\":";
    AppendInt(s.dropped_events, out);
  }
  if (!s.links.empty()) {
    out += ",\"links\":[";
    for (size_t i = 0; i < s.links.size(); ++i) {
      const SpanLink& l = s.links[i];
      if (i != 0) out.push_back(',');
      out.push_back('{');
      AppendIdField("traceId", l.context.trace_id.bytes, out);
      out.push_back(',');
      AppendIdField("spanId", l.context.span_id.bytes, out);
      if (!l.context.trace_state.empty()) {
        out += ",\"traceState\":";
        AppendEscaped(l.context.trace_state, out);
      }
      out.push_back(',');
      AppendAttributes(l.attributes, out);
      if (l.context.trace_flags != 0) {
        out += ",\"flags\":";
        AppendInt(static_cast<unsigned>(l.context.trace_flags), out);
      }
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (s.dropped_links != 0) {
    out += ",\"droppedLinksCount\":";
    AppendInt(s.dropped_links, out);
  }
  if (s.status_code != StatusCode::kUnset || !s.status_message.empty()) {
    out += ",\"status\":{";
    bool comma = false;
    if (!s.status_message.empty()) {
      out += "\"message\":";
      AppendEscaped(s.status_message, out);
      comma = true;
    }
    if (s.status_code != StatusCode::kUnset) {
      if (comma) out.push_back(',');
      out += "\"code\":";
      AppendInt(static_cast<int>(s.status_code), out);
    }
    out.push_back('}');
  }
  out.push_back('}');
}

void AppendLogRecord(const LogRecordData& r, std::string& out) {
  out += "{\"timeUnixNano\":";
  AppendInt64String(r.time_unix_nano, out);
  // Our logger hands records over as they are made, so observed time equals event time.
  out += ",\"observedTimeUnixNano\":";
  AppendInt64String(r.time_unix_nano, out);
  out += ",\"severityNumber\":";
  AppendInt(static_cast<int>(r.level), out);
  out += R"(,"severityText":")";
  out += wire::SeverityText(r.level);
  out += R"(","body":{"stringValue":)";
  AppendEscaped(r.body, out);
  out += "},";
  AppendAttributes(r.attributes, out);
  if (r.trace_flags != 0) {
    out += ",\"flags\":";
    AppendInt(static_cast<unsigned>(r.trace_flags), out);
  }
  if (wire::IsNonZero(r.trace_id.bytes)) {
    out.push_back(',');
    AppendIdField("traceId", r.trace_id.bytes, out);
  }
  if (wire::IsNonZero(r.span_id.bytes)) {
    out.push_back(',');
    AppendIdField("spanId", r.span_id.bytes, out);
  }
  out.push_back('}');
}

}  // namespace

void EncodeTracesJson(const Resource& resource, const InstrumentationScope& scope,
                      const std::vector<std::unique_ptr<SpanData>>& spans, std::string& out) {
  out.clear();
  AppendEnvelopeOpen("resourceSpans", "scopeSpans", "spans", resource, scope, out);
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i != 0) out.push_back(',');
    AppendSpan(*spans[i], out);
  }
  out += "]}]}]}";
}

void EncodeLogsJson(const Resource& resource, const InstrumentationScope& scope,
                    const std::vector<std::unique_ptr<LogRecordData>>& records, std::string& out) {
  out.clear();
  AppendEnvelopeOpen("resourceLogs", "scopeLogs", "logRecords", resource, scope, out);
  for (size_t i = 0; i < records.size(); ++i) {
    if (i != 0) out.push_back(',');
    AppendLogRecord(*records[i], out);
  }
  out += "]}]}]}";
}

}  // namespace chat::telemetry::sdk

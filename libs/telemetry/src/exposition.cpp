// The Prometheus text / OpenMetrics writer (see exposition.hpp): formatting and escaping only.
#include "chat/telemetry/exposition.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace chat::telemetry::exposition {

namespace {

// Lowercase hex of raw id bytes; done here so exposition does not depend on trace_context.cpp.
template <size_t N>
void AppendHex(std::string& out, const std::array<uint8_t, N>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
}

}  // namespace

// Integers print without exponent or fraction ("1", "42"), other finite values use the shortest
// representation that round-trips (std::to_chars), specials use the exposition spelling.
void AppendDouble(std::string& out, double v) {
  // NaN fails the equality and ±Inf the magnitude test: both take the shortest path below.
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    out += std::to_string(static_cast<int64_t>(v));
    return;
  }
  AppendShortestDouble(out, v);
}

void AppendShortestDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, result.ptr);
}

void AppendUint(std::string& out, uint64_t v) { out += std::to_string(v); }

void AppendEscapedLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
}

// HELP text: Prometheus text escapes only \ and newline; OpenMetrics also escapes ".
void AppendEscapedHelp(std::string& out, std::string_view v, bool openmetrics) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && openmetrics) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

void AppendLabelPair(std::string& out, bool& first, std::string_view name, std::string_view value) {
  if (!first) out.push_back(',');
  first = false;
  out += name;
  out += "=\"";
  AppendEscapedLabelValue(out, value);
  out.push_back('"');
}

void AppendLabels(std::string& out, const LabelPairs& pairs, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name,
                  std::string_view extra_value) {
  if (pairs.empty() && names.empty() && extra_name.empty()) return;
  out.push_back('{');
  bool first = true;
  for (const auto& [name, value] : pairs) AppendLabelPair(out, first, name, value);
  for (size_t i = 0; i < names.size(); ++i) AppendLabelPair(out, first, names[i], values[i]);
  if (!extra_name.empty()) AppendLabelPair(out, first, extra_name, extra_value);
  out.push_back('}');
}

// ` # {trace_id="…",span_id="…"} value timestamp` (OpenMetrics only).
void AppendExemplar(std::string& out, std::string_view trace_label, std::string_view span_label,
                    const Exemplar& ex) {
  out += " # {";
  out += trace_label;
  out += "=\"";
  AppendHex(out, ex.trace_id.bytes);
  out.push_back('"');
  if (!span_label.empty()) {
    out.push_back(',');
    out += span_label;
    out += "=\"";
    AppendHex(out, ex.span_id.bytes);
    out.push_back('"');
  }
  out += "} ";
  AppendDouble(out, ex.value);
  out.push_back(' ');
  int64_t ms = ex.time_unix_nano / 1000000;
  out += std::to_string(ms / 1000);
  out.push_back('.');
  std::string frac = std::to_string(ms % 1000);
  out.append(3 - frac.size(), '0');
  out += frac;
}

void AppendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help, bool openmetrics) {
  if (openmetrics) {
    out += "# TYPE ";
    out += name;
    out.push_back(' ');
    out += type;
    out += "\n# HELP ";
    out += name;
    out.push_back(' ');
    AppendEscapedHelp(out, help, true);
    out.push_back('\n');
  } else {
    out += "# HELP ";
    out += name;
    out.push_back(' ');
    AppendEscapedHelp(out, help, false);
    out += "\n# TYPE ";
    out += name;
    out.push_back(' ');
    out += type;
    out.push_back('\n');
  }
}

void AppendSample(std::string& out, std::string_view name, const LabelPairs& labels, double value,
                  NumberStyle style) {
  out += name;
  AppendLabels(out, labels, {}, {});
  out.push_back(' ');
  if (style == NumberStyle::kShortest) {
    AppendShortestDouble(out, value);
  } else {
    AppendDouble(out, value);
  }
  out.push_back('\n');
}

}  // namespace chat::telemetry::exposition

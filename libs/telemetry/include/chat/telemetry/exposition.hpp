// The Prometheus text (0.0.4) and OpenMetrics (1.0.0) writer: family headers, label sets, sample
// values and exemplars, appended to a string. MetricRegistry::Expose writes through it, and so do
// exporters that build their exposition from another source (tools/pg-exporter). It checks
// nothing: names and label names must already be valid.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/telemetry/metrics.hpp"

namespace chat::telemetry::exposition {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// Integers below 1e15 print without exponent or fraction ("1", "42"), other finite values use the
// shortest representation that round-trips (std::to_chars), specials use the exposition spelling.
void AppendDouble(std::string& out, double v);
// Always the shortest round-trip representation (1000000 is "1e+06"), specials as above: the
// spelling tools/pg-exporter has always used, close to client_golang's.
void AppendShortestDouble(std::string& out, double v);
void AppendUint(std::string& out, uint64_t v);

// Label values escape \, " and newline.
void AppendEscapedLabelValue(std::string& out, std::string_view v);
// HELP text: Prometheus text escapes only \ and newline; OpenMetrics also escapes ".
void AppendEscapedHelp(std::string& out, std::string_view v, bool openmetrics);

// `name="value"`, preceded by a comma unless `first`; clears `first`.
void AppendLabelPair(std::string& out, bool& first, std::string_view name, std::string_view value);
// `{c="k",a="x",b="y",le="0.1"}` (`pairs` first, then names[i]=values[i], then the extra pair);
// nothing at all when there are no labels.
void AppendLabels(std::string& out, const LabelPairs& pairs, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {});

// `# HELP` then `# TYPE` (Prometheus text), or `# TYPE` then `# HELP` (OpenMetrics).
void AppendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help, bool openmetrics);

enum class NumberStyle { kIntegersPlain, kShortest };  // AppendDouble / AppendShortestDouble

// One sample line: `name{labels} value\n`.
void AppendSample(std::string& out, std::string_view name, const LabelPairs& labels, double value,
                  NumberStyle style = NumberStyle::kIntegersPlain);

// ` # {trace_id="…",span_id="…"} value timestamp` (OpenMetrics only). An empty `span_label` omits
// the span id.
void AppendExemplar(std::string& out, std::string_view trace_label, std::string_view span_label,
                    const Exemplar& ex);

}  // namespace chat::telemetry::exposition

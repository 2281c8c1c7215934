// Percentiles for chat-load's reports (both scenarios).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace chat::load {

// The p-th percentile (0-100) of `v` by linear interpolation between closest ranks; NaN when
// `v` is empty (reported as "-" or null).
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(rank));
  const auto hi = static_cast<size_t>(std::ceil(rank));
  const double frac = rank - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

// {"p50","p95","p99"} of `v`; null where there is no value (NaN is not JSON).
inline nlohmann::json Percentiles(const std::vector<double>& v) {
  auto value = [&](double p) -> nlohmann::json {
    const double x = Percentile(v, p);
    return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x);
  };
  return {{"p50", value(50)}, {"p95", value(95)}, {"p99", value(99)}};
}

// One figure of a report line: "%.1f", or "-" for a missing value.
inline std::string Fmt(const nlohmann::json& j) {
  if (!j.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", j.get<double>());
  return buf;
}

}  // namespace chat::load

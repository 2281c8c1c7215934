// Helpers for the trace JSON the telemetry sink answers (GET /api/traces/{id}), shared by the
// end-to-end tests.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace chat::testing {

// The first span called `name` (of `service`, when given) in a sink trace.
inline std::optional<nlohmann::json> FindSpan(const nlohmann::json& trace, const std::string& name,
                                              const std::string& service = "") {
  for (const auto& s : trace["spans"]) {
    if (s.value("name", "") == name &&
        (service.empty() || s.value("service_name", "") == service)) {
      return s;
    }
  }
  return std::nullopt;
}

// A span attribute as text ("<absent>" when missing; non-strings as their JSON).
inline std::string Attr(const nlohmann::json& span, std::string_view key_view) {
  std::string key(key_view);
  const auto& a = span["attributes"];
  if (!a.contains(key)) return "<absent>";
  return a[key].is_string() ? a[key].get<std::string>() : a[key].dump();
}

}  // namespace chat::testing

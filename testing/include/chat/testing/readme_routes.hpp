// A service README's routes table against the routes its Dispatcher really registers (issue 12,
// "Layering"). The table is the first Markdown table after the line "## Routes":
//
//   | subject | kind | queue group | identity | handler | metric | span |
//   |---|---|---|---|---|---|---|
//   | `room.create.{user}` | serve | `room-workers` | subject user | `Create` | … | … |
//
// The first four columns are compared (kind: serve / consume; queue group: `—` for a plain
// subscription; identity: none / subject user / reply inbox); handler, metric and span document
// the route for readers. Header-only: used by the service tests, which link chat::runtime.
#pragma once

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/subjects.hpp"
#include "chat/runtime/dispatcher.hpp"

namespace chat::testing {

namespace readme_internal {

inline std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '`')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '`')) s.remove_suffix(1);
  return std::string(s);
}

// The cells of a table line "| a | b |" (outer pipes dropped).
inline std::vector<std::string> Cells(std::string_view line) {
  std::vector<std::string> cells;
  if (line.empty() || line.front() != '|') return cells;
  line.remove_prefix(1);
  while (!line.empty()) {
    size_t bar = line.find('|');
    cells.push_back(Trim(line.substr(0, bar)));
    if (bar == std::string_view::npos) break;
    line.remove_prefix(bar + 1);
  }
  if (!cells.empty() && cells.back().empty()) cells.pop_back();
  return cells;
}

inline std::string Row(std::string_view subject, std::string_view kind,
                       std::string_view queue_group, std::string_view identity) {
  std::string row(subject);
  row += " | ";
  row += kind;
  row += " | ";
  row += queue_group.empty() ? std::string_view("—") : queue_group;
  row += " | ";
  row += identity;
  return row;
}

}  // namespace readme_internal

// The dispatcher's routes as sorted "subject | kind | queue group | identity" rows.
inline std::vector<std::string> RouteRows(const std::vector<runtime::RouteInfo>& routes) {
  std::vector<std::string> rows;
  for (const auto& r : routes) {
    std::string identity(contracts::IdentityName(r.identity));
    std::replace(identity.begin(), identity.end(), '_', ' ');
    rows.push_back(readme_internal::Row(r.template_text, r.serve ? "serve" : "consume",
                                        r.queue_group, identity));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

// The README's routes table (path relative to the source tree) as the same sorted rows; a
// missing file, section or table yields one "error: …" row, so the comparison fails.
inline std::vector<std::string> ReadmeRouteRows(std::string_view relative_path) {
  const std::string path = std::string(CHAT_SOURCE_DIR) + "/" + std::string(relative_path);
  std::ifstream in(path);
  if (!in) return {"error: cannot read " + path};
  std::vector<std::string> rows;
  std::string line;
  bool in_section = false;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (!in_section) {
      in_section = line == "## Routes";
      continue;
    }
    auto cells = readme_internal::Cells(line);
    if (cells.empty()) {
      if (in_table) break;  // the table ended
      if (line.rfind("## ", 0) == 0) break;
      continue;
    }
    if (!in_table) {  // the header row
      in_table = true;
      continue;
    }
    if (cells[0].rfind("---", 0) == 0) continue;  // the separator row
    if (cells.size() < 4) return {"error: short row: " + line};
    std::string queue_group = cells[2] == "—" || cells[2] == "-" ? "" : cells[2];
    rows.push_back(readme_internal::Row(cells[0], cells[1], queue_group, cells[3]));
  }
  if (!in_table) return {"error: no table under \"## Routes\" in " + path};
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace chat::testing

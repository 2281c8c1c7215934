#include "chat/core/origin.hpp"

namespace chat::core {

bool IsHttpOrigin(std::string_view s) {
  if (!s.starts_with("http://") && !s.starts_with("https://")) return false;
  std::string_view rest = s.substr(s.find("://") + 3);
  return !rest.empty() && rest.find_first_of("/?#@ ") == std::string_view::npos;
}

bool OriginAllowed(std::string_view origin, const std::vector<std::string>& allowed) {
  if (origin.empty()) return false;
  for (const std::string& o : allowed) {
    if (o == "*" || o == origin) return true;
  }
  return false;
}

}  // namespace chat::core

#include "chat/contracts/users.hpp"

#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

namespace {

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

core::Status DecodeEntry(const Json& j, const std::string& path, UserSearchEntry& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.User("username", v.username, Need::kRequired);
  r.Str("firstName", v.first_name, Need::kRequired);
  r.Str("lastName", v.last_name, Need::kRequired);
  return r.status();
}

}  // namespace

core::Result<std::string> ParseUserSearchQuery(std::string_view body) {
  size_t start = 0;
  size_t end = body.size();
  while (start < end && IsSpace(body[start])) ++start;
  while (end > start && IsSpace(body[end - 1])) --end;
  std::string_view q = body.substr(start, end - start);
  if (q.empty()) return core::InvalidArgument("search query is empty");
  if (q.size() > kMaxUserSearchQueryBytes) {
    return core::InvalidArgument("search query is longer than " +
                                 std::to_string(kMaxUserSearchQueryBytes) + " bytes");
  }
  if (q.front() == '{' || q.front() == '[') {
    // The contract is plain text (system.md §3.3.8); a JSON body is a client bug, not a name.
    return core::InvalidArgument("search query must be plain text, not JSON");
  }
  if (!ValidUtf8(q)) return core::InvalidArgument("search query is not UTF-8 text");
  for (char c : q) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return core::InvalidArgument("search query contains a control character");
    }
  }
  return std::string(q);
}

std::string ToJson(const UserSearchReply& v) {
  Json a = Json::array();
  for (const auto& u : v.users) {
    Json j = Json::object();
    j["username"] = u.username;
    j["firstName"] = u.first_name;
    j["lastName"] = u.last_name;
    a.push_back(std::move(j));
  }
  return internal::Dump(a);
}

template <>
core::Result<UserSearchReply> FromJson<UserSearchReply>(std::string_view json) {
  return internal::DecodeTop<UserSearchReply>(
      json, "UserSearchReply", [](const Json& j, const std::string& path, UserSearchReply& v) {
        return internal::DecodeArray(j, path, v.users, DecodeEntry, kMaxUserSearchResults);
      });
}

}  // namespace chat::contracts

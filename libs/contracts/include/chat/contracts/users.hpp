// user-search-service wire types (system.md §3.3.8; ADR 0001's users.search.{user}): a search
// takes the query as plain text (trimmed; 1..kMaxUserSearchQueryBytes) and answers a bare array
// of at most kMaxUserSearchResults users, each only {"username","firstName","lastName"} — never
// an id, e-mail or role, whatever the identity provider's admin API returned.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

inline constexpr std::size_t kMaxUserSearchResults = 20;
// A longer query is refused: nobody types 100 bytes into a name search, and the query goes into
// an URL to the identity provider.
inline constexpr std::size_t kMaxUserSearchQueryBytes = 100;

// The query a users.search.{user} body carries: surrounding whitespace (ASCII) trimmed;
// invalid_argument for an empty, over-long, non-UTF-8 or control-character query, and for one
// that starts like JSON ('{' or '['): the body is the query itself, never a JSON document.
core::Result<std::string> ParseUserSearchQuery(std::string_view body);

// One directory entry: {"username","firstName","lastName"} (names may be empty: an IdP user need
// not have them; the keys are always present).
struct UserSearchEntry {
  std::string username;
  std::string first_name;
  std::string last_name;
  friend bool operator==(const UserSearchEntry&, const UserSearchEntry&) = default;
};

// users.search.{user} reply: at most kMaxUserSearchResults entries, in the IdP's order.
struct UserSearchReply {
  std::vector<UserSearchEntry> users;
  friend bool operator==(const UserSearchReply&, const UserSearchReply&) = default;
};

std::string ToJson(const UserSearchReply& v);

template <>
core::Result<UserSearchReply> FromJson<UserSearchReply>(std::string_view json);

}  // namespace chat::contracts

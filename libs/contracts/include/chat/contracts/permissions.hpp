// NATS permissions for a browser user's JWT, derived from the subject catalogue (subjects.hpp,
// subjects.json): auth-service calls PermissionsForRoles when it mints a user JWT, so the
// permissions cannot drift from the templates services subscribe to. system.md §2.4 with
// ADR 0001's subjects: state-changing subjects end in the user, and the inbox is per user.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/subjects.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

std::string_view TierName(Tier tier);  // "admin", "user", "none"

// `permission` (or a template) with every "{user}" replaced by `user`.
std::string SubstituteUser(std::string_view permission, std::string_view user);

// Realm roles → tier: contains "admin" → kAdmin; else contains "user" → kUser; else kNone.
Tier TierForRoles(const std::vector<std::string>& roles);

struct Permissions {
  std::vector<std::string> pub_allow;  // catalogue order, no duplicates
  std::vector<std::string> sub_allow;
  // Exceptions to pub_allow: only the admin tier may join the admin channel's membership
  // (room.join.*.{user} would otherwise let anyone receive deliver.{user}.admin.chat).
  std::vector<std::string> pub_deny;
  // Response permission, identical for all tiers (system.md §2.4): one reply per received
  // request within five minutes.
  int response_max_msgs = 1;
  std::chrono::seconds response_expires{300};

  friend bool operator==(const Permissions&, const Permissions&) = default;
};

// The permissions of `user` in `tier`; invalid_argument when `user` is not a valid username
// (ValidateUsername: it becomes part of subject permissions, so '.', '*', '>' or whitespace
// would widen them).
core::Result<Permissions> PermissionsForTier(std::string_view user, Tier tier);
core::Result<Permissions> PermissionsForRoles(std::string_view user,
                                              const std::vector<std::string>& roles);

}  // namespace chat::contracts

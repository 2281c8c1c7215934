#include "chat/contracts/permissions.hpp"

#include <algorithm>

#include "chat/contracts/ids.hpp"

namespace chat::contracts {
namespace {

void AddUnique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

}  // namespace

std::string SubstituteUser(std::string_view permission, std::string_view user) {
  constexpr std::string_view kUserPlaceholder = "{user}";
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t at = permission.find(kUserPlaceholder, start);
    out.append(permission.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return out;
    out.append(user);
    start = at + kUserPlaceholder.size();
  }
}

std::string_view TierName(Tier tier) {
  switch (tier) {
    case Tier::kAdmin: return "admin";
    case Tier::kUser: return "user";
    case Tier::kNone: return "none";
  }
  return "none";
}

Tier TierForRoles(const std::vector<std::string>& roles) {
  auto has = [&](std::string_view role) {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
  };
  if (has("admin")) return Tier::kAdmin;
  if (has("user")) return Tier::kUser;
  return Tier::kNone;
}

core::Result<Permissions> PermissionsForTier(std::string_view user, Tier tier) {
  if (auto s = ValidateUsername(user); !s.ok()) return s;
  const TierMask bit = TierBit(tier);
  Permissions p;
  for (const auto& spec : kSubjectCatalogue) {
    if (!spec.publish_permission.empty() && (spec.publish_tiers & bit) != 0) {
      AddUnique(p.pub_allow, SubstituteUser(spec.publish_permission, user));
    }
    if (!spec.subscribe_permission.empty() && (spec.subscribe_tiers & bit) != 0) {
      AddUnique(p.sub_allow, SubstituteUser(spec.subscribe_permission, user));
    }
  }
  if (tier != Tier::kAdmin) {
    for (std::string_view room : {kAdminRoom, kAdminMembershipRoom}) {
      auto subject = subjects::kRoomJoin.Format({room, user});
      if (!subject.ok()) return subject.status();
      p.pub_deny.push_back(std::move(*subject));
    }
  }
  return p;
}

core::Result<Permissions> PermissionsForRoles(std::string_view user,
                                              const std::vector<std::string>& roles) {
  return PermissionsForTier(user, TierForRoles(roles));
}

}  // namespace chat::contracts

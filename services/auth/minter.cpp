#include "minter.hpp"

#include <algorithm>

#include "chat/contracts/permissions.hpp"
#include "chat/contracts/quotas.hpp"
#include "chat/nkeys/jwt.hpp"

namespace chat::auth_service {

nkeys::NatsLimits Minter::DefaultUserLimits() {
  nkeys::NatsLimits l;
  l.subs = contracts::quotas::kUserMaxSubscriptions;
  l.data = nkeys::kNoLimit;
  l.payload = contracts::quotas::kUserMaxPayloadBytes;
  return l;
}

core::Result<MintedCredentials> Minter::Mint(std::string_view user_nkey,
                                             const VerifiedToken& token) const {
  if (!nkeys::IsValidPublicKey(user_nkey, nkeys::KeyType::kUser)) {
    return core::InvalidArgument("nkey is not a user public key");
  }
  CHAT_ASSIGN_OR_RETURN(contracts::Permissions perms,
                        contracts::PermissionsForRoles(token.username, token.roles));
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  // expires_unix is clamped by the verifier, so neither this nor exp * 1000 can overflow. A
  // NATS JWT without a positive exp never expires: refuse rather than mint that.
  const int64_t exp = std::min<int64_t>(now + ttl_.count(), token.expires_unix);
  if (exp <= 0) return core::InvalidArgument("the token's expiry is not a positive unix time");

  nkeys::UserClaims claims;
  claims.subject = std::string(user_nkey);
  claims.name = token.username;
  claims.pub.allow = perms.pub_allow;
  claims.sub.allow = perms.sub_allow;
  claims.pub.deny = perms.pub_deny;
  claims.resp = nkeys::ResponsePermission{perms.response_max_msgs,
                                          std::chrono::nanoseconds(perms.response_expires)};
  claims.bearer_token = false;  // the client proves possession of the nkey seed
  claims.issuer_account = material_.account_public_key;
  claims.expires = exp;
  claims.limits = limits_;
  auto jwt = nkeys::EncodeUserJwt(claims, material_.signing_key, clock_);
  if (!jwt.ok()) return core::Internal("signing the user JWT failed");

  MintedCredentials out;
  out.jwt = std::move(jwt).value();
  out.expires_at_ms = exp * 1000;
  out.user = token.username;
  out.tier = std::string(contracts::TierName(contracts::TierForRoles(token.roles)));
  return out;
}

}  // namespace chat::auth_service

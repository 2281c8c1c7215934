// Minter: turns a verified identity plus the caller's own user nkey into a NATS user JWT signed
// by the CHAT account signing key (issuer_account set), with the permissions of
// contracts::PermissionsForRoles and exp = min(now + TTL, token exp). The caller's seed never
// reaches us; the JWT is not a bearer token, so it is useless without that seed. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/nkeys/jwt.hpp"
#include "config.hpp"
#include "token_verifier.hpp"

namespace chat::auth_service {

struct MintedCredentials {
  std::string jwt;
  int64_t expires_at_ms = 0;
  std::string user;
  std::string tier;  // "admin", "user", "none"
};

class Minter {
 public:
  // `limits` go into every JWT's nats.limits (subs, data, payload); nats-server 2.9 enforces
  // subs and payload for users, not data (left unlimited).
  Minter(SigningMaterial material, std::chrono::seconds ttl, const core::Clock& clock,
         nkeys::NatsLimits limits = DefaultUserLimits())
      : material_(std::move(material)), ttl_(ttl), clock_(clock), limits_(limits) {}

  // contracts::quotas: 500 subscriptions, 64 KiB payload, data unlimited.
  static nkeys::NatsLimits DefaultUserLimits();

  // invalid_argument when `user_nkey` is not a user public key ("U…") or the username is
  // unusable; internal when encoding or signing fails.
  core::Result<MintedCredentials> Mint(std::string_view user_nkey,
                                       const VerifiedToken& token) const;

  const std::string& account_public_key() const { return material_.account_public_key; }
  const std::string& signing_public_key() const { return material_.signing_key.public_key(); }

 private:
  SigningMaterial material_;
  std::chrono::seconds ttl_;
  const core::Clock& clock_;
  nkeys::NatsLimits limits_;
};

}  // namespace chat::auth_service

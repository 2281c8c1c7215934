// NATS v2 JWTs (operator, account and user claims) and the `.creds` file format, written the
// way nats-io/jwt v2 writes them: header {"typ":"JWT","alg":"ed25519-nkey"}, base64url segments
// without padding, jti = base32(SHA-512/256 of the standard claims without jti), claim type and
// version 2 under "nats". nats-server 2.9 in operator mode accepts these; auth-service uses
// EncodeUserJwt to mint short-lived browser credentials.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/nkeys/nkeys.hpp"

namespace chat::nkeys {

inline constexpr int64_t kNoLimit = -1;
// exp and iat are clamped to the end of year 9999 (a caller's now + TTL may overflow that far
// but no further); a negative exp is refused, since nats-server reads exp <= 0 as "never".
inline constexpr int64_t kMaxJwtTimeSeconds = 253402300799;

struct Permission {
  std::vector<std::string> allow;
  std::vector<std::string> deny;
};

// "resp": a subscriber may publish `max_msgs` replies per received request within `ttl`.
struct ResponsePermission {
  int64_t max_msgs = 1;
  std::chrono::nanoseconds ttl{0};
};

struct NatsLimits {
  int64_t subs = kNoLimit;
  int64_t data = kNoLimit;
  int64_t payload = kNoLimit;
};

// Zero storage disables JetStream for the account; kNoLimit everywhere enables it unlimited.
struct JetStreamLimits {
  int64_t mem_storage = 0;
  int64_t disk_storage = 0;
  int64_t streams = 0;
  int64_t consumer = 0;
  // Optional (0/false = omitted, as nats-io/jwt's omitempty): the largest max_bytes one memory /
  // file stream may ask for, and whether every stream must declare max_bytes at all.
  int64_t mem_max_stream_bytes = 0;
  int64_t disk_max_stream_bytes = 0;
  bool max_bytes_required = false;

  static JetStreamLimits Unlimited() { return {kNoLimit, kNoLimit, kNoLimit, kNoLimit}; }
};

struct AccountLimits {
  NatsLimits nats;
  int64_t imports = kNoLimit;
  int64_t exports = kNoLimit;
  bool wildcards = true;
  int64_t conn = kNoLimit;
  int64_t leaf = kNoLimit;
  JetStreamLimits jetstream;
};

struct OperatorClaims {
  std::string subject;  // operator public key ("O…"); the JWT is self-signed by it
  std::string name;
  std::vector<std::string> signing_keys;
  std::string system_account;  // optional "A…"
  int64_t expires = 0;         // unix seconds; 0 = never
};

struct AccountClaims {
  std::string subject;  // account public key ("A…")
  std::string name;
  AccountLimits limits;
  std::vector<std::string> signing_keys;  // account signing keys ("A…") allowed to issue users
  int64_t expires = 0;
};

struct UserClaims {
  std::string subject;  // user public key ("U…")
  std::string name;
  Permission pub;
  Permission sub;
  std::optional<ResponsePermission> resp;
  NatsLimits limits;
  bool bearer_token = false;
  // Required when the signer is an account signing key: the account the user belongs to.
  std::string issuer_account;
  int64_t expires = 0;
};

// Each signer must have the right type (operator signs operator and account JWTs, an account
// key signs user JWTs); `clock` supplies iat. `expires` < 0 is invalid_argument; above
// kMaxJwtTimeSeconds it is clamped.
core::Result<std::string> EncodeOperatorJwt(const OperatorClaims& claims, const KeyPair& signer,
                                            const core::Clock& clock);
core::Result<std::string> EncodeAccountJwt(const AccountClaims& claims, const KeyPair& signer,
                                           const core::Clock& clock);
core::Result<std::string> EncodeUserJwt(const UserClaims& claims, const KeyPair& signer,
                                        const core::Clock& clock);

// NOLINTNEXTLINE(bugprone-exception-escape): flags the implicit members of nlohmann::json fields.
struct DecodedJwt {
  nlohmann::json header;
  nlohmann::json claims;
  std::string issuer;   // claims.iss
  std::string subject;  // claims.sub
  std::string type;     // claims.nats.type
};

// Parses header and claims; checks typ/alg and that the signature verifies against the issuer
// public key named in the claims. Trust in that issuer is the caller's decision.
core::Result<DecodedJwt> DecodeAndVerifyJwt(std::string_view token);

// The .creds text nsc writes: the JWT block, the warning banner, the seed block.
std::string FormatUserCreds(std::string_view jwt, std::string_view seed);

struct UserCreds {
  std::string jwt;
  std::string seed;
};
core::Result<UserCreds> ParseUserCreds(std::string_view text);

}  // namespace chat::nkeys

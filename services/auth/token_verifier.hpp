// TokenVerifier: checks an OIDC access token (JWT compact form, RS256 only) against the issuer's
// JWKS and the configured issuer and audience, and extracts the username and realm roles. Each
// call is one INTERNAL span `verify_token` (attribute chat.auth.kid). A rejected token is an
// answer, not an error; only an unreachable JWKS makes the span ERROR. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"
#include "jwks.hpp"

namespace chat::auth_service {

// The closed list of rejection reasons (label-safe; used in events and logs).
enum class RejectReason {
  kMalformed,
  kBadSignature,
  kUnknownKid,
  kExpired,
  kNotYetValid,
  kWrongIssuer,
  kWrongAudience,
  kWrongTokenType,
  kBadUsername,
  kMissingNkey,
  kBadNkey,
};
std::string_view RejectReasonName(RejectReason r);     // "bad_signature"
std::string_view RejectReasonMessage(RejectReason r);  // a sentence for the HTTP reply

// Time claims are clamped to ±kMaxTokenTimeSeconds (the end of year 9999) so that adding the
// clock skew, or comparing with now + TTL, can never overflow whatever the issuer wrote.
inline constexpr int64_t kMaxTokenTimeSeconds = 253402300799;

struct VerifiedToken {
  std::string username;            // preferred_username, valid as a subject token
  std::string subject;             // `sub` (the IdP's stable user id); the username when absent
  std::vector<std::string> roles;  // realm_access.roles
  int64_t expires_unix = 0;        // exp, clamped (see kMaxTokenTimeSeconds)
  std::string kid;
};

struct Verification {
  std::optional<VerifiedToken> token;  // set when accepted
  std::optional<RejectReason> reason;  // set when rejected
  bool jwks_unavailable = false;       // the kid was unknown and the JWKS could not be fetched
  std::string username;                // from the claims when they could be read (for logs)
};

class TokenVerifier {
 public:
  TokenVerifier(const AuthConfig& config, JwksCache& jwks, const telemetry::Telemetry& telemetry,
                const core::Clock& clock)
      : config_(config), jwks_(jwks), telemetry_(telemetry), clock_(clock) {}

  // `token` is the bearer value; the `verify_token` span is a child of `parent`.
  Verification Verify(std::string_view token, const telemetry::SpanContext& parent) const;

 private:
  Verification VerifyInSpan(std::string_view token, telemetry::Span& span) const;

  const AuthConfig& config_;
  JwksCache& jwks_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;
};

}  // namespace chat::auth_service

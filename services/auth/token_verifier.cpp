#include "token_verifier.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "chat/contracts/ids.hpp"
#include "chat/core/base64.hpp"

namespace chat::auth_service {
namespace {

using nlohmann::json;

std::optional<std::string> DecodeSegment(std::string_view segment) {
  // JWS uses unpadded base64url; padding or other characters make the token malformed.
  if (segment.empty() || segment.find('=') != std::string_view::npos) return std::nullopt;
  auto bytes = core::Base64UrlDecode(segment);
  if (!bytes.ok()) return std::nullopt;
  return std::move(bytes).value();
}

// A NumericDate claim, clamped to ±kMaxTokenTimeSeconds: an issuer may write 2^63 - 1, 1e300
// or -2^63, and both `exp + skew` and a double-to-integer cast of those are undefined.
std::optional<int64_t> TimeClaim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    return static_cast<int64_t>(
        std::min<uint64_t>(it->get<uint64_t>(), static_cast<uint64_t>(kMaxTokenTimeSeconds)));
  }
  if (it->is_number_integer()) {
    return std::clamp(it->get<int64_t>(), -kMaxTokenTimeSeconds, kMaxTokenTimeSeconds);
  }
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (!std::isfinite(d)) return std::nullopt;
    constexpr auto kMax = static_cast<double>(kMaxTokenTimeSeconds);
    return static_cast<int64_t>(std::clamp(d, -kMax, kMax));
  }
  return std::nullopt;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// An access token says so: RFC 9068's header `typ` "at+jwt", or Keycloak's `typ` claim "Bearer"
// (its ID tokens say "ID", its refresh tokens "Refresh"). Anything else — no type at all
// included — is refused: an ID token proves a login to the client, it grants nothing to us.
bool IsAccessToken(const json& header, const json& claims) {
  if (auto t = header.find("typ"); t != header.end() && t->is_string()) {
    const auto& typ = t->get_ref<const std::string&>();
    if (EqualsIgnoreCase(typ, "at+jwt") || EqualsIgnoreCase(typ, "application/at+jwt")) {
      return true;
    }
  }
  auto t = claims.find("typ");
  return t != claims.end() && t->is_string() && *t == "Bearer";
}

}  // namespace

std::string_view RejectReasonName(RejectReason r) {
  switch (r) {
    case RejectReason::kMalformed: return "malformed";
    case RejectReason::kBadSignature: return "bad_signature";
    case RejectReason::kUnknownKid: return "unknown_kid";
    case RejectReason::kExpired: return "expired";
    case RejectReason::kNotYetValid: return "not_yet_valid";
    case RejectReason::kWrongIssuer: return "wrong_issuer";
    case RejectReason::kWrongAudience: return "wrong_audience";
    case RejectReason::kWrongTokenType: return "wrong_token_type";
    case RejectReason::kBadUsername: return "bad_username";
    case RejectReason::kMissingNkey: return "missing_nkey";
    case RejectReason::kBadNkey: return "bad_nkey";
  }
  return "malformed";
}

std::string_view RejectReasonMessage(RejectReason r) {
  switch (r) {
    case RejectReason::kMalformed: return "The bearer token or request is malformed.";
    case RejectReason::kBadSignature: return "The token signature is not valid.";
    case RejectReason::kUnknownKid: return "The token was signed by an unknown key.";
    case RejectReason::kExpired: return "The token has expired.";
    case RejectReason::kNotYetValid: return "The token is not valid yet.";
    case RejectReason::kWrongIssuer: return "The token was issued by another issuer.";
    case RejectReason::kWrongAudience: return "The token was issued for another audience.";
    case RejectReason::kWrongTokenType:
      return "Only access tokens are accepted; this is another kind of token (e.g. an ID token).";
    case RejectReason::kBadUsername: return "The token carries no usable username.";
    case RejectReason::kMissingNkey: return "The request body names no user nkey.";
    case RejectReason::kBadNkey: return "The nkey is not a valid user public key.";
  }
  return "The request is malformed.";
}

Verification TokenVerifier::Verify(std::string_view token,
                                   const telemetry::SpanContext& parent) const {
  telemetry::Span span =
      telemetry_.tracer.StartSpan("verify_token", telemetry::SpanKind::kInternal, parent);
  Verification v = VerifyInSpan(token, span);
  if (v.jwks_unavailable) {
    span.RecordError("jwks_unavailable", "JWKS could not be fetched for an unknown kid", "jwks",
                     "JWKS unavailable");
  }
  return v;
}

Verification TokenVerifier::VerifyInSpan(std::string_view token, telemetry::Span& span) const {
  Verification v;
  auto reject = [&v](RejectReason r) {
    v.reason = r;
    return v;
  };
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos) {
    return reject(RejectReason::kMalformed);
  }
  auto header_text = DecodeSegment(token.substr(0, d1));
  auto claims_text = DecodeSegment(token.substr(d1 + 1, d2 - d1 - 1));
  if (!header_text || !claims_text) return reject(RejectReason::kMalformed);
  json header = json::parse(*header_text, nullptr, false);
  json claims = json::parse(*claims_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return reject(RejectReason::kMalformed);
  if (auto u = claims.find("preferred_username"); u != claims.end() && u->is_string()) {
    v.username = u->get<std::string>();
    if (!contracts::ValidateUsername(v.username).ok()) v.username.clear();  // never log junk
  }

  // Only RS256: "none" and HS* (keyed with a public key) are the classic JWT forgeries.
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || *alg != "RS256") {
    return reject(RejectReason::kBadSignature);
  }
  auto kid_it = header.find("kid");
  if (kid_it == header.end() || !kid_it->is_string() || kid_it->get<std::string>().empty()) {
    return reject(RejectReason::kMalformed);
  }
  std::string kid = kid_it->get<std::string>();
  if (kid.size() > 256) return reject(RejectReason::kMalformed);
  span.SetAttribute("chat.auth.kid", kid);

  auto signature = DecodeSegment(token.substr(d2 + 1));
  if (!signature) return reject(RejectReason::kMalformed);

  JwksCache::Lookup lookup = jwks_.FindOrRefresh(kid, span.Context());
  if (lookup.outcome == JwksCache::LookupOutcome::kRefreshFailed) v.jwks_unavailable = true;
  if (!lookup.key) return reject(RejectReason::kUnknownKid);
  if (!lookup.key->VerifyRs256(token.substr(0, d2), *signature)) {
    return reject(RejectReason::kBadSignature);
  }

  // The signature holds: the claims are the issuer's.
  auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() || *iss != config_.issuer_url) {
    return reject(RejectReason::kWrongIssuer);
  }
  if (!IsAccessToken(header, claims)) return reject(RejectReason::kWrongTokenType);
  // The audience must name us; `azp` (the client that asked) is not an audience (RFC 9068 §4).
  bool audience_ok = false;
  if (auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) {
      audience_ok = *aud == config_.audience;
    } else if (aud->is_array()) {
      for (const auto& a : *aud) {
        audience_ok = audience_ok || (a.is_string() && a == config_.audience);
      }
    }
  }
  if (!audience_ok) return reject(RejectReason::kWrongAudience);

  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  const int64_t skew = config_.clock_skew.count();
  auto exp = TimeClaim(claims, "exp");
  if (!exp) return reject(RejectReason::kMalformed);  // exp caps the NATS JWT: required
  if (now > *exp + skew) return reject(RejectReason::kExpired);
  if (auto nbf = TimeClaim(claims, "nbf"); nbf && now + skew < *nbf) {
    return reject(RejectReason::kNotYetValid);
  }
  if (auto iat = TimeClaim(claims, "iat"); iat && now + skew < *iat) {
    return reject(RejectReason::kNotYetValid);
  }

  auto user = claims.find("preferred_username");
  if (user == claims.end() || !user->is_string() ||
      !contracts::ValidateUsername(user->get<std::string>()).ok()) {
    return reject(RejectReason::kBadUsername);
  }
  VerifiedToken t;
  t.username = user->get<std::string>();
  if (auto sub = claims.find("sub");
      sub != claims.end() && sub->is_string() && !sub->get_ref<const std::string&>().empty()) {
    t.subject = sub->get<std::string>().substr(0, 256);
  } else {
    t.subject = t.username;
  }
  t.expires_unix = *exp;
  t.kid = kid;
  if (auto ra = claims.find("realm_access"); ra != claims.end() && ra->is_object()) {
    if (auto roles = ra->find("roles"); roles != ra->end() && roles->is_array()) {
      for (const auto& r : *roles) {
        if (r.is_string()) t.roles.push_back(r.get<std::string>());
      }
    }
  }
  v.token = std::move(t);
  return v;
}

}  // namespace chat::auth_service

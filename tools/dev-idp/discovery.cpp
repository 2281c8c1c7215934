// The issuer's published metadata: the OpenID discovery document, the JWKS, and the
// loopback-only signing-key rotation that changes what the JWKS publishes.
#include <nlohmann/json.hpp>

#include "chat/telemetry/semconv.hpp"
#include "http_util.hpp"
#include "server.hpp"
#include "server_internal.hpp"

namespace chat::devidp {

using nlohmann::json;
namespace semconv = telemetry::semconv;

// Not const: every handler has the route table's one signature (server.hpp).
// NOLINTNEXTLINE(readability-make-member-function-const)
void IdpServer::HandleDiscovery(RequestScope& rq) {
  std::string iss = issuer();
  std::string oidc = iss + "/protocol/openid-connect";
  json doc = {
      {"issuer", iss},
      {"authorization_endpoint", oidc + "/auth"},
      {"token_endpoint", oidc + "/token"},
      {"jwks_uri", oidc + "/certs"},
      {"userinfo_endpoint", oidc + "/userinfo"},
      {"end_session_endpoint", oidc + "/logout"},
      {"response_types_supported", {"code"}},
      {"response_modes_supported", {"query", "fragment"}},
      {"grant_types_supported", {"authorization_code", "password", "refresh_token"}},
      {"code_challenge_methods_supported", {"S256"}},
      {"id_token_signing_alg_values_supported", {"RS256"}},
      {"subject_types_supported", {"public"}},
      {"token_endpoint_auth_methods_supported", {"none"}},
      {"scopes_supported", {"openid", "profile", "email", "roles", "web-origins", "acr"}},
      {"claims_supported",
       {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "sid", "preferred_username",
        "email", "email_verified", "name", "given_name", "family_name", "realm_access"}},
      {"frontchannel_logout_supported", false},
      {"backchannel_logout_supported", false},
  };
  rq.res.set_content(doc.dump(), "application/json");
}

void IdpServer::HandleCerts(RequestScope& rq) {
  json keys = json::array();
  for (const auto& k : keys_->PublishedKeys()) {
    keys.push_back({{"kid", k->kid()},
                    {"kty", "RSA"},
                    {"alg", "RS256"},
                    {"use", "sig"},
                    {"n", k->n()},
                    {"e", k->e()}});
  }
  rq.res.set_content(json{{"keys", keys}}.dump(), "application/json");
}

void IdpServer::HandleRotate(RequestScope& rq) {
  if (!IsLoopback(rq.req.remote_addr)) {
    rq.res.status = 403;
    rq.res.set_content(R"({"error":"forbidden","error_description":"loopback only"})",
                       "application/json");
    return;
  }
  auto kid = keys_->Rotate();
  if (!kid.ok()) {
    rq.ex.Error("key rotation failed", {{semconv::kErrorType, "key_rotation"},
                                        {semconv::kExceptionMessage, kid.status().message()}});
    rq.res.status = 500;
    rq.res.set_content(R"({"error":"server_error","error_description":"key rotation failed"})",
                       "application/json");
    return;
  }
  json published = json::array();
  for (const auto& k : keys_->PublishedKeys()) published.push_back(k->kid());
  rq.ex.Info("signing key rotated",
             {{"chat.idp.kid", *kid}, {"chat.idp.published_keys", published.size()}});
  rq.res.set_content(json{{"kid", *kid}, {"published", published}}.dump(), "application/json");
}

}  // namespace chat::devidp

// auth-service's access-token check (services/auth/token_verifier.cpp): the bearer value of every
// POST /auth/nats-credentials. The harness is a real issuer: an RSA-2048 key, its discovery
// document and JWKS served on a loopback port, fetched once by a real JwksCache. So that fuzzing
// reaches the claim checks behind the signature, the first input byte picks a mode:
//   even: the rest is the token as sent;
//   odd:  the rest is "<header JSON>\n<claims JSON>", which the harness signs with its key
//         ("$ISS" in the claims becomes the issuer URL, kid "fuzz" names the key).
#include <httplib.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chat/core/base64.hpp"
#include "chat/core/clock.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "jwks.hpp"
#include "metrics.hpp"
#include "token_verifier.hpp"

namespace auth = chat::auth_service;

namespace {

std::string BnBase64Url(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) std::abort();
  std::vector<uint8_t> bytes(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, bytes.data());
  BN_free(bn);
  return chat::core::Base64UrlEncode(bytes);
}

struct Issuer {
  EVP_PKEY* key = nullptr;
  httplib::Server server;
  std::thread thread;
  auth::AuthConfig config;
  std::unique_ptr<auth::AuthMetrics> metrics;
  std::unique_ptr<auth::JwksCache> jwks;
  std::unique_ptr<auth::TokenVerifier> verifier;

  Issuer() {
    key = EVP_RSA_gen(2048);
    if (key == nullptr) std::abort();
    int port = server.bind_to_any_port("127.0.0.1");
    if (port <= 0) std::abort();
    config.issuer_url = "http://127.0.0.1:" + std::to_string(port);
    // One fetch at start-up; an unknown kid then never refetches during a run.
    config.jwks_min_refresh_interval = std::chrono::hours(24);
    nlohmann::json discovery = {{"issuer", config.issuer_url},
                                {"jwks_uri", config.issuer_url + "/jwks"}};
    nlohmann::json jwks_doc = {{"keys",
                                {{{"kty", "RSA"},
                                  {"kid", "fuzz"},
                                  {"use", "sig"},
                                  {"alg", "RS256"},
                                  {"n", BnBase64Url(key, OSSL_PKEY_PARAM_RSA_N)},
                                  {"e", BnBase64Url(key, OSSL_PKEY_PARAM_RSA_E)}}}}};
    server.Get("/.well-known/openid-configuration",
               [d = discovery.dump()](const httplib::Request&, httplib::Response& res) {
                 res.set_content(d, "application/json");
               });
    server.Get("/jwks", [d = jwks_doc.dump()](const httplib::Request&, httplib::Response& res) {
      res.set_content(d, "application/json");
    });
    thread = std::thread([this] { server.listen_after_bind(); });
    const auto& tel = chat::telemetry::Telemetry::Noop();
    metrics = std::make_unique<auth::AuthMetrics>(auth::AuthMetrics::Create(*tel.metrics));
    jwks = std::make_unique<auth::JwksCache>(config, tel, chat::core::SystemClock::Instance(),
                                             *metrics);
    if (!jwks->Refresh(auth::RefreshTrigger::kScheduled, {}).ok()) std::abort();
    verifier = std::make_unique<auth::TokenVerifier>(config, *jwks, tel,
                                                     chat::core::SystemClock::Instance());
  }

  std::string Sign(std::string_view signing_input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const uint8_t*>(signing_input.data()),
                       signing_input.size()) == 1) {
      sig.resize(len);
      if (EVP_DigestSign(ctx, reinterpret_cast<uint8_t*>(sig.data()), &len,
                         reinterpret_cast<const uint8_t*>(signing_input.data()),
                         signing_input.size()) != 1) {
        std::abort();
      }
      sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    return sig;
  }
};

Issuer& TheIssuer() {
  static Issuer* issuer = new Issuer();  // lives until exit: its server thread never stops
  return *issuer;
}

}  // namespace

// The issuer (key generation, JWKS fetch) is set up before the first input, so no input pays
// for it and its allocations are not mistaken for a leak of one input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  TheIssuer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 16 * 1024) return -1;
  Issuer& issuer = TheIssuer();
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string token;
  if ((data[0] & 1) == 0) {
    token.assign(rest);
  } else {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return -1;
    std::string header(rest.substr(0, nl));
    std::string claims(rest.substr(nl + 1));
    for (size_t p = claims.find("$ISS"); p != std::string::npos; p = claims.find("$ISS", p)) {
      claims.replace(p, 4, issuer.config.issuer_url);
      p += issuer.config.issuer_url.size();
    }
    token = chat::core::Base64UrlEncode(header) + "." + chat::core::Base64UrlEncode(claims);
    token += "." + chat::core::Base64UrlEncode(issuer.Sign(token));
  }
  auth::Verification v = issuer.verifier->Verify(token, {});
  if (v.token.has_value() == v.reason.has_value()) std::abort();  // accepted xor rejected
  if (v.token && v.token->username.empty()) std::abort();
  return 0;
}

#include "jwks.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>

#include "chat/core/base64.hpp"
#include "chat/runtime/http_client.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::auth_service {
namespace {

namespace semconv = telemetry::semconv;
using nlohmann::json;

}  // namespace

// ---- RsaPublicKey ----

core::Result<std::shared_ptr<const RsaPublicKey>> RsaPublicKey::FromJwk(std::string_view n_b64url,
                                                                        std::string_view e_b64url) {
  auto n = core::Base64UrlDecode(n_b64url);
  auto e = core::Base64UrlDecode(e_b64url);
  if (!n.ok() || !e.ok() || n->empty() || e->empty()) {
    return core::InvalidArgument("JWK n/e are not base64url");
  }
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = bn_n != nullptr && bn_e != nullptr && bld != nullptr && pctx != nullptr &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
            (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr &&
            EVP_PKEY_fromdata_init(pctx) == 1 &&
            EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(pctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (!ok || pkey == nullptr) {
    EVP_PKEY_free(pkey);
    return core::InvalidArgument("JWK is not a usable RSA public key");
  }
  // Small keys are forgeable; Keycloak and dev-idp publish 2048-bit keys.
  if (EVP_PKEY_get_bits(pkey) < 2048) {
    EVP_PKEY_free(pkey);
    return core::InvalidArgument("JWK RSA key is shorter than 2048 bits");
  }
  return std::shared_ptr<const RsaPublicKey>(new RsaPublicKey(pkey));
}

RsaPublicKey::~RsaPublicKey() { EVP_PKEY_free(pkey_); }

bool RsaPublicKey::VerifyRs256(std::string_view data, std::string_view signature) const {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (md == nullptr) return false;
  bool ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey_) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

// ---- JwksCache ----

core::Result<JwksKeys> ParseJwks(std::string_view text) {
  json jwks = json::parse(text, nullptr, false);
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    return core::Unavailable("JWKS document has no keys array");
  }
  JwksKeys fresh;
  for (const auto& k : jwks["keys"]) {
    if (!k.is_object()) continue;
    auto str = [&](const char* name) -> std::string {
      auto it = k.find(name);
      return it != k.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (str("kty") != "RSA" || str("kid").empty()) continue;
    std::string use = str("use");
    std::string alg = str("alg");
    if (!use.empty() && use != "sig") continue;
    if (!alg.empty() && alg != "RS256") continue;
    auto key = RsaPublicKey::FromJwk(str("n"), str("e"));
    if (!key.ok()) continue;
    fresh.emplace(str("kid"), std::move(key).value());
  }
  if (fresh.empty()) return core::Unavailable("JWKS holds no usable RS256 key");
  return fresh;
}

JwksCache::JwksCache(const AuthConfig& config, const telemetry::Telemetry& telemetry,
                     const core::Clock& clock, AuthMetrics& metrics)
    : config_(config), telemetry_(telemetry), clock_(clock), metrics_(metrics) {}

JwksCache::~JwksCache() { StopPeriodic(); }

core::Result<std::string> JwksCache::Fetch(const std::string& url,
                                           const telemetry::SpanContext& parent) {
  runtime::HttpCall request;
  request.url = url;
  request.peer_service = "idp";
  request.send_traceparent = true;
  request.timeout = config_.http_timeout;
  request.failure_description = "IdP request failed";
  request.status_message_prefix = "IdP answered ";
  auto response = runtime::CallHttp(request, telemetry_, parent);
  if (!response.ok()) {
    if (response.status().code() == core::ErrorCode::kInvalidArgument) {
      return core::Unavailable("IdP URL is not an http(s) URL");
    }
    return core::Unavailable("IdP request failed: " + response.status().message());
  }
  if (response->status >= 400) {
    return core::Unavailable("IdP answered HTTP " + std::to_string(response->status));
  }
  return std::move(response->body);
}

core::Status JwksCache::Refresh(RefreshTrigger trigger, const telemetry::SpanContext& parent) {
  std::lock_guard lock(refresh_mu_);
  std::string_view trigger_name =
      trigger == RefreshTrigger::kScheduled ? kTriggerScheduled : kTriggerUnknownKid;
  auto fail = [&](core::Status s) {
    metrics_.jwks_refresh.With({"error", trigger_name}).Add();
    jwks_uri_.clear();  // the IdP may have moved its JWKS: rediscover next time
    return s;
  };

  if (jwks_uri_.empty()) {
    auto doc_text = Fetch(config_.issuer_url + "/.well-known/openid-configuration", parent);
    if (!doc_text.ok()) return fail(doc_text.status());
    json doc = json::parse(*doc_text, nullptr, false);
    if (!doc.is_object() || !doc.contains("jwks_uri") || !doc["jwks_uri"].is_string()) {
      return fail(core::Unavailable("discovery document has no jwks_uri"));
    }
    // OIDC Discovery §4.3: the issuer in the document must be the one we asked.
    if (!doc.contains("issuer") || doc["issuer"] != config_.issuer_url) {
      return fail(core::Unavailable("discovery document names another issuer"));
    }
    jwks_uri_ = doc["jwks_uri"].get<std::string>();
  }
  auto jwks_text = Fetch(jwks_uri_, parent);
  if (!jwks_text.ok()) return fail(jwks_text.status());
  auto parsed = ParseJwks(*jwks_text);
  if (!parsed.ok()) return fail(parsed.status());
  JwksKeys fresh = std::move(parsed).value();
  size_t count = fresh.size();
  {
    std::lock_guard keys_lock(keys_mu_);
    keys_ = std::move(fresh);
  }
  metrics_.jwks_keys.Default().Set(static_cast<double>(count));
  metrics_.jwks_refresh.With({"ok", trigger_name}).Add();
  return core::Status::Ok();
}

std::shared_ptr<const RsaPublicKey> JwksCache::Find(std::string_view kid) const {
  std::lock_guard lock(keys_mu_);
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : it->second;
}

size_t JwksCache::key_count() const {
  std::lock_guard lock(keys_mu_);
  return keys_.size();
}

JwksCache::Lookup JwksCache::FindOrRefresh(std::string_view kid,
                                           const telemetry::SpanContext& parent) {
  if (auto key = Find(kid)) return {std::move(key), LookupOutcome::kFound};
  {
    std::lock_guard lock(refresh_mu_);
    auto now = clock_.SteadyNow();
    if (last_unknown_kid_refresh_ &&
        now - *last_unknown_kid_refresh_ < config_.jwks_min_refresh_interval) {
      return {nullptr, LookupOutcome::kRateLimited};
    }
    last_unknown_kid_refresh_ = now;
  }
  if (core::Status s = Refresh(RefreshTrigger::kUnknownKid, parent); !s.ok()) {
    // The failure is on the CLIENT span; the request handler writes the one ERROR line.
    auto cached = Find(kid);
    return {cached, cached ? LookupOutcome::kFound : LookupOutcome::kRefreshFailed};
  }
  auto key = Find(kid);
  return {key, key ? LookupOutcome::kFound : LookupOutcome::kUnknown};
}

void JwksCache::StartPeriodic() {
  std::lock_guard lock(loop_mu_);
  if (loop_.joinable()) return;
  stopping_ = false;
  loop_ = std::thread([this] { PeriodicLoop(); });
}

void JwksCache::StopPeriodic() {
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
}

void JwksCache::PeriodicLoop() {
  std::unique_lock lock(loop_mu_);
  while (!stopping_) {
    lock.unlock();
    {
      telemetry::Span span =
          telemetry_.tracer.StartSpan("jwks_refresh", telemetry::SpanKind::kInternal, {});
      if (core::Status s = Refresh(RefreshTrigger::kScheduled, span.Context()); !s.ok()) {
        size_t cached = key_count();
        span.AddEvent("stale_keys", {{"chat.auth.cached_keys", cached}});
        span.RecordError("jwks_unavailable", s.message(), "jwks", "JWKS refresh failed");
        telemetry_.logger->Error(span.Context(), "jwks refresh failed; cached keys kept",
                                 {{semconv::kErrorType, "jwks_unavailable"},
                                  {semconv::kExceptionMessage, s.message()},
                                  {"chat.auth.cached_keys", cached}});
      }
    }
    lock.lock();
    loop_cv_.wait_for(lock, config_.jwks_refresh, [this] { return stopping_; });
  }
}

}  // namespace chat::auth_service

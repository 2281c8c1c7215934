#include "jwks.hpp"

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>

#include "chat/nkeys/encoding.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::auth_service {
namespace {

namespace semconv = telemetry::semconv;
using nlohmann::json;

std::once_flag g_curl_init;  // curl_global_init is not thread-safe; run it once per process

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  constexpr size_t kMaxBody = 1 << 20;  // a JWKS or discovery document is a few KB
  if (out->size() + size * count > kMaxBody) return 0;  // aborts the transfer
  out->append(data, size * count);
  return size * count;
}

std::string ErrorTypeForCurl(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return "timeout";
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      return "connection_error";
    default:
      return "transport_error";
  }
}

std::string TemplatePath(std::string_view path) {
  // Keycloak-style issuers put the realm in the path; its name is a value, not part of the
  // template (span names must not carry values).
  constexpr std::string_view kRealms = "/realms/";
  size_t at = path.find(kRealms);
  if (at == std::string_view::npos) return std::string(path);
  size_t start = at + kRealms.size();
  size_t end = path.find('/', start);
  std::string out(path.substr(0, start));
  out += "{realm}";
  if (end != std::string_view::npos) out += path.substr(end);
  return out;
}

}  // namespace

// ---- RsaPublicKey ----

core::Result<std::shared_ptr<const RsaPublicKey>> RsaPublicKey::FromJwk(std::string_view n_b64url,
                                                                        std::string_view e_b64url) {
  auto n = nkeys::Base64UrlDecode(n_b64url);
  auto e = nkeys::Base64UrlDecode(e_b64url);
  if (!n.ok() || !e.ok() || n->empty() || e->empty()) {
    return core::InvalidArgument("JWK n/e are not base64url");
  }
  BIGNUM* bn_n = BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(e->data(), static_cast<int>(e->size()), nullptr);
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
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

// ---- URL ----

std::optional<UrlParts> ParseUrl(std::string_view url) {
  UrlParts p;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  p.scheme = std::string(url.substr(0, scheme_end));
  if (p.scheme != "http" && p.scheme != "https") return std::nullopt;
  size_t auth_start = scheme_end + 3;
  size_t auth_end = url.find_first_of("/?#", auth_start);
  if (auth_end == std::string_view::npos) auth_end = url.size();
  std::string_view authority = url.substr(auth_start, auth_end - auth_start);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);  // credentials never reach an attribute
  }
  if (authority.empty()) return std::nullopt;
  size_t colon = authority.rfind(':');
  bool bracketed = authority.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || authority[colon - 1] == ']')) {
    p.host = std::string(authority.substr(0, colon));
    std::string port(authority.substr(colon + 1));
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    p.port = std::stoi(port);
  } else {
    p.host = std::string(authority);
    p.port = p.scheme == "https" ? 443 : 80;
  }
  if (p.host.size() > 2 && p.host.front() == '[' && p.host.back() == ']') {
    p.host = p.host.substr(1, p.host.size() - 2);
  }
  size_t path_end = url.find_first_of("?#", auth_end);
  if (path_end == std::string_view::npos) path_end = url.size();
  p.path = std::string(url.substr(auth_end, path_end - auth_end));
  if (p.path.empty()) p.path = "/";
  p.full = p.scheme + "://" + std::string(authority) + p.path;
  p.tmpl = TemplatePath(p.path);
  return p;
}

// ---- JwksCache ----

JwksCache::JwksCache(const AuthConfig& config, const telemetry::Telemetry& telemetry,
                     const core::Clock& clock, AuthMetrics& metrics)
    : config_(config), telemetry_(telemetry), clock_(clock), metrics_(metrics) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

JwksCache::~JwksCache() { StopPeriodic(); }

core::Result<std::string> JwksCache::Fetch(const std::string& url,
                                           const telemetry::SpanContext& parent) {
  auto parts = ParseUrl(url);
  if (!parts) return core::Unavailable("IdP URL is not an http(s) URL");
  telemetry::SpanStartOptions opts;
  opts.kind = telemetry::SpanKind::kClient;
  opts.parent = parent;
  opts.attributes = {{semconv::kHttpRequestMethod, "GET"},
                     {semconv::kUrlFull, parts->full},
                     {semconv::kUrlTemplate, parts->tmpl},
                     {semconv::kServerAddress, parts->host},
                     {semconv::kServerPort, parts->port},
                     {semconv::kPeerService, "idp"}};
  telemetry::Span span = telemetry_.tracer.StartSpan("GET " + parts->tmpl, std::move(opts));

  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    span.RecordError("transport_error", "curl_easy_init failed", "curl", "IdP request failed");
    return core::Unavailable("cannot create an HTTP client");
  }
  std::string body;
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  if (span.Context().IsValid()) {
    std::string tp = std::string(semconv::kTraceparentHeader) + ": " +
                     telemetry::FormatTraceparent(span.Context());
    headers = curl_slist_append(headers, tp.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.http_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.http_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);

  if (rc != CURLE_OK) {
    std::string type = ErrorTypeForCurl(rc);
    span.RecordError(type, curl_easy_strerror(rc), "curl", "IdP request failed");
    return core::Unavailable("IdP request failed: " + std::string(curl_easy_strerror(rc)));
  }
  span.SetAttribute(semconv::kHttpResponseStatusCode, static_cast<int64_t>(status));
  if (status >= 400) {
    span.RecordError(std::to_string(status), "IdP answered HTTP " + std::to_string(status),
                     "http", "IdP request failed");
    return core::Unavailable("IdP answered HTTP " + std::to_string(status));
  }
  return body;
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
  json jwks = json::parse(*jwks_text, nullptr, false);
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    return fail(core::Unavailable("JWKS document has no keys array"));
  }
  std::map<std::string, std::shared_ptr<const RsaPublicKey>, std::less<>> fresh;
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
  if (fresh.empty()) return fail(core::Unavailable("JWKS holds no usable RS256 key"));
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
      telemetry::Span span = telemetry_.tracer.StartSpan("jwks_refresh",
                                                         telemetry::SpanKind::kInternal, {});
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

// JwksCache: the issuer's RS256 verification keys, found through OIDC discovery
// ({issuer}/.well-known/openid-configuration → jwks_uri), fetched with runtime::CallHttp. Keys are
// cached by kid and refreshed on a schedule (root span `jwks_refresh`) and when a token names an
// unknown kid (at most once per min interval, as a child of the caller's span). A failed refresh
// keeps the cached keys. Every fetch is a CLIENT span `GET {url.template}` (attribute set H) that
// sends a traceparent. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"
#include "metrics.hpp"

struct evp_pkey_st;

namespace chat::auth_service {

// An RSA public key from a JWK (n, e). Immutable; safe to share across threads.
class RsaPublicKey {
 public:
  // invalid_argument when n/e are not base64url or OpenSSL rejects them.
  static core::Result<std::shared_ptr<const RsaPublicKey>> FromJwk(std::string_view n_b64url,
                                                                   std::string_view e_b64url);
  ~RsaPublicKey();
  RsaPublicKey(const RsaPublicKey&) = delete;
  RsaPublicKey& operator=(const RsaPublicKey&) = delete;

  // RSASSA-PKCS1-v1_5 with SHA-256 (JWS "RS256").
  bool VerifyRs256(std::string_view data, std::string_view signature) const;

 private:
  explicit RsaPublicKey(evp_pkey_st* pkey) : pkey_(pkey) {}
  evp_pkey_st* pkey_;
};

// The usable keys of a JWKS document (RFC 7517) by kid: kty RSA with a kid, use absent or "sig",
// alg absent or "RS256", n/e a valid key of at least 2048 bits; other entries are skipped.
// unavailable when the document has no keys array or no usable key. (Its own function so the
// fuzz target fuzz/fuzz_auth_jwks reaches it.)
using JwksKeys = std::map<std::string, std::shared_ptr<const RsaPublicKey>, std::less<>>;
core::Result<JwksKeys> ParseJwks(std::string_view text);

enum class RefreshTrigger { kScheduled, kUnknownKid };

class JwksCache {
 public:
  JwksCache(const AuthConfig& config, const telemetry::Telemetry& telemetry,
            const core::Clock& clock, AuthMetrics& metrics);
  ~JwksCache();  // StopPeriodic()
  JwksCache(const JwksCache&) = delete;
  JwksCache& operator=(const JwksCache&) = delete;

  // One refresh now: discovery (first time or after a failure), then the JWKS. On success the
  // cache is replaced by the fetched RS256 keys; on failure the cached keys stay (the periodic
  // loop then marks its span with event stale_keys). Counts auth_jwks_refresh_total{result,
  // trigger}. HTTP spans are children of `parent`. Errors: unavailable (transport, HTTP status,
  // bad document).
  core::Status Refresh(RefreshTrigger trigger, const telemetry::SpanContext& parent);

  // Runs a `jwks_refresh` root span now and then every config.jwks_refresh on a background
  // thread until StopPeriodic().
  void StartPeriodic();
  void StopPeriodic();

  std::shared_ptr<const RsaPublicKey> Find(std::string_view kid) const;

  enum class LookupOutcome { kFound, kUnknown, kRateLimited, kRefreshFailed };
  struct Lookup {
    std::shared_ptr<const RsaPublicKey> key;
    LookupOutcome outcome = LookupOutcome::kUnknown;
  };
  // The cached key, or — when `kid` is unknown and the last unknown-kid refresh is at least
  // config.jwks_min_refresh_interval old — the key after one refresh (spans under `parent`).
  Lookup FindOrRefresh(std::string_view kid, const telemetry::SpanContext& parent);

  size_t key_count() const;

 private:
  // GET with a CLIENT span; unavailable on transport failure or status >= 400.
  core::Result<std::string> Fetch(const std::string& url, const telemetry::SpanContext& parent);
  void PeriodicLoop();

  const AuthConfig& config_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;
  AuthMetrics& metrics_;

  mutable std::mutex keys_mu_;
  JwksKeys keys_;

  std::mutex refresh_mu_;  // one refresh at a time; guards the fields below
  std::string jwks_uri_;   // from discovery; cleared when a fetch fails so discovery reruns
  std::optional<std::chrono::steady_clock::time_point> last_unknown_kid_refresh_;

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  std::thread loop_;
};

}  // namespace chat::auth_service

// AuthServer: auth-service's HTTP API on runtime::HttpServer (the shared HTTP route layer):
//   POST /auth/v1/credentials   Bearer OIDC access token + {"nkey":"U…"} → a NATS user JWT
//   OPTIONS /auth/v1/credentials  CORS preflight for CHAT_AUTH_CORS_ORIGINS
//   GET /healthz, GET /readyz      live; ready once the JWKS cache holds a key
// It owns the JWKS cache (periodic refresh), the token verifier and the minter. Each credential
// request is one SERVER span continuing an inbound traceparent, one auth_requests_total increment
// and one log line (WARN per rejection, INFO per grant); tokens, JWTs and seeds are never logged.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/runtime/http_server.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"
#include "jwks.hpp"
#include "metrics.hpp"
#include "minter.hpp"
#include "token_verifier.hpp"

namespace chat::auth_service {

inline constexpr std::string_view kCredentialsRoute = "/auth/v1/credentials";
inline constexpr size_t kMaxBodyBytes = size_t{16} * 1024;

// Token bucket per key (a client address, a user): `per_second` requests per second, bursts up
// to `burst`. At most ~10000 keys are kept (full buckets are forgotten first).
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst, const core::Clock& clock)
      : rate_(per_second), burst_(burst), clock_(clock) {}
  bool Allow(const std::string& key);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  const double rate_;
  const double burst_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

class AuthServer {
 public:
  // Loads the signing material (LoadSigningMaterial) and registers the metrics. Nothing listens
  // and nothing is fetched yet. Errors: those of LoadSigningMaterial.
  static core::Result<std::unique_ptr<AuthServer>> Create(AuthConfig config,
                                                          const telemetry::Telemetry& telemetry,
                                                          const core::Clock& clock);
  ~AuthServer();  // Stop()
  AuthServer(const AuthServer&) = delete;
  AuthServer& operator=(const AuthServer&) = delete;

  // Binds host:port (unavailable when it cannot), serves on a background thread and starts the
  // periodic JWKS refresh (the first runs at once). Does not wait for the JWKS: see Ready().
  core::Status Start();
  // Stops the refresh loop and the listener (in-flight requests finish). Idempotent.
  void Stop();

  int port() const { return port_.load(); }
  bool Ready() const { return jwks_.key_count() > 0; }
  JwksCache& jwks() { return jwks_; }
  const Minter& minter() const { return minter_; }
  const AuthConfig& config() const { return config_; }

 private:
  struct Outcome;
  AuthServer(AuthConfig config, const telemetry::Telemetry& telemetry, const core::Clock& clock,
             SigningMaterial material);
  void RegisterRoutes();
  void HandleCredentials(runtime::HttpExchange& ex);
  Outcome Process(const runtime::HttpExchange& ex, const std::string& client,
                  const telemetry::SpanContext& ctx);
  bool OriginAllowed(const std::string& origin) const;

  AuthConfig config_;
  AuthMetrics metrics_;
  JwksCache jwks_;
  TokenVerifier verifier_;
  Minter minter_;
  RateLimiter limiter_;       // per client address (TrustedProxies::ClientAddress)
  RateLimiter user_limiter_;  // per verified token subject

  // Bodies up to kMaxBodyBytes on the credential route only, no Content-Encoding (issue 11 §4);
  // span, body limit, log line and exception catch per route.
  runtime::HttpServer server_;
  std::atomic<int> port_{0};
  std::atomic<bool> started_{false};
};

}  // namespace chat::auth_service

// AuthConfig: auth-service settings (CHAT_AUTH_*), read and validated in one pass so a bad value
// stops the process with exit code 2 and one sentence naming every problem (style rule 11).
// LoadSigningMaterial reads the CHAT account signing seed that `natskeys init` wrote
// (libs/nkeys local_operator.hpp layout) and finds the account it signs for.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"
#include "chat/nkeys/nkeys.hpp"
#include "client_address.hpp"

namespace chat::auth_service {

struct AuthConfig {
  std::string issuer_url;                  // exact `iss`; discovery lives under it
  std::string audience = "nats-chat-app";  // accepted in `aud` (string or array) or as `azp`
  std::chrono::seconds clock_skew{30};
  std::string account_signing_seed_file = "var/nats/keys/CHAT-signing.seed";
  std::string account_public_key;  // empty → from accounts.json next to keys/
  std::chrono::seconds jwt_ttl{3600};
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 9430;  // 0: the kernel picks one
  std::chrono::seconds jwks_refresh{300};
  std::chrono::seconds jwks_min_refresh_interval{10};
  std::vector<std::string> cors_origins;  // exact origins; empty = same-origin only
  int rate_limit_per_second = 20;         // per client address; the bucket holds one second's worth
  // Per user (the verified token's `sub`): a minute's worth may come at once, then this rate.
  int user_rate_limit_per_minute = 60;
  // Peers whose X-Forwarded-For names the client (nginx). Loopback: nginx on this host.
  TrustedProxies trusted_proxies = TrustedProxies::Loopback();
  std::chrono::milliseconds http_timeout{5000};  // each IdP fetch (discovery, JWKS)
  // Per-user limits written into every minted user JWT (issue 11 item 6; nats-server enforces
  // them per connection): subscriptions and the largest payload one publish may carry.
  int64_t user_max_subscriptions = 500;
  int64_t user_max_payload_bytes = 65536;

  // CHAT_AUTH_ISSUER_URL (required), _AUDIENCE, _CLOCK_SKEW_SECONDS,
  // _ACCOUNT_SIGNING_SEED_FILE, _ACCOUNT_PUBLIC_KEY, _JWT_TTL_SECONDS, _HTTP_HOST, _HTTP_PORT,
  // _JWKS_REFRESH_SECONDS, _JWKS_MIN_REFRESH_INTERVAL_SECONDS, _CORS_ORIGINS,
  // _RATE_LIMIT_PER_SECOND, _USER_RATE_LIMIT_PER_MINUTE, _TRUSTED_PROXIES, _IDP_TIMEOUT_MS,
  // _USER_MAX_SUBSCRIPTIONS, _USER_MAX_PAYLOAD_BYTES. Problems are recorded in `reader`.
  static AuthConfig FromEnv(core::EnvReader& reader);
  static core::Result<AuthConfig> FromEnv(const core::Env& env);
};

// The account signing key and the account public key that goes into `issuer_account`.
struct SigningMaterial {
  nkeys::KeyPair signing_key;
  std::string account_public_key;
};

// Reads config.account_signing_seed_file (must be an account seed "SA…"). When
// config.account_public_key is empty, reads <seed dir>/../accounts.json and takes the account
// whose `signing_key` is this key. Errors: invalid_argument (bad seed, key mismatch),
// not_found (missing files). Never puts the seed in a message.
core::Result<SigningMaterial> LoadSigningMaterial(const AuthConfig& config);

}  // namespace chat::auth_service

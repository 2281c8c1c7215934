#include "config.hpp"

#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "chat/contracts/quotas.hpp"
#include "chat/core/origin.hpp"
#include "chat/core/strings.hpp"
#include "chat/nkeys/local_operator.hpp"

namespace chat::auth_service {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

}  // namespace

AuthConfig AuthConfig::FromEnv(core::EnvReader& reader) {
  AuthConfig c;
  c.issuer_url = reader.RequiredString("CHAT_AUTH_ISSUER_URL");
  if (!c.issuer_url.empty() && !c.issuer_url.starts_with("http://") &&
      !c.issuer_url.starts_with("https://")) {
    reader.AddProblem("CHAT_AUTH_ISSUER_URL \"" + c.issuer_url + "\" is not an http(s) URL");
  }
  c.audience = reader.String("CHAT_AUTH_AUDIENCE", c.audience);
  if (c.audience.empty()) reader.AddProblem("CHAT_AUTH_AUDIENCE is empty");
  c.clock_skew = std::chrono::seconds(reader.Int("CHAT_AUTH_CLOCK_SKEW_SECONDS", 30, 0, 600));
  c.account_signing_seed_file =
      reader.String("CHAT_AUTH_ACCOUNT_SIGNING_SEED_FILE", c.account_signing_seed_file);
  if (c.account_signing_seed_file.empty()) {
    reader.AddProblem("CHAT_AUTH_ACCOUNT_SIGNING_SEED_FILE is empty");
  }
  c.account_public_key = reader.String("CHAT_AUTH_ACCOUNT_PUBLIC_KEY", "");
  if (!c.account_public_key.empty() &&
      !nkeys::IsValidPublicKey(c.account_public_key, nkeys::KeyType::kAccount)) {
    reader.AddProblem("CHAT_AUTH_ACCOUNT_PUBLIC_KEY is not an account public key");
  }
  c.jwt_ttl = std::chrono::seconds(reader.Int("CHAT_AUTH_JWT_TTL_SECONDS", 3600, 10, 86400));
  c.http_host = reader.String("CHAT_AUTH_HTTP_HOST", c.http_host);
  c.http_port = reader.Port("CHAT_AUTH_HTTP_PORT", c.http_port);
  c.jwks_refresh =
      std::chrono::seconds(reader.Int("CHAT_AUTH_JWKS_REFRESH_SECONDS", 300, 5, 86400));
  c.jwks_min_refresh_interval =
      std::chrono::seconds(reader.Int("CHAT_AUTH_JWKS_MIN_REFRESH_INTERVAL_SECONDS", 10, 0, 3600));
  for (const auto& o : core::SplitComma(reader.String("CHAT_AUTH_CORS_ORIGINS", ""))) {
    if (!core::IsHttpOrigin(o)) {
      reader.AddProblem("CHAT_AUTH_CORS_ORIGINS entry \"" + o +
                        "\" is not an origin (scheme://host[:port])");
    } else {
      c.cors_origins.push_back(o);
    }
  }
  c.rate_limit_per_second =
      static_cast<int>(reader.Int("CHAT_AUTH_RATE_LIMIT_PER_SECOND", 20, 1, 100000));
  c.user_rate_limit_per_minute =
      static_cast<int>(reader.Int("CHAT_AUTH_USER_RATE_LIMIT_PER_MINUTE", 60, 1, 1000000));
  auto proxies = TrustedProxies::Parse(reader.String("CHAT_AUTH_TRUSTED_PROXIES", "127.0.0.1,::1"));
  if (proxies.ok()) {
    c.trusted_proxies = std::move(proxies).value();
  } else {
    reader.AddProblem("CHAT_AUTH_TRUSTED_PROXIES: " + proxies.status().message());
  }
  c.http_timeout =
      std::chrono::milliseconds(reader.Int("CHAT_AUTH_IDP_TIMEOUT_MS", 5000, 100, 60000));
  c.user_max_subscriptions = reader.Int("CHAT_AUTH_USER_MAX_SUBSCRIPTIONS",
                                        contracts::quotas::kUserMaxSubscriptions, 10, 1'000'000);
  // At least one contract payload (64 KiB); at most nats-server's own max_payload (1 MB).
  c.user_max_payload_bytes =
      reader.Int("CHAT_AUTH_USER_MAX_PAYLOAD_BYTES", contracts::quotas::kUserMaxPayloadBytes,
                 contracts::quotas::kUserMaxPayloadBytes, 1 << 20);
  return c;
}

core::Result<AuthConfig> AuthConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  AuthConfig c = FromEnv(reader);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

core::Result<SigningMaterial> LoadSigningMaterial(const AuthConfig& config) {
  namespace fs = std::filesystem;
  const fs::path seed_path(config.account_signing_seed_file);
  auto text = nkeys::ReadTextFile(seed_path);
  if (!text.ok()) {
    return core::NotFound("cannot read account signing seed file " + seed_path.string());
  }
  auto key = nkeys::KeyPair::FromSeed(Trim(*text));
  if (!key.ok() || key->type() != nkeys::KeyType::kAccount) {
    return core::InvalidArgument("account signing seed file " + seed_path.string() +
                                 " does not hold an account seed");
  }
  SigningMaterial out{std::move(key).value(), config.account_public_key};
  if (!out.account_public_key.empty()) return out;

  // Layout of InitOperatorDir: <dir>/keys/<name>.seed and <dir>/accounts.json.
  fs::path accounts_path = seed_path.parent_path().parent_path() / "accounts.json";
  auto accounts_text = nkeys::ReadTextFile(accounts_path);
  if (!accounts_text.ok()) {
    return core::NotFound("CHAT_AUTH_ACCOUNT_PUBLIC_KEY is unset and " + accounts_path.string() +
                          " cannot be read");
  }
  auto accounts = nlohmann::json::parse(*accounts_text, nullptr, false);
  if (accounts.is_object() && accounts.contains("accounts") && accounts["accounts"].is_object()) {
    for (const auto& [name, acct] : accounts["accounts"].items()) {
      if (!acct.is_object()) continue;
      auto sk = acct.find("signing_key");
      auto pk = acct.find("public_key");
      if (sk != acct.end() && pk != acct.end() && sk->is_string() && pk->is_string() &&
          sk->get<std::string>() == out.signing_key.public_key()) {
        out.account_public_key = pk->get<std::string>();
        if (!nkeys::IsValidPublicKey(out.account_public_key, nkeys::KeyType::kAccount)) {
          return core::InvalidArgument(accounts_path.string() + " names an invalid account key");
        }
        return out;
      }
    }
  }
  return core::InvalidArgument(accounts_path.string() +
                               " names no account whose signing key matches the seed file");
}

}  // namespace chat::auth_service

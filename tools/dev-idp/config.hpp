// IdpConfig: the dev-idp settings (CHAT_IDP_*), read and validated in one pass so a bad value
// stops the process with exit code 2 and one sentence naming every problem (style rule 11).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::devidp {

struct IdpConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: the kernel picks one (tests)
  // Exactly the `iss` claim and the discovery `issuer`; empty → http://<host>:<port>/realms/
  // nats-chat, computed once the port is bound. Its path is where the realm routes are served.
  std::string issuer;
  std::string state_dir = "var/idp";
  std::chrono::seconds token_ttl{300};
  std::string client_id = "nats-chat-app";
  // Allowed redirect URI prefixes. A prefix without a port ("http://localhost") allows any port.
  std::vector<std::string> redirect_origins = {"http://127.0.0.1", "http://localhost"};
  std::string users_file;  // empty → the seeded users of system.md §2.6
  int pbkdf2_iterations = 600000;
  std::chrono::seconds code_ttl{60};
  std::chrono::seconds refresh_ttl{1800};   // realm SSO idle timeout
  std::chrono::seconds session_max{36000};  // realm SSO max lifespan
  // Failed sign-ins allowed per minute (bursts up to the same number), per account (the typed
  // login, known or not) and per client address; beyond them 429 before any password hashing.
  int login_failures_per_user_per_minute = 10;
  int login_failures_per_address_per_minute = 30;
  // The master realm's bootstrap administrator, configured like Keycloak's (KEYCLOAK_ADMIN,
  // KEYCLOAK_ADMIN_PASSWORD; admin/admin locally, system.md §2.6): the only account of the
  // `master` realm, whose password grant with client `admin-cli` yields the admin token the
  // admin API (GET /admin/realms/{realm}/users) takes. Never logged.
  std::string admin_username = "admin";
  std::string admin_password = "admin";
  // Lifespan of master-realm access tokens (Keycloak's master realm default: 60 s).
  std::chrono::seconds admin_token_ttl{60};

  // CHAT_IDP_HOST, _PORT, _ISSUER, _STATE_DIR, _TOKEN_TTL_SECONDS, _CLIENT_ID,
  // _REDIRECT_ORIGINS, _USERS_FILE, _PBKDF2_ITERATIONS, _LOGIN_FAILURES_PER_USER_PER_MINUTE,
  // _LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE, _ADMIN_TOKEN_TTL_SECONDS, and KEYCLOAK_ADMIN /
  // KEYCLOAK_ADMIN_PASSWORD. Problems are recorded in `reader`.
  static IdpConfig FromEnv(core::EnvReader& reader);
  static core::Result<IdpConfig> FromEnv(const core::Env& env);
};

// The path part of an http(s) URL ("/realms/nats-chat"), or an error when the URL has none.
core::Result<std::string> UrlPath(std::string_view url);

// True when `uri` starts with one of `prefixes` on a component boundary: a prefix without a port
// ("http://localhost") matches that host on any port; otherwise the next character after the
// prefix must end the authority or path segment. URIs with a fragment, user-info or CR/LF never
// match.
bool RedirectAllowed(std::string_view uri, const std::vector<std::string>& prefixes);

}  // namespace chat::devidp

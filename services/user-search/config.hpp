// user-search-service configuration (README.md "Configuration"), read once at start-up with
// core::EnvReader; invalid settings exit 2 before anything connects, with one sentence naming
// every problem.
#pragma once

#include <chrono>
#include <string>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::user_search_service {

struct UserSearchConfig {
  // CHAT_USER_SEARCH_IDP_URL (the reference's KEYCLOAK_URL; required): the identity provider's root
  // URL, http(s), without the realm path ("http://keycloak:8080", dev-idp "http://127.0.0.1:8080");
  // normalised without a trailing '/'.
  std::string idp_url;
  // CHAT_USER_SEARCH_REALM (the reference's KEYCLOAK_REALM): the realm whose users are searched.
  std::string realm = "nats-chat";
  // CHAT_USER_SEARCH_ADMIN_USER / _ADMIN_PASSWORD (the reference's KEYCLOAK_ADMIN_USER / _PASS): a
  // master realm administrator (password grant, client admin-cli). The password is required and
  // never logged.
  std::string admin_user = "admin";
  std::string admin_password;
  // CHAT_USER_SEARCH_IDP_TIMEOUT_MS: connect + total time of one IdP call.
  std::chrono::milliseconds idp_timeout{3000};
  // CHAT_USER_SEARCH_RATE_PER_MINUTE / _RATE_BURST: each user's token bucket.
  int rate_per_minute = 60;
  int rate_burst = 10;
  // CHAT_USER_SEARCH_STARTUP_ATTEMPTS: tries (2 s apart) to obtain the first admin token before
  // the service gives up at start-up (system.md §6.10: 30 × 2 s).
  int startup_attempts = 30;

  static core::Result<UserSearchConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::user_search_service

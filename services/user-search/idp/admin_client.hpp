// IdpAdminClient: the identity provider's admin API, called exactly as against Keycloak (so the
// service runs unchanged against dev-idp locally and Keycloak in production, decisions.md):
//
//   token:  POST {idp}/realms/master/protocol/openid-connect/token
//           grant_type=password&client_id=admin-cli&username=…&password=…
//   search: GET  {idp}/admin/realms/{realm}/users?search=…&max=…  (Authorization: Bearer …)
//
// The admin token is cached until shortly before its `expires_in` (30 s before, or half its
// lifetime when that is shorter) and fetched again then; a search answered 401 (token revoked,
// IdP restarted with new keys, clock skew) drops the token, fetches a new one and retries once.
// Token fetches are single-flight: concurrent searches wait for the one fetch in progress; after
// a failed fetch, searches fail at once for kFailureBackoff instead of queueing behind one
// timeout each while the IdP is down.
// Every call is a traced CLIENT span (`POST|GET {url.template}`, peer.service=idp) that sends a
// traceparent, with the configured timeout; a response body over 1 MiB fails the call. Every
// failure is `unavailable` with a message that names the step, never a credential or a token.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"

namespace chat::user_search_service {

// One user of the IdP's answer, reduced to what the reply may carry.
struct IdpUser {
  std::string username;
  std::string first_name;
  std::string last_name;
};

class IdpAdminClient {
 public:
  // Refresh this long before the token's expiry at most (system.md §6.10: 30 s).
  static constexpr std::chrono::seconds kRefreshMargin{30};
  // After a failed token fetch, searches answer `unavailable` without a new fetch for this long.
  static constexpr std::chrono::seconds kFailureBackoff{1};

  IdpAdminClient(UserSearchConfig config, const telemetry::Telemetry& telemetry,
                 const core::Clock& clock);

  // Up to `max` users of the realm matching `query` (the IdP's search semantics), in its order,
  // kept only when `query` is in the username, first or last name (ASCII case-insensitive): the
  // IdP also matches e-mail addresses, which must not reveal a username. Users that are
  // disabled, or whose username cannot be a chat user id (system.md §2.2), are left out.
  core::Result<std::vector<IdpUser>> SearchUsers(std::string_view query, std::size_t max,
                                                 const telemetry::SpanContext& parent);

  // Obtains a token now unless a fresh one is cached (start-up readiness).
  core::Status EnsureToken(const telemetry::SpanContext& parent);

  // Token requests made so far (tests, start-up log).
  std::size_t token_requests() const;

 private:
  struct SearchOutcome {
    long status = 0;
    std::string body;
  };
  // The cached token, or a new one when there is none, it is due for refresh, or it is
  // `rejected` (the token a 401 came back for). Within kFailureBackoff of a failed fetch the
  // failure is returned again unless `force`.
  core::Result<std::string> Token(const telemetry::SpanContext& parent, std::string_view rejected,
                                  bool force = false);
  core::Result<std::string> FetchToken(const telemetry::SpanContext& parent,
                                       std::chrono::steady_clock::time_point now);
  core::Result<SearchOutcome> CallSearch(const std::string& token, std::string_view query,
                                         std::size_t max, const telemetry::SpanContext& parent);

  const UserSearchConfig config_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;

  mutable std::mutex mu_;  // held across a token fetch: single flight
  std::string token_;
  std::chrono::steady_clock::time_point refresh_at_{};
  std::chrono::steady_clock::time_point failed_until_{};
  core::Status last_failure_;
  std::size_t token_requests_ = 0;
};

}  // namespace chat::user_search_service

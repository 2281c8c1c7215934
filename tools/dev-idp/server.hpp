// IdpServer: the OpenID Connect endpoints of the development issuer (discovery, JWKS, login page
// with authorization code + PKCE, token grants, userinfo, logout, loopback-only key rotation) on
// cpp-httplib threads. Each request gets one SERVER span `{method} {http.route}` and the idp_*
// metrics; tokens, codes and passwords never reach a log. Codes, sessions and refresh tokens
// live in memory (SessionStore): a restart signs everybody out.
//
// One job per file: server.cpp (construction, routing, spans, metrics, JWT signing),
// discovery.cpp (discovery, JWKS, key rotation), authorize.cpp (authorization endpoint and login
// page), login.cpp (sign-in throttling and rejection accounting), token.cpp (token grants),
// userinfo_logout.cpp, admin.cpp (the Keycloak admin API subset: the master realm's admin-cli
// password grant and the realm's user search), with http_util.hpp for the shared HTTP helpers.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/telemetry/sdk/http_listener.hpp"
#include "chat/telemetry/sdk/http_router.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"
#include "key_store.hpp"
#include "session_store.hpp"
#include "throttle.hpp"
#include "users.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace chat::devidp {

class IdpServer {
 public:
  // Request bodies (urlencoded forms) are small; anything larger is refused unread (413).
  static constexpr size_t kMaxBodyBytes = size_t{16} * 1024;

  // Opens the key store (generating the first key), builds the user directory (seeded or from
  // config.users_file) and registers the metrics. Nothing listens yet.
  static core::Result<std::unique_ptr<IdpServer>> Create(IdpConfig config,
                                                         const telemetry::Telemetry& telemetry,
                                                         const core::Clock& clock);
  ~IdpServer();  // Stop()
  IdpServer(const IdpServer&) = delete;
  IdpServer& operator=(const IdpServer&) = delete;

  // Binds host:port (kUnavailable when it cannot) and serves on a background thread.
  core::Status Start();
  // Stops accepting, lets in-flight requests finish and joins. Idempotent.
  void Stop();

  int port() const { return port_.load(); }
  // The effective issuer (known after Start() when config.issuer was empty).
  std::string issuer() const;
  KeyStore& keys() { return *keys_; }
  const UserDirectory& users() const { return users_; }
  // The master realm's issuer (`iss` of admin tokens): the realm issuer with "master" as realm.
  std::string master_issuer() const;

 private:
  struct Metrics;
  struct RequestScope;
  using Params = std::map<std::string, std::string, std::less<>>;

  IdpServer(IdpConfig config, const telemetry::Telemetry& telemetry, const core::Clock& clock,
            std::unique_ptr<KeyStore> keys, UserDirectory users, UserDirectory admins);

  void RegisterRoutes();
  // Registers a handler on the router (span, RED metrics, body limit, log line, exception catch)
  // with dev-idp's CORS headers on `cors` routes.
  void Route(const char* method, const std::string& path, const std::string& route, bool cors,
             std::function<void(RequestScope&)> fn);

  // Not const: every handler has the route table's one signature.
  void HandleDiscovery(RequestScope& rq);  // NOLINT(readability-make-member-function-const)
  void HandleCerts(RequestScope& rq);
  void HandleAuthGet(RequestScope& rq);
  void HandleAuthPost(RequestScope& rq);
  void HandleToken(RequestScope& rq);
  void HandleUserinfo(RequestScope& rq);
  void HandleLogout(RequestScope& rq);
  void HandleRotate(RequestScope& rq);
  void HandleMasterToken(RequestScope& rq);
  void HandleAdminUsers(RequestScope& rq);

  // Validates an authorization request; on failure writes the response (error page or error
  // redirect) and returns false.
  bool ValidateAuthorizeRequest(RequestScope& rq, const Params& p);
  void RenderLoginPage(RequestScope& rq, const Params& p, int status, std::string_view error,
                       std::string_view username);
  void TokenGrantAuthorizationCode(RequestScope& rq, const Params& p);
  void TokenGrantPassword(RequestScope& rq, const Params& p);
  void TokenGrantRefresh(RequestScope& rq, const Params& p);
  void IssueTokens(RequestScope& rq, const User& user, const std::string& sid,
                   const std::string& nonce, std::string_view grant_type);
  // Counts idp_login_failures_total{reason} and logs WARN "login rejected". `user` is the
  // account the attempt named (nullptr when none); `typed` what was typed, logged only as a
  // keyed hash when it names no account (it may be a password typed into the wrong field).
  void RejectLogin(RequestScope& rq, std::string_view reason, const User* user,
                   std::string_view typed = {});
  // chat.idp.username (+ chat.idp.login_ref) for a log line about a typed login.
  void AddLoginFields(std::vector<telemetry::Attribute>& fields, const User* user,
                      std::string_view typed) const;

  // Throttle keys of one sign-in attempt.
  struct LoginAttempt {
    std::string user_key;
    std::string address_key;
  };
  LoginAttempt AttemptOf(RequestScope& rq, std::string_view typed, const User* named) const;
  // Reserves one failure unit per key; when a budget is spent, counts
  // idp_login_failures_total{throttled}, logs WARN "login throttled", sets `retry_after` and
  // returns false. Runs before any password hashing.
  bool AdmitLogin(RequestScope& rq, const LoginAttempt& attempt, const User* named,
                  std::string_view typed, int64_t& retry_after);
  void LoginSucceeded(const LoginAttempt& attempt);  // gives the reserved units back

  core::Result<std::string> SignJwt(const std::string& payload_json) const;
  // Verifies signature (any published key), `iss`, and — unless allow_expired — `exp`.
  core::Result<std::string> VerifyJwt(std::string_view token, bool allow_expired) const;
  // The same against another realm's issuer (the master realm's admin tokens).
  core::Result<std::string> VerifyJwtFor(std::string_view token, bool allow_expired,
                                         const std::string& expected_issuer) const;
  int64_t NowSeconds() const;

  IdpConfig config_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;
  std::unique_ptr<KeyStore> keys_;
  UserDirectory users_;
  UserDirectory admins_;  // the master realm: the one bootstrap administrator
  std::unique_ptr<Metrics> metrics_;
  std::string base_path_;     // path of the issuer, e.g. /realms/nats-chat
  std::string route_prefix_;  // the same with the realm replaced: /realms/{realm}
  std::string realm_;         // the realm's name, the last segment of base_path_: nats-chat
  std::string master_path_;   // base_path_ with the realm replaced by master: /realms/master
  int64_t started_ms_ = 0;    // createdTimestamp of every user (the directory is built at start)
  LoginThrottle user_throttle_;
  LoginThrottle address_throttle_;
  const std::string log_key_;  // per-process key of chat.idp.login_ref hashes

  mutable std::mutex issuer_mu_;
  std::string issuer_;

  SessionStore store_;  // codes, sessions, refresh-token families

  std::unique_ptr<httplib::Server> server_;
  // Form bodies up to kMaxBodyBytes on the POST routes; no Content-Encoding anywhere.
  std::unique_ptr<telemetry::sdk::HttpRouter> router_;
  telemetry::sdk::HttpListener listener_;
  std::atomic<int> port_{0};
  std::atomic<bool> started_{false};
};

}  // namespace chat::devidp

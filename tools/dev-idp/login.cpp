// Sign-in bookkeeping shared by the login page and the password grant: throttle keys and
// budgets, and the metrics and log lines of a rejected login (never the password or token).
#include <nlohmann/json.hpp>

#include "crypto.hpp"
#include "http_util.hpp"
#include "server.hpp"
#include "server_internal.hpp"

namespace chat::devidp {

using nlohmann::json;

void IdpServer::AddLoginFields(std::vector<telemetry::Attribute>& fields, const User* user,
                               std::string_view typed) const {
  if (user != nullptr) {
    fields.push_back({"chat.idp.username", user->username});  // validated at load: log-safe
    return;
  }
  if (typed.empty()) return;
  // Not an account: the text may be a password typed into the username field, so it never
  // reaches the log. A keyed hash (key per process, so it cannot be brute-forced offline)
  // still lets an operator see that the same thing was tried again.
  std::string lowered(typed.substr(0, 256));
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string digest = Sha256(log_key_ + lowered);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string ref;
  for (size_t i = 0; i < 6; ++i) {
    auto b = static_cast<unsigned char>(digest[i]);
    ref += kHex[b >> 4];
    ref += kHex[b & 15];
  }
  fields.push_back({"chat.idp.username", "unknown"});
  fields.push_back({"chat.idp.login_ref", ref});
}

void IdpServer::RejectLogin(RequestScope& rq, std::string_view reason, const User* user,
                            std::string_view typed) {
  metrics_->login_failures.With({reason}).Add(1, &rq.ctx);
  // The password (right or wrong) never reaches a log; the login only when it is an account.
  std::vector<telemetry::Attribute> fields = {{"chat.idp.reason", std::string(reason)}};
  AddLoginFields(fields, user, typed);
  rq.ex.Warn("login rejected", std::move(fields));
}

IdpServer::LoginAttempt IdpServer::AttemptOf(RequestScope& rq, std::string_view typed,
                                             const User* named) const {
  LoginAttempt a;
  if (named != nullptr) {
    a.user_key = "user:" + named->id;  // username and e-mail share one budget
  } else {
    // Unknown logins are throttled like accounts, so the throttle does not tell which exist.
    std::string lowered(typed.substr(0, 128));
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    a.user_key = "login:" + lowered;
  }
  a.address_key = rq.req.remote_addr;
  return a;
}

bool IdpServer::AdmitLogin(RequestScope& rq, const LoginAttempt& attempt, const User* named,
                           std::string_view typed, int64_t& retry_after) {
  std::string_view scope;
  if (!address_throttle_.TryAcquire(attempt.address_key, retry_after)) {
    scope = "address";
  } else if (!user_throttle_.TryAcquire(attempt.user_key, retry_after)) {
    address_throttle_.Release(attempt.address_key);
    scope = "user";
  } else {
    return true;
  }
  metrics_->login_failures.With({"throttled"}).Add(1, &rq.ctx);
  std::vector<telemetry::Attribute> fields = {{"chat.idp.reason", "throttled"},
                                              {"chat.idp.throttle", std::string(scope)},
                                              {"client.address", rq.req.remote_addr},
                                              {"chat.idp.retry_after_s", retry_after}};
  AddLoginFields(fields, named, typed);
  rq.ex.Warn("login throttled", std::move(fields));
  return false;
}

void IdpServer::LoginSucceeded(const LoginAttempt& attempt) {
  user_throttle_.Release(attempt.user_key);
  address_throttle_.Release(attempt.address_key);
}

}  // namespace chat::devidp

#include "idp/admin_client.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "chat/contracts/ids.hpp"
#include "chat/core/strings.hpp"
#include "chat/runtime/http_client.hpp"

namespace chat::user_search_service {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxNameBytes = 256;  // Keycloak's first/last name columns hold 255

std::string Text(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// ASCII letters lowered; other bytes (UTF-8 sequences included) unchanged.
std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The IdP's `search` also matches the e-mail address (Keycloak and dev-idp), which the reply
// never carries: a user found only through it would reveal whose address the query was. Keep a
// user only when the query is in their username, first or last name (ASCII case-insensitive).
bool MatchesVisibleField(const IdpUser& user, std::string_view lowered_query) {
  for (const std::string* field : {&user.username, &user.first_name, &user.last_name}) {
    if (AsciiLower(*field).find(lowered_query) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

IdpAdminClient::IdpAdminClient(UserSearchConfig config, const telemetry::Telemetry& telemetry,
                               const core::Clock& clock)
    : config_(std::move(config)), telemetry_(telemetry), clock_(clock) {}

std::size_t IdpAdminClient::token_requests() const {
  std::lock_guard lock(mu_);
  return token_requests_;
}

core::Status IdpAdminClient::EnsureToken(const telemetry::SpanContext& parent) {
  auto token = Token(parent, {}, /*force=*/true);
  return token.ok() ? core::Status() : token.status();
}

core::Result<std::string> IdpAdminClient::Token(const telemetry::SpanContext& parent,
                                                std::string_view rejected, bool force) {
  std::lock_guard lock(mu_);
  const auto now = clock_.SteadyNow();
  if (!token_.empty() && now < refresh_at_ && token_ != rejected) return token_;
  token_.clear();
  if (!force && now < failed_until_) return last_failure_;
  auto token = FetchToken(parent, now);
  if (!token.ok()) {
    last_failure_ = token.status();
    failed_until_ = now + kFailureBackoff;
  }
  return token;
}

// Called with mu_ held.
core::Result<std::string> IdpAdminClient::FetchToken(const telemetry::SpanContext& parent,
                                                     std::chrono::steady_clock::time_point now) {
  ++token_requests_;
  runtime::HttpCall call;
  call.method = "POST";
  call.url = config_.idp_url + "/realms/master/protocol/openid-connect/token";
  call.content_type = "application/x-www-form-urlencoded";
  call.body = "grant_type=password&client_id=admin-cli&username=" +
              core::PercentEncode(config_.admin_user) +
              "&password=" + core::PercentEncode(config_.admin_password);
  call.peer_service = "idp";
  call.send_traceparent = true;
  call.timeout = config_.idp_timeout;
  call.failure_description = "admin token request failed";
  call.status_message_prefix = "identity provider token endpoint: ";
  auto res = runtime::CallHttp(call, telemetry_, parent);
  if (!res.ok()) {
    return core::Unavailable("identity provider unreachable (admin token): " +
                             res.status().message());
  }
  if (res->status != 200) {
    // 401 invalid_grant: wrong admin credentials; the body is the IdP's, the message is ours.
    return core::Unavailable("identity provider refused the admin token request (HTTP " +
                             std::to_string(res->status) + ")");
  }
  json body = json::parse(res->body, nullptr, false);
  std::string token = body.is_object() ? Text(body, "access_token") : std::string();
  auto expires = body.is_object() ? body.find("expires_in") : body.end();
  if (token.empty() || expires == body.end() || !expires->is_number_integer() ||
      expires->get<int64_t>() <= 0) {
    return core::Unavailable("identity provider token response has no access_token/expires_in");
  }
  const std::chrono::seconds lifetime(expires->get<int64_t>());
  const auto margin = std::min<std::chrono::steady_clock::duration>(kRefreshMargin, lifetime / 2);
  token_ = std::move(token);
  refresh_at_ = now + lifetime - margin;
  return token_;
}

core::Result<IdpAdminClient::SearchOutcome> IdpAdminClient::CallSearch(
    const std::string& token, std::string_view query, std::size_t max,
    const telemetry::SpanContext& parent) {
  runtime::HttpCall call;
  call.method = "GET";
  call.url = config_.idp_url + "/admin/realms/" + config_.realm +
             "/users?search=" + core::PercentEncode(query) + "&max=" + std::to_string(max);
  call.headers = {"Authorization: Bearer " + token};
  call.peer_service = "idp";
  call.send_traceparent = true;
  call.timeout = config_.idp_timeout;
  call.failure_description = "user search request failed";
  call.status_message_prefix = "identity provider admin API: ";
  auto res = runtime::CallHttp(call, telemetry_, parent);
  if (!res.ok()) {
    return core::Unavailable("identity provider unreachable (user search): " +
                             res.status().message());
  }
  return SearchOutcome{res->status, std::move(res->body)};
}

core::Result<std::vector<IdpUser>> IdpAdminClient::SearchUsers(
    std::string_view query, std::size_t max, const telemetry::SpanContext& parent) {
  CHAT_ASSIGN_OR_RETURN(std::string token, Token(parent, {}));
  CHAT_ASSIGN_OR_RETURN(SearchOutcome out, CallSearch(token, query, max, parent));
  if (out.status == 401) {
    // Once: a token the IdP no longer takes (expired early, revoked, keys rotated).
    CHAT_ASSIGN_OR_RETURN(token, Token(parent, token));
    CHAT_ASSIGN_OR_RETURN(out, CallSearch(token, query, max, parent));
  }
  if (out.status != 200) {
    return core::Unavailable("identity provider refused the user search (HTTP " +
                             std::to_string(out.status) + ")");
  }
  json body = json::parse(out.body, nullptr, false);
  if (!body.is_array()) {
    return core::Unavailable("identity provider user search answer is not a JSON array");
  }
  const std::string lowered_query = AsciiLower(query);
  std::vector<IdpUser> users;
  for (const auto& u : body) {
    if (users.size() >= max) break;
    if (!u.is_object()) continue;
    auto enabled = u.find("enabled");
    if (enabled != u.end() && enabled->is_boolean() && !enabled->get<bool>()) continue;
    IdpUser user{Text(u, "username"), Text(u, "firstName"), Text(u, "lastName")};
    if (!contracts::ValidateUsername(user.username).ok()) continue;
    if (user.first_name.size() > kMaxNameBytes || user.last_name.size() > kMaxNameBytes) continue;
    if (!MatchesVisibleField(user, lowered_query)) continue;
    users.push_back(std::move(user));
  }
  return users;
}

}  // namespace chat::user_search_service

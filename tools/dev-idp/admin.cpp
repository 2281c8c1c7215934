// The subset of Keycloak's admin API that user-search-service calls, with Keycloak's request and
// response shapes, so the service runs unchanged against dev-idp or Keycloak:
//
//   POST /realms/master/protocol/openid-connect/token  grant_type=password, client_id=admin-cli,
//        username/password of the bootstrap admin (KEYCLOAK_ADMIN / KEYCLOAK_ADMIN_PASSWORD) →
//        {"access_token","expires_in",…}; bad credentials 401 invalid_grant, another client 401
//        invalid_client, another grant 400 unsupported_grant_type (sign-ins share the login
//        throttle and rejection accounting of the realm's own password grant).
//   GET  /admin/realms/{realm}/users?search=&max=&first=  with `Authorization: Bearer <admin
//        token>` → [UserRepresentation] by username; `search` is a case-insensitive substring of
//        username, first name, last name or e-mail; 401 {"error":"HTTP 401 Unauthorized"} without
//        a token or with a bad or expired one, 403 {"error":"HTTP 403 Forbidden"} for a valid
//        token that is not the master realm administrator's (e.g. a nats-chat user's).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "crypto.hpp"
#include "form.hpp"
#include "http_util.hpp"
#include "server.hpp"
#include "server_internal.hpp"

namespace chat::devidp {

using nlohmann::json;

namespace {

// Longest `search` value taken; Keycloak has none, but a search is a name, not a document.
constexpr size_t kMaxSearchBytes = 256;
constexpr int64_t kMaxPageSize = 1000;  // Keycloak's own default is 100 when `max` is absent

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A non-negative integer query parameter, `def` when absent; nullopt when malformed.
std::optional<int64_t> IntParam(const httplib::Request& req, const char* name, int64_t def) {
  if (!req.has_param(name)) return def;
  std::string v = req.get_param_value(name);
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || out < 0) return std::nullopt;
  return out;
}

void AdminError(httplib::Response& res, int status, std::string_view error) {
  res.status = status;
  json body = {{"error", error}};
  res.set_content(body.dump(), "application/json");
}

json UserRepresentation(const User& u, int64_t created_ms) {
  return {{"id", u.id},
          {"createdTimestamp", created_ms},
          {"username", u.username},
          {"enabled", true},
          {"totp", false},
          {"emailVerified", true},
          {"firstName", u.first_name},
          {"lastName", u.last_name},
          {"email", u.email},
          {"disableableCredentialTypes", json::array()},
          {"requiredActions", json::array()},
          {"notBefore", 0},
          {"access",
           {{"manageGroupMembership", true},
            {"view", true},
            {"mapRoles", true},
            {"impersonate", true},
            {"manage", true}}}};
}

}  // namespace

void IdpServer::HandleMasterToken(RequestScope& rq) {
  std::optional<Params> form = ReadTokenForm(rq.req, rq.res);
  if (!form) return;
  const Params& p = *form;
  std::string grant = Get(p, "grant_type");
  if (Get(p, "client_id") != kAdminCliClient) {
    rq.res.set_header("WWW-Authenticate", "Basic realm=\"master\"");
    TokenError(rq.res, 401, "invalid_client", "Invalid client or Invalid client credentials");
    return;
  }
  if (grant != "password") {
    TokenError(rq.res, 400, "unsupported_grant_type", "Unsupported grant_type");
    return;
  }
  std::string username = Get(p, "username");
  std::string password = Get(p, "password");
  if (username.empty() || password.empty()) {
    TokenError(rq.res, 400, "invalid_request", "Missing parameter: username or password");
    return;
  }
  const User* named = admins_.FindByLogin(username);
  LoginAttempt attempt = AttemptOf(rq, "master:" + username, named);
  int64_t retry_after = 0;
  if (!AdmitLogin(rq, attempt, named, username, retry_after)) {
    rq.res.set_header("Retry-After", std::to_string(retry_after));
    TokenError(
        rq.res, 429, "temporarily_unavailable",
        "Too many failed sign-in attempts; retry in " + std::to_string(retry_after) + " seconds.");
    return;
  }
  auto auth = admins_.Authenticate(username, password);
  if (!auth.user) {
    RejectLogin(rq, LoginFailureName(*auth.failure), auth.named, username);
    TokenError(rq.res, 401, "invalid_grant", "Invalid user credentials");
    return;
  }
  LoginSucceeded(attempt);
  int64_t now = NowSeconds();
  int64_t exp = now + config_.admin_token_ttl.count();
  std::string sid = RandomToken(16);
  json access = {{"exp", exp},
                 {"iat", now},
                 {"jti", RandomToken(16)},
                 {"iss", master_issuer()},
                 {"sub", NameBasedUuid("master:" + auth.user->username)},
                 {"typ", "Bearer"},
                 {"azp", kAdminCliClient},
                 {"sid", sid},
                 {"acr", "1"},
                 {"scope", "profile email"},
                 {"email_verified", false},
                 {"preferred_username", auth.user->username},
                 {"realm_access",
                  {{"roles",
                    {"create-realm", "default-roles-master", "offline_access", "admin",
                     "uma_authorization"}}}}};
  auto token = SignJwt(access.dump());
  if (!token.ok()) {
    TokenError(rq.res, 500, "server_error", "token signing failed");
    return;
  }
  // Keycloak's token response; no refresh token (dev-idp has no refresh grant for admin-cli:
  // a caller asks for a new token with the password grant, as user-search-service does).
  json body = {{"access_token", *token},  {"expires_in", exp - now}, {"refresh_expires_in", 0},
               {"token_type", "Bearer"},  {"not-before-policy", 0},  {"session_state", sid},
               {"scope", "profile email"}};
  rq.res.status = 200;
  rq.res.set_header("Cache-Control", "no-store");
  rq.res.set_header("Pragma", "no-cache");
  rq.res.set_content(body.dump(), "application/json");
  metrics_->admin_tokens_issued.Default().Add(1, &rq.ctx);
  rq.ex.Info("admin token issued", {{"chat.idp.username", auth.user->username}});
}

void IdpServer::HandleAdminUsers(RequestScope& rq) {
  auto refuse = [&](int status, std::string_view result, std::string_view reason) {
    metrics_->admin_requests.With({result}).Add(1, &rq.ctx);
    rq.ex.Warn("admin request refused", {{"chat.idp.reason", std::string(reason)}});
    AdminError(rq.res, status,
               status == 401   ? "HTTP 401 Unauthorized"
               : status == 403 ? "HTTP 403 Forbidden"
                               : reason);
  };
  std::string auth = rq.req.get_header_value("Authorization");
  if (auth.size() < 8 || !(auth.starts_with("Bearer ") || auth.starts_with("bearer "))) {
    refuse(401, "unauthorized", "missing bearer token");
    return;
  }
  std::string_view token = std::string_view(auth).substr(7);
  auto master = VerifyJwtFor(token, /*allow_expired=*/false, master_issuer());
  if (!master.ok()) {
    // A valid token of the administered realm itself authenticates, but its users hold no
    // realm-management role here: Keycloak's 403. Anything else is a 401.
    auto realm = VerifyJwt(token, /*allow_expired=*/false);
    json claims = realm.ok() ? json::parse(*realm, nullptr, false) : json();
    if (claims.is_object() && claims.value("typ", "") == "Bearer") {
      refuse(403, "forbidden", "not an administrator's token");
    } else {
      refuse(401, "unauthorized", master.status().message());
    }
    return;
  }
  json claims = json::parse(*master, nullptr, false);
  bool admin = false;
  if (claims.is_object() && claims.value("typ", "") == "Bearer" &&
      claims.contains("realm_access") && claims["realm_access"].is_object() &&
      claims["realm_access"].contains("roles") && claims["realm_access"]["roles"].is_array()) {
    for (const auto& r : claims["realm_access"]["roles"]) admin |= r.is_string() && r == "admin";
  }
  if (!admin) {
    refuse(403, "forbidden", "token holds no admin role");
    return;
  }
  std::string search = rq.req.get_param_value("search");
  auto max = IntParam(rq.req, "max", 100);
  auto first = IntParam(rq.req, "first", 0);
  if (search.size() > kMaxSearchBytes || !max || !first) {
    refuse(400, "invalid",
           search.size() > kMaxSearchBytes ? "search is too long"
                                           : "max and first must be "
                                             "non-negative integers");
    return;
  }
  // Keycloak's wildcard spelling ("*fio*") means the same substring search here.
  std::string needle = search;
  needle.erase(std::remove(needle.begin(), needle.end(), '*'), needle.end());
  needle = Lower(needle);
  std::vector<const User*> hits;
  for (const auto& u : users_.users()) {
    if (needle.empty() || Lower(u.username).find(needle) != std::string::npos ||
        Lower(u.first_name).find(needle) != std::string::npos ||
        Lower(u.last_name).find(needle) != std::string::npos ||
        Lower(u.email).find(needle) != std::string::npos) {
      hits.push_back(&u);
    }
  }
  std::sort(hits.begin(), hits.end(),
            [](const User* a, const User* b) { return a->username < b->username; });
  const int64_t created_ms = started_ms_;
  json out = json::array();
  int64_t limit = std::min(*max, kMaxPageSize);
  for (size_t i = static_cast<size_t>(std::min<int64_t>(*first, static_cast<int64_t>(hits.size())));
       i < hits.size() && static_cast<int64_t>(out.size()) < limit; ++i) {
    out.push_back(UserRepresentation(*hits[i], created_ms));
  }
  rq.res.status = 200;
  rq.res.set_content(out.dump(), "application/json");
  metrics_->admin_requests.With({"ok"}).Add(1, &rq.ctx);
  rq.ex.Info("admin user search", {{"chat.idp.results", static_cast<int64_t>(out.size())}});
}

}  // namespace chat::devidp

// The token endpoint: the authorization_code (with PKCE), password and refresh_token grants and
// the token response (access, ID and refresh JWTs). Codes, sessions and refresh rotation are
// SessionStore's.
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "chat/core/base64.hpp"
#include "chat/telemetry/semconv.hpp"
#include "crypto.hpp"
#include "form.hpp"
#include "http_util.hpp"
#include "server.hpp"
#include "server_internal.hpp"

namespace chat::devidp {

using nlohmann::json;
namespace semconv = telemetry::semconv;

std::optional<Params> ReadTokenForm(const httplib::Request& req, httplib::Response& res) {
  if (!req.get_header_value("Content-Type").starts_with(kFormContentType)) {
    TokenError(res, 400, "invalid_request",
               "Content-Type must be application/x-www-form-urlencoded");
    return std::nullopt;
  }
  auto params = ParseForm(req.body);
  if (!params.ok()) {
    TokenError(res, 400, "invalid_request", params.status().message());
    return std::nullopt;
  }
  if (Get(*params, "grant_type").empty()) {
    TokenError(res, 400, "invalid_request", "Missing form parameter: grant_type");
    return std::nullopt;
  }
  return std::move(*params);
}

void IdpServer::HandleToken(RequestScope& rq) {
  std::optional<Params> form = ReadTokenForm(rq.req, rq.res);
  if (!form) return;
  const Params& p = *form;
  std::string grant = Get(p, "grant_type");
  if (grant != "authorization_code" && grant != "password" && grant != "refresh_token") {
    TokenError(rq.res, 400, "unsupported_grant_type", "Unsupported grant_type");
    return;
  }
  if (Get(p, "client_id") != config_.client_id) {
    rq.res.set_header("WWW-Authenticate", "Basic realm=\"nats-chat\"");
    TokenError(rq.res, 401, "invalid_client", "Invalid client or Invalid client credentials");
    return;
  }
  if (grant == "authorization_code") {
    TokenGrantAuthorizationCode(rq, p);
  } else if (grant == "password") {
    TokenGrantPassword(rq, p);
  } else {
    TokenGrantRefresh(rq, p);
  }
}

void IdpServer::TokenGrantAuthorizationCode(RequestScope& rq, const Params& p) {
  std::string code = Get(p, "code");
  std::string redirect_uri = Get(p, "redirect_uri");
  std::string verifier = Get(p, "code_verifier");
  if (code.empty()) {
    TokenError(rq.res, 400, "invalid_request", "Missing parameter: code");
    return;
  }
  if (redirect_uri.empty()) {
    TokenError(rq.res, 400, "invalid_request", "Missing parameter: redirect_uri");
    return;
  }
  // Single use: consumed by the first attempt, right or wrong.
  std::optional<SessionStore::AuthCode> entry = store_.TakeCode(code);
  if (!entry || entry->client_id != config_.client_id) {
    RejectLogin(rq, "bad_code", nullptr);
    TokenError(rq.res, 400, "invalid_grant", "Code not valid");
    return;
  }
  const User* user = users_.FindById(entry->user_id);
  if (entry->redirect_uri != redirect_uri) {
    RejectLogin(rq, "bad_redirect", user);
    TokenError(rq.res, 400, "invalid_grant", "Incorrect redirect_uri");
    return;
  }
  std::string computed =
      ValidPkceValue(verifier, 43, 128) ? core::Base64UrlEncode(Sha256(verifier)) : std::string();
  if (computed.empty() || !ConstantTimeEquals(computed, entry->code_challenge)) {
    RejectLogin(rq, "bad_pkce", user);
    TokenError(rq.res, 400, "invalid_grant", "PKCE verification failed: Invalid code verifier");
    return;
  }
  if (user == nullptr) {
    TokenError(rq.res, 400, "invalid_grant", "User not found");
    return;
  }
  std::string sid = RandomToken(16);
  store_.StartSession(sid, user->id, config_.client_id, entry->auth_time);
  IssueTokens(rq, *user, sid, entry->nonce, "authorization_code");
}

void IdpServer::TokenGrantPassword(RequestScope& rq, const Params& p) {
  std::string username = Get(p, "username");
  std::string password = Get(p, "password");
  if (username.empty() || password.empty()) {
    TokenError(rq.res, 400, "invalid_request", "Missing parameter: username or password");
    return;
  }
  const User* named = users_.FindByLogin(username);
  LoginAttempt attempt = AttemptOf(rq, username, named);
  int64_t retry_after = 0;
  if (!AdmitLogin(rq, attempt, named, username, retry_after)) {
    rq.res.set_header("Retry-After", std::to_string(retry_after));
    TokenError(
        rq.res, 429, "temporarily_unavailable",
        "Too many failed sign-in attempts; retry in " + std::to_string(retry_after) + " seconds.");
    return;
  }
  auto auth = users_.Authenticate(username, password);
  if (!auth.user) {
    RejectLogin(rq, LoginFailureName(*auth.failure), auth.named, username);
    TokenError(rq.res, 401, "invalid_grant", "Invalid user credentials");
    return;
  }
  LoginSucceeded(attempt);
  std::string sid = RandomToken(16);
  store_.StartSession(sid, auth.user->id, config_.client_id, NowSeconds());
  IssueTokens(rq, *auth.user, sid, Get(p, "nonce"), "password");
}

void IdpServer::TokenGrantRefresh(RequestScope& rq, const Params& p) {
  std::string token = Get(p, "refresh_token");
  if (token.empty()) {
    TokenError(rq.res, 400, "invalid_request", "Missing parameter: refresh_token");
    return;
  }
  auto payload = VerifyJwt(token, /*allow_expired=*/false);
  json claims = payload.ok() ? json::parse(*payload, nullptr, false) : json();
  if (!payload.ok() || !claims.is_object() || claims.value("typ", "") != "Refresh" ||
      claims.value("azp", "") != config_.client_id || !claims.contains("jti") ||
      !claims["jti"].is_string() || !claims.contains("sid") || !claims["sid"].is_string()) {
    rq.ex.Warn("refresh rejected", {{"chat.idp.reason", "invalid_token"}});
    TokenError(rq.res, 400, "invalid_grant", "Invalid refresh token");
    return;
  }
  std::string jti = claims["jti"].get<std::string>();
  std::string sid = claims["sid"].get<std::string>();
  // Rotation: each refresh token works once; a spent one coming back revokes the whole family.
  SessionStore::RefreshResult used = store_.UseRefresh(jti, sid);
  const std::string& user_id = used.user_id;
  if (used.outcome == SessionStore::RefreshOutcome::kReused) {
    metrics_->login_failures.With({"refresh_reuse"}).Add(1, &rq.ctx);
    std::vector<telemetry::Attribute> fields = {{"chat.idp.reason", "refresh_reuse"},
                                                {"client.address", rq.req.remote_addr}};
    AddLoginFields(fields, user_id.empty() ? nullptr : users_.FindById(user_id), {});
    rq.ex.Warn("refresh token reused; session revoked", std::move(fields));
    TokenError(rq.res, 400, "invalid_grant", "Token is not active");
    return;
  }
  const User* user = user_id.empty() ? nullptr : users_.FindById(user_id);
  if (user == nullptr) {
    rq.ex.Warn("refresh rejected", {{"chat.idp.reason", "not_active"}});
    TokenError(rq.res, 400, "invalid_grant", "Token is not active");
    return;
  }
  IssueTokens(rq, *user, sid, "", "refresh_token");
}

void IdpServer::IssueTokens(RequestScope& rq, const User& user, const std::string& sid,
                            const std::string& nonce, std::string_view grant_type) {
  int64_t now = NowSeconds();
  int64_t auth_time = store_.AuthTime(sid).value_or(now);
  int64_t session_end = auth_time + config_.session_max.count();
  int64_t refresh_exp = std::min(now + config_.refresh_ttl.count(), session_end);
  int64_t access_exp = std::min(now + config_.token_ttl.count(), session_end);
  std::string iss = issuer();

  json roles = json::array();
  for (const auto& r : user.roles) roles.push_back(r);
  for (auto r : kDefaultRoles) roles.push_back(r);
  std::string full_name = user.first_name + (user.last_name.empty() ? "" : " " + user.last_name);
  json profile = {{"email_verified", true},
                  {"name", full_name},
                  {"preferred_username", user.username},
                  {"given_name", user.first_name},
                  {"family_name", user.last_name},
                  {"email", user.email}};

  json access = {
      {"exp", access_exp},
      {"iat", now},
      {"auth_time", auth_time},
      {"jti", RandomToken(16)},
      {"iss", iss},
      {"aud", {"account", config_.client_id}},
      {"sub", user.id},
      {"typ", "Bearer"},
      {"azp", config_.client_id},
      {"sid", sid},
      {"acr", "1"},
      {"allowed-origins", config_.redirect_origins},
      {"realm_access", {{"roles", roles}}},
      {"resource_access",
       {{"account", {{"roles", {"manage-account", "manage-account-links", "view-profile"}}}}}},
      {"scope", kScope}};
  access.update(profile);
  auto access_token = SignJwt(access.dump());

  std::string refresh_jti = RandomToken(16);
  json refresh = {
      {"exp", refresh_exp}, {"iat", now},     {"jti", refresh_jti}, {"iss", iss},
      {"aud", iss},         {"sub", user.id}, {"typ", "Refresh"},   {"azp", config_.client_id},
      {"sid", sid},         {"scope", kScope}};
  auto refresh_token = SignJwt(refresh.dump());

  if (!access_token.ok() || !refresh_token.ok()) {
    rq.ex.Error(
        "token signing failed",
        {{semconv::kErrorType, "signing"},
         {semconv::kExceptionMessage,
          (!access_token.ok() ? access_token.status() : refresh_token.status()).message()}});
    TokenError(rq.res, 500, "server_error", "token signing failed");
    return;
  }
  std::string at_hash = core::Base64UrlEncode(Sha256(*access_token).substr(0, 16));
  json id = {{"exp", access_exp},
             {"iat", now},
             {"auth_time", auth_time},
             {"jti", RandomToken(16)},
             {"iss", iss},
             {"aud", config_.client_id},
             {"sub", user.id},
             {"typ", "ID"},
             {"azp", config_.client_id},
             {"sid", sid},
             {"at_hash", at_hash},
             {"acr", "1"},
             {"realm_access", {{"roles", roles}}}};
  if (!nonce.empty()) id["nonce"] = nonce;
  id.update(profile);
  auto id_token = SignJwt(id.dump());
  if (!id_token.ok()) {
    TokenError(rq.res, 500, "server_error", "token signing failed");
    return;
  }
  store_.AddRefresh(refresh_jti, sid, refresh_exp);
  json body = {{"access_token", *access_token},
               {"expires_in", access_exp - now},
               {"refresh_expires_in", refresh_exp - now},
               {"refresh_token", *refresh_token},
               {"token_type", "Bearer"},
               {"id_token", *id_token},
               {"not-before-policy", 0},
               {"session_state", sid},
               {"scope", kScope}};
  rq.res.status = 200;
  rq.res.set_header("Cache-Control", "no-store");
  rq.res.set_header("Pragma", "no-cache");
  rq.res.set_content(body.dump(), "application/json");
  metrics_->tokens_issued.With({grant_type}).Add(1, &rq.ctx);
  rq.ex.Info("tokens issued", {{"chat.idp.grant_type", std::string(grant_type)},
                               {"chat.idp.username", user.username}});
}

}  // namespace chat::devidp

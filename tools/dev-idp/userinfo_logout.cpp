// The userinfo endpoint (bearer access token of a live session) and RP-initiated logout (ends the
// session named by id_token_hint, then redirects to an allowed post_logout_redirect_uri).
#include <nlohmann/json.hpp>

#include "form.hpp"
#include "http_util.hpp"
#include "server.hpp"
#include "server_internal.hpp"

namespace chat::devidp {

using nlohmann::json;

void IdpServer::HandleUserinfo(RequestScope& rq) {
  auto unauthorized = [&](std::string_view description) {
    rq.res.status = 401;
    rq.res.set_header("WWW-Authenticate",
                      R"(Bearer realm="nats-chat", error="invalid_token", error_description=")" +
                          std::string(description) + "\"");
    json body = {{"error", "invalid_token"}, {"error_description", description}};
    rq.res.set_content(body.dump(), "application/json");
  };
  std::string auth = rq.req.get_header_value("Authorization");
  if (auth.size() < 8 || !(auth.starts_with("Bearer ") || auth.starts_with("bearer "))) {
    unauthorized("Missing bearer token");
    return;
  }
  auto payload = VerifyJwt(std::string_view(auth).substr(7), false);
  json claims = payload.ok() ? json::parse(*payload, nullptr, false) : json();
  if (!payload.ok() || !claims.is_object() || claims.value("typ", "") != "Bearer") {
    unauthorized("Token verification failed");
    return;
  }
  std::string sid = claims.value("sid", "");
  if (!store_.HasSession(sid)) {
    unauthorized("User session not found");
    return;
  }
  const User* user = users_.FindById(claims.value("sub", ""));
  if (user == nullptr) {
    unauthorized("User not found");
    return;
  }
  json roles = json::array();
  for (const auto& r : user->roles) roles.push_back(r);
  for (auto r : kDefaultRoles) roles.push_back(r);
  json body = {{"sub", user->id},
               {"email_verified", true},
               {"name", user->first_name + " " + user->last_name},
               {"preferred_username", user->username},
               {"given_name", user->first_name},
               {"family_name", user->last_name},
               {"email", user->email},
               {"realm_access", {{"roles", roles}}}};
  rq.res.set_header("Cache-Control", "no-store");
  rq.res.set_content(body.dump(), "application/json");
}

void IdpServer::HandleLogout(RequestScope& rq) {
  Params p;
  if (rq.req.method == "POST") {
    auto parsed = ParseForm(rq.req.body);
    if (!parsed.ok()) {
      ErrorPage(rq.res, 400, "Invalid request", "Invalid request: " + parsed.status().message());
      return;
    }
    p = std::move(parsed).value();
  } else {
    std::string_view target = rq.req.target;
    size_t q = target.find('?');
    auto parsed =
        ParseForm(q == std::string_view::npos ? std::string_view{} : target.substr(q + 1));
    if (!parsed.ok()) {
      ErrorPage(rq.res, 400, "Invalid request", "Invalid request: " + parsed.status().message());
      return;
    }
    p = std::move(parsed).value();
  }
  bool hint_valid = false;
  if (std::string hint = Get(p, "id_token_hint"); !hint.empty()) {
    auto payload = VerifyJwt(hint, /*allow_expired=*/true);
    json claims = payload.ok() ? json::parse(*payload, nullptr, false) : json();
    if (payload.ok() && claims.is_object() && claims.value("typ", "") == "ID") {
      hint_valid = true;
      store_.EndSession(claims.value("sid", ""));  // its refresh tokens die with it
    }
  }
  std::string target_uri = Get(p, "post_logout_redirect_uri");
  if (!target_uri.empty()) {
    bool client_ok = hint_valid || Get(p, "client_id") == config_.client_id;
    if (!client_ok || !RedirectAllowed(target_uri, config_.redirect_origins)) {
      ErrorPage(rq.res, 400, "Invalid redirect uri", "Invalid parameter: post_logout_redirect_uri");
      return;
    }
    std::vector<std::pair<std::string, std::string>> params;
    if (p.count("state")) params.emplace_back("state", Get(p, "state"));
    rq.res.status = 302;
    rq.res.set_header("Location", WithParams(target_uri, params, false));
    rq.res.set_header("Cache-Control", "no-store");
    return;
  }
  ErrorPage(rq.res, 200, "Signed out", "You are signed out.");
}

}  // namespace chat::devidp

// The authorization endpoint: validates the authorization request (client, redirect URI, PKCE),
// renders the login page, and on a good password issues a single-use code by redirect.
#include <nlohmann/json.hpp>

#include "crypto.hpp"
#include "form.hpp"
#include "http_util.hpp"
#include "server.hpp"
#include "server_internal.hpp"

namespace chat::devidp {

using nlohmann::json;

bool IdpServer::ValidateAuthorizeRequest(RequestScope& rq, const Params& p) {
  std::string client_id = Get(p, "client_id");
  std::string redirect_uri = Get(p, "redirect_uri");
  if (client_id != config_.client_id) {
    ErrorPage(rq.res, 400, "Client not found", "Client not found.");
    rq.ex.Warn("authorization request rejected", {{"chat.idp.reason", "unknown_client"}});
    return false;
  }
  if (redirect_uri.empty() || !RedirectAllowed(redirect_uri, config_.redirect_origins)) {
    // Never redirect to an unregistered URI: that is the open-redirect / code-theft hole.
    metrics_->login_failures.With({"bad_redirect"}).Add();
    rq.ex.Warn("authorization request rejected", {{"chat.idp.reason", "bad_redirect"}});
    ErrorPage(rq.res, 400, "Invalid parameter: redirect_uri", "Invalid parameter: redirect_uri");
    return false;
  }
  std::string mode = Get(p, "response_mode");
  if (!mode.empty() && mode != "query" && mode != "fragment") {
    ErrorPage(rq.res, 400, "Invalid parameter: response_mode", "Invalid parameter: response_mode");
    return false;
  }
  bool fragment = mode == "fragment";
  auto redirect_error = [&](std::string_view error, std::string_view description) {
    std::vector<std::pair<std::string, std::string>> params = {
        {"error", std::string(error)}, {"error_description", std::string(description)}};
    if (p.count("state")) params.emplace_back("state", Get(p, "state"));
    rq.res.status = 302;
    rq.res.set_header("Location", WithParams(redirect_uri, params, fragment));
    rq.res.set_header("Cache-Control", "no-store");
  };
  if (Get(p, "response_type") != "code") {
    redirect_error("unsupported_response_type",
                   "Client is not allowed to initiate browser login "
                   "with given response_type.");
    return false;
  }
  std::string challenge = Get(p, "code_challenge");
  if (Get(p, "code_challenge_method") != "S256" || !ValidPkceValue(challenge, 43, 128)) {
    metrics_->login_failures.With({"bad_pkce"}).Add();
    rq.ex.Warn("authorization request rejected", {{"chat.idp.reason", "bad_pkce"}});
    redirect_error("invalid_request", "Missing parameter: code_challenge_method S256");
    return false;
  }
  if (Get(p, "prompt") == "none") {
    // No SSO cookie session exists in the dev issuer, so a silent check always fails.
    redirect_error("login_required", "Login required");
    return false;
  }
  return true;
}

void IdpServer::RenderLoginPage(RequestScope& rq, const Params& p, int status,
                                std::string_view error, std::string_view username) {
  static constexpr std::string_view kCarried[] = {
      "client_id",      "redirect_uri",          "response_type", "response_mode", "state",
      "code_challenge", "code_challenge_method", "nonce",         "scope"};
  std::string action = base_path_ + "/protocol/openid-connect/auth";
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>Sign in to nats-chat</title><style>"
      "body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}"
      "label{display:block;font-weight:600;margin-top:1rem}"
      "input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}"
      "button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}"
      ".error{color:#a00000;border:1px solid #a00000;padding:.5rem}"
      "input:focus,button:focus{outline:3px solid #1a5fb4;outline-offset:2px}"
      "</style></head><body><main>"
      "<h1>Sign in to nats-chat</h1>";
  bool has_error = !error.empty();
  if (has_error) {
    html += R"(<p id="login-error" class="error" role="alert">)" + HtmlEscape(error) + "</p>";
  }
  html += R"(<form method="post" action=")" + HtmlEscape(action) + "\">";
  for (auto key : kCarried) {
    auto it = p.find(key);
    if (it == p.end()) continue;
    html += R"(<input type="hidden" name=")" + std::string(key) + "\" value=\"" +
            HtmlEscape(it->second) + "\">";
  }
  std::string described = has_error ? R"( aria-describedby="login-error" aria-invalid="true")" : "";
  bool focus_password = !username.empty();
  html +=
      "<label for=\"username\">Username or email</label>"
      "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" "
      "autocapitalize=\"none\" spellcheck=\"false\" required" +
      described + (focus_password ? "" : " autofocus") + " value=\"" + HtmlEscape(username) +
      "\">"
      "<label for=\"password\">Password</label>"
      "<input id=\"password\" name=\"password\" type=\"password\" "
      "autocomplete=\"current-password\" required" +
      described + (focus_password ? " autofocus" : "") +
      ">"
      "<button type=\"submit\">Sign in</button></form>"
      "<p><small>Development identity provider. Not for production use.</small></p>"
      "</main></body></html>\n";
  rq.res.status = status;
  rq.res.set_header("Cache-Control", "no-store");
  rq.res.set_header("X-Frame-Options", "DENY");
  rq.res.set_content(html, "text/html; charset=utf-8");
}

void IdpServer::HandleAuthGet(RequestScope& rq) {
  std::string_view target = rq.req.target;
  size_t q = target.find('?');
  auto params = ParseForm(q == std::string_view::npos ? std::string_view{} : target.substr(q + 1));
  if (!params.ok()) {
    ErrorPage(rq.res, 400, "Invalid request", "Invalid request: " + params.status().message());
    return;
  }
  if (!ValidateAuthorizeRequest(rq, *params)) return;
  RenderLoginPage(rq, *params, 200, "", Get(*params, "login_hint"));
}

void IdpServer::HandleAuthPost(RequestScope& rq) {
  if (!rq.req.get_header_value("Content-Type").starts_with(kFormContentType)) {
    ErrorPage(rq.res, 400, "Invalid request", "Invalid request: expected a form submission.");
    return;
  }
  auto params = ParseForm(rq.req.body);
  if (!params.ok()) {
    ErrorPage(rq.res, 400, "Invalid request", "Invalid request: " + params.status().message());
    return;
  }
  const Params& p = *params;
  if (!ValidateAuthorizeRequest(rq, p)) return;
  std::string username = Get(p, "username");
  std::string password = Get(p, "password");
  if (username.empty() || password.empty()) {
    RenderLoginPage(rq, p, 200, "Please enter your username and password.", username);
    return;
  }
  const User* named = users_.FindByLogin(username);
  LoginAttempt attempt = AttemptOf(rq, username, named);
  int64_t retry_after = 0;
  if (!AdmitLogin(rq, attempt, named, username, retry_after)) {
    RenderLoginPage(rq, p, 429,
                    "Too many failed sign-in attempts. Try again in " +
                        std::to_string(retry_after) + " seconds.",
                    username);
    rq.res.set_header("Retry-After", std::to_string(retry_after));
    return;
  }
  auto auth = users_.Authenticate(username, password);
  if (!auth.user) {
    RejectLogin(rq, LoginFailureName(*auth.failure), auth.named, username);
    RenderLoginPage(rq, p, 200, "Invalid username or password.", username);
    return;
  }
  LoginSucceeded(attempt);
  std::string code = RandomToken(32);
  store_.PutCode(code,
                 SessionStore::AuthCode{Get(p, "client_id"), Get(p, "redirect_uri"),
                                        Get(p, "code_challenge"), Get(p, "nonce"), auth.user->id});
  std::vector<std::pair<std::string, std::string>> out;
  if (p.count("state")) out.emplace_back("state", Get(p, "state"));
  out.emplace_back("code", code);
  out.emplace_back("iss", issuer());  // RFC 9207 mix-up protection, as Keycloak 26 sends
  rq.res.status = 302;
  rq.res.set_header("Location",
                    WithParams(Get(p, "redirect_uri"), out, Get(p, "response_mode") == "fragment"));
  rq.res.set_header("Cache-Control", "no-store");
  rq.ex.Info("login succeeded", {{"chat.idp.username", auth.user->username}});
}

}  // namespace chat::devidp

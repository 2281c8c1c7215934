#include "server.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <set>
#include <fstream>
#include <sstream>

#include "chat/core/base64.hpp"
#include "chat/core/strings.hpp"
#include "chat/telemetry/semconv.hpp"
#include "crypto.hpp"
#include "form.hpp"

namespace chat::devidp {

using nlohmann::json;
namespace semconv = telemetry::semconv;

namespace {

constexpr std::string_view kRealmSuffixDefault = "/realms/nats-chat";
constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";
constexpr std::string_view kScope = "openid profile email";
constexpr std::string_view kCodeClasses[] = {"2xx", "3xx", "4xx", "5xx"};
constexpr std::string_view kLoginFailureReasons[] = {"bad_password", "unknown_user", "bad_pkce",
                                                     "bad_code",     "bad_redirect", "throttled",
                                                     "refresh_reuse"};
constexpr std::string_view kGrantTypes[] = {"authorization_code", "password", "refresh_token"};

std::string RegexEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\-/", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Get(const std::map<std::string, std::string, std::less<>>& p, std::string_view key) {
  auto it = p.find(key);
  return it == p.end() ? std::string() : it->second;
}

bool ValidPkceValue(std::string_view v, size_t min_len, size_t max_len) {
  if (v.size() < min_len || v.size() > max_len) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~';
  });
}

std::string CodeClass(int status) {
  if (status >= 500) return "5xx";
  if (status >= 400) return "4xx";
  if (status >= 300) return "3xx";
  return "2xx";
}

bool IsLoopback(const std::string& addr) {
  return addr == "127.0.0.1" || addr == "::1" || addr == "::ffff:127.0.0.1" ||
         addr.starts_with("127.");
}

std::string DefaultIssuerHost(const std::string& host) {
  if (host == "0.0.0.0" || host == "::" || host.empty()) return "127.0.0.1";
  if (host.find(':') != std::string::npos) return "[" + host + "]";
  return host;
}

}  // namespace

// ---- private types ----

struct IdpServer::Metrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  telemetry::Counter tokens_issued;
  telemetry::Counter login_failures;
  telemetry::Counter context_invalid;
};

struct IdpServer::AuthCode {
  std::string client_id;
  std::string redirect_uri;
  std::string code_challenge;
  std::string nonce;
  std::string user_id;
  int64_t auth_time = 0;
  int64_t expires_at = 0;
};

struct IdpServer::Session {
  std::string user_id;
  std::string client_id;
  int64_t auth_time = 0;
  int64_t last_refresh = 0;
};

struct IdpServer::RefreshEntry {
  std::string sid;
  int64_t expires_at = 0;
  // Rotation spends a refresh token but keeps its entry until it expires, so that the spent
  // token coming back is recognised as reuse (a copy in a thief's hands) and not as junk.
  bool used = false;
};

struct IdpServer::RequestScope {
  const httplib::Request& req;
  httplib::Response& res;
  const telemetry::SpanContext& ctx;
};

// ---- construction ----

core::Result<std::unique_ptr<IdpServer>> IdpServer::Create(IdpConfig config,
                                                           const telemetry::Telemetry& telemetry,
                                                           const core::Clock& clock) {
  std::vector<SeedUser> seeds = DefaultSeedUsers();
  if (!config.users_file.empty()) {
    std::ifstream in(config.users_file, std::ios::binary);
    if (!in) return core::InvalidArgument("cannot read users file " + config.users_file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = UserDirectory::ParseUsersJson(ss.str());
    if (!parsed.ok()) {
      return core::InvalidArgument(config.users_file + ": " + parsed.status().message());
    }
    seeds = std::move(parsed).value();
  }
  CHAT_ASSIGN_OR_RETURN(UserDirectory users,
                        UserDirectory::Create(seeds, config.pbkdf2_iterations));
  CHAT_ASSIGN_OR_RETURN(KeyStore::OpenOutcome opened, KeyStore::Open(config.state_dir));
  auto signing = opened.store->SigningKey();
  if (opened.generated) {
    telemetry.logger->Info("signing key generated", {{"chat.idp.kid", signing->kid()}});
  } else {
    telemetry.logger->Info("signing keys loaded",
                           {{"chat.idp.kid", signing->kid()},
                            {"chat.idp.published_keys", opened.store->PublishedKeys().size()}});
  }
  std::unique_ptr<IdpServer> server(new IdpServer(std::move(config), telemetry, clock,
                                                  std::move(opened.store), std::move(users)));
  if (!server->config_.issuer.empty()) {
    CHAT_ASSIGN_OR_RETURN(server->base_path_, UrlPath(server->config_.issuer));
    server->issuer_ = server->config_.issuer;
  } else {
    server->base_path_ = std::string(kRealmSuffixDefault);
  }
  size_t slash = server->base_path_.rfind('/');
  server->route_prefix_ = server->base_path_.substr(0, slash) + "/{realm}";
  return server;
}

IdpServer::IdpServer(IdpConfig config, const telemetry::Telemetry& telemetry,
                     const core::Clock& clock, std::unique_ptr<KeyStore> keys, UserDirectory users)
    : config_(std::move(config)),
      telemetry_(telemetry),
      clock_(clock),
      keys_(std::move(keys)),
      users_(std::move(users)),
      metrics_(std::make_unique<Metrics>()),
      user_throttle_(config_.login_failures_per_user_per_minute, clock),
      address_throttle_(config_.login_failures_per_address_per_minute, clock),
      log_key_(RandomBytes(32)),
      guard_(std::make_unique<telemetry::sdk::HttpBodyGuard>("dev-idp", *telemetry.metrics,
                                                             telemetry.logger)),
      server_(std::make_unique<httplib::Server>()) {
  auto& reg = *telemetry_.metrics;
  metrics_->requests = reg.AddCounter("idp_requests_total", "HTTP requests by route and status class",
                                      {"route", "code_class"});
  metrics_->duration = reg.AddHistogram("idp_request_duration_seconds",
                                        "HTTP request duration by route",
                                        telemetry::kBucketsSlow, {"route"});
  metrics_->tokens_issued = reg.AddCounter("idp_tokens_issued_total",
                                           "Token responses issued by grant type", {"grant_type"});
  metrics_->login_failures = reg.AddCounter("idp_login_failures_total",
                                            "Rejected logins and authorization requests by reason",
                                            {"reason"});
  metrics_->context_invalid = reg.AddCounter(
      "trace_context_invalid_total", "Inbound traceparent headers rejected, by reason", {"reason"});
  for (auto g : kGrantTypes) metrics_->tokens_issued.With({g});
  for (auto r : kLoginFailureReasons) metrics_->login_failures.With({r});
  for (int i = 0; i < 4; ++i) {
    metrics_->context_invalid.With(
        {telemetry::InvalidContextReasonName(static_cast<telemetry::InvalidContextReason>(i))});
  }
}

IdpServer::~IdpServer() { Stop(); }

std::string IdpServer::issuer() const {
  std::lock_guard lock(issuer_mu_);
  return issuer_;
}

int64_t IdpServer::NowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
}

// ---- lifecycle ----

core::Status IdpServer::Start() {
  if (started_.exchange(true)) return core::FailedPrecondition("already started");
  RegisterRoutes();
  int bound = 0;
  if (config_.port == 0) {
    bound = server_->bind_to_any_port(config_.host);
  } else {
    bound = server_->bind_to_port(config_.host, config_.port) ? config_.port : -1;
  }
  if (bound <= 0) {
    return core::Unavailable("cannot bind " + config_.host + ":" + std::to_string(config_.port));
  }
  port_.store(bound);
  {
    std::lock_guard lock(issuer_mu_);
    if (issuer_.empty()) {
      issuer_ = "http://" + DefaultIssuerHost(config_.host) + ":" + std::to_string(bound) +
                base_path_;
    }
  }
  if (core::Status s = listener_.Start(*server_, config_.host, bound); !s.ok()) {
    return core::Unavailable("http listener stopped at start-up");
  }
  return core::Status::Ok();
}

void IdpServer::Stop() {
  listener_.Stop();
}

// ---- routing, spans, metrics ----

template <typename Fn>
void IdpServer::Route(const char* method, const std::string& path, const std::string& route,
                      bool cors, Fn fn) {
  for (auto cls : kCodeClasses) metrics_->requests.With({route, cls});
  metrics_->duration.With({route});
  std::string span_name = std::string(method) + " " + route;
  auto handler = [this, span_name, route, cors, method_name = std::string(method), fn](
                     const httplib::Request& req, httplib::Response& res) {
    auto start = clock_.SteadyNow();
    telemetry::SpanContext parent =
        telemetry::sdk::ExtractHttpContext(req, metrics_->context_invalid, *telemetry_.logger);
    telemetry::SpanStartOptions opts;
    opts.kind = telemetry::SpanKind::kServer;
    opts.parent = parent;
    opts.attributes = {{semconv::kHttpRequestMethod, method_name},
                       {semconv::kHttpRoute, route},
                       {"url.path", req.path},
                       {"url.scheme", "http"}};
    telemetry::Span span = telemetry_.tracer.StartSpan(span_name, std::move(opts));
    RequestScope rq{req, res, span.Context()};
    try {
      fn(rq);
    } catch (const std::exception& e) {
      // Handlers do not throw by design; this is the last line so a bug is a 500, not a crash.
      res = httplib::Response();
      res.status = 500;
      res.set_content(R"({"error":"server_error","error_description":"internal error"})",
                      "application/json");
      telemetry_.logger->Error(span.Context(), "request handler failed",
                               {{semconv::kErrorType, "internal"},
                                {semconv::kExceptionMessage, std::string(e.what())}});
    }
    if (res.status == -1) res.status = 200;  // httplib's "unset"; it would send 200
    if (cors) {
      std::string origin = req.get_header_value("Origin");
      if (!origin.empty() && RedirectAllowed(origin, config_.redirect_origins)) {
        res.set_header("Access-Control-Allow-Origin", origin);
        res.set_header("Vary", "Origin");
        res.set_header("Access-Control-Allow-Credentials", "true");
      }
    }
    span.SetAttribute(semconv::kHttpResponseStatusCode, res.status);
    if (res.status >= 500) {
      span.RecordError(std::to_string(res.status), "server error", "http", "server error");
    }
    std::string cls = CodeClass(res.status);
    metrics_->requests.With({route, cls}).Add(1, &span.Context());
    double seconds = std::chrono::duration<double>(clock_.SteadyNow() - start).count();
    metrics_->duration.With({route}).Record(seconds, &span.Context());
  };
  std::string pattern = RegexEscape(path);
  std::string m(method);
  if (m == "GET") {
    server_->Get(pattern, handler);
  } else if (m == "POST") {
    guard_->Post(*server_, pattern, telemetry::sdk::BodyPolicy{kMaxBodyBytes, false}, handler);
  } else if (m == "OPTIONS") {
    server_->Options(pattern, handler);
  }
}

void IdpServer::RegisterRoutes() {
  guard_->Install(*server_);
  const std::string oidc = base_path_ + "/protocol/openid-connect";
  const std::string oidc_route = route_prefix_ + "/protocol/openid-connect";
  struct Entry {
    const char* method;
    std::string path;
    std::string route;
    bool cors;
    void (IdpServer::*fn)(RequestScope&);
  };
  std::vector<Entry> entries = {
      {"GET", base_path_ + "/.well-known/openid-configuration",
       route_prefix_ + "/.well-known/openid-configuration", true, &IdpServer::HandleDiscovery},
      {"GET", oidc + "/certs", oidc_route + "/certs", true, &IdpServer::HandleCerts},
      {"GET", oidc + "/auth", oidc_route + "/auth", false, &IdpServer::HandleAuthGet},
      {"POST", oidc + "/auth", oidc_route + "/auth", false, &IdpServer::HandleAuthPost},
      {"POST", oidc + "/token", oidc_route + "/token", true, &IdpServer::HandleToken},
      {"GET", oidc + "/userinfo", oidc_route + "/userinfo", true, &IdpServer::HandleUserinfo},
      {"POST", oidc + "/userinfo", oidc_route + "/userinfo", true, &IdpServer::HandleUserinfo},
      {"GET", oidc + "/logout", oidc_route + "/logout", false, &IdpServer::HandleLogout},
      {"POST", oidc + "/logout", oidc_route + "/logout", false, &IdpServer::HandleLogout},
      {"POST", "/admin/rotate-keys", "/admin/rotate-keys", false, &IdpServer::HandleRotate},
  };
  std::set<std::string> preflight_paths;
  for (const auto& e : entries) {
    auto fn = e.fn;
    Route(e.method, e.path, e.route, e.cors, [this, fn](RequestScope& rq) { (this->*fn)(rq); });
    if (e.cors && preflight_paths.insert(e.path).second) {
      // CORS preflight; the Route wrapper adds Allow-Origin for allowed origins.
      Route("OPTIONS", e.path, e.route, true, [](RequestScope& rq) {
        rq.res.status = 204;
        rq.res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        rq.res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        rq.res.set_header("Access-Control-Max-Age", "3600");
      });
    }
  }
}

// ---- discovery and JWKS ----

void IdpServer::HandleDiscovery(RequestScope& rq) {
  std::string iss = issuer();
  std::string oidc = iss + "/protocol/openid-connect";
  json doc = {
      {"issuer", iss},
      {"authorization_endpoint", oidc + "/auth"},
      {"token_endpoint", oidc + "/token"},
      {"jwks_uri", oidc + "/certs"},
      {"userinfo_endpoint", oidc + "/userinfo"},
      {"end_session_endpoint", oidc + "/logout"},
      {"response_types_supported", {"code"}},
      {"response_modes_supported", {"query", "fragment"}},
      {"grant_types_supported", {"authorization_code", "password", "refresh_token"}},
      {"code_challenge_methods_supported", {"S256"}},
      {"id_token_signing_alg_values_supported", {"RS256"}},
      {"subject_types_supported", {"public"}},
      {"token_endpoint_auth_methods_supported", {"none"}},
      {"scopes_supported", {"openid", "profile", "email", "roles", "web-origins", "acr"}},
      {"claims_supported",
       {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "sid", "preferred_username",
        "email", "email_verified", "name", "given_name", "family_name", "realm_access"}},
      {"frontchannel_logout_supported", false},
      {"backchannel_logout_supported", false},
  };
  rq.res.set_content(doc.dump(), "application/json");
}

void IdpServer::HandleCerts(RequestScope& rq) {
  json keys = json::array();
  for (const auto& k : keys_->PublishedKeys()) {
    keys.push_back({{"kid", k->kid()},
                    {"kty", "RSA"},
                    {"alg", "RS256"},
                    {"use", "sig"},
                    {"n", k->n()},
                    {"e", k->e()}});
  }
  rq.res.set_content(json{{"keys", keys}}.dump(), "application/json");
}

// ---- JWT ----

core::Result<std::string> IdpServer::SignJwt(const std::string& payload_json) const {
  auto key = keys_->SigningKey();
  json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", key->kid()}};
  std::string signing_input =
      core::Base64UrlEncode(header.dump()) + "." + core::Base64UrlEncode(payload_json);
  CHAT_ASSIGN_OR_RETURN(std::string sig, key->SignRs256(signing_input));
  return signing_input + "." + core::Base64UrlEncode(sig);
}

core::Result<std::string> IdpServer::VerifyJwt(std::string_view token, bool allow_expired) const {
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return core::Unauthenticated("not a JWS compact token");
  }
  auto header_raw = core::Base64UrlDecode(token.substr(0, d1));
  auto payload_raw = core::Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = core::Base64UrlDecode(token.substr(d2 + 1));
  if (!header_raw.ok() || !payload_raw.ok() || !sig.ok()) {
    return core::Unauthenticated("bad base64url");
  }
  json header = json::parse(*header_raw, nullptr, false);
  // json::value throws when the member exists with another type: a token with {"alg":1} must be
  // a 401 like any other bad token, not an exception turned into a 500.
  auto text = [](const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!header.is_object() || text(header, "alg") != "RS256" || !header.contains("kid") ||
      !header["kid"].is_string()) {
    return core::Unauthenticated("unsupported JWS header");
  }
  auto key = keys_->Find(header["kid"].get<std::string>());
  if (!key) return core::Unauthenticated("unknown kid");
  if (!key->VerifyRs256(token.substr(0, d2), *sig)) return core::Unauthenticated("bad signature");
  json claims = json::parse(*payload_raw, nullptr, false);
  if (!claims.is_object()) return core::Unauthenticated("payload is not an object");
  if (text(claims, "iss") != issuer()) return core::Unauthenticated("wrong issuer");
  if (!claims.contains("exp") || !claims["exp"].is_number_integer()) {
    return core::Unauthenticated("no exp");
  }
  if (!allow_expired && claims["exp"].get<int64_t>() <= NowSeconds()) {
    return core::Unauthenticated("expired");
  }
  return *payload_raw;
}

// ---- authorization endpoint ----

namespace {

void ErrorPage(httplib::Response& res, int status, std::string_view title,
               std::string_view message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Frame-Options", "DENY");
  std::string html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>" + HtmlEscape(title) + "</title></head><body><main>"
                     "<h1>" + HtmlEscape(title) + "</h1><p role=\"alert\">" +
                     HtmlEscape(message) + "</p></main></body></html>\n";
  res.set_content(html, "text/html; charset=utf-8");
}

// Appends OAuth response parameters to a redirect URI in the query or the fragment.
std::string WithParams(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& params,
                       bool fragment) {
  std::string out = uri;
  char sep = fragment ? '#' : (uri.find('?') == std::string::npos ? '?' : '&');
  for (const auto& [k, v] : params) {
    out += sep;
    out += core::PercentEncode(k) + "=" + core::PercentEncode(v);
    sep = '&';
  }
  return out;
}

}  // namespace

bool IdpServer::ValidateAuthorizeRequest(RequestScope& rq, const Params& p) {
  std::string client_id = Get(p, "client_id");
  std::string redirect_uri = Get(p, "redirect_uri");
  if (client_id != config_.client_id) {
    ErrorPage(rq.res, 400, "Client not found", "Client not found.");
    telemetry_.logger->Warn(rq.ctx, "authorization request rejected",
                            {{"chat.idp.reason", "unknown_client"}});
    return false;
  }
  if (redirect_uri.empty() || !RedirectAllowed(redirect_uri, config_.redirect_origins)) {
    // Never redirect to an unregistered URI: that is the open-redirect / code-theft hole.
    metrics_->login_failures.With({"bad_redirect"}).Add();
    telemetry_.logger->Warn(rq.ctx, "authorization request rejected",
                            {{"chat.idp.reason", "bad_redirect"}});
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
    redirect_error("unsupported_response_type", "Client is not allowed to initiate browser login "
                                                "with given response_type.");
    return false;
  }
  std::string challenge = Get(p, "code_challenge");
  if (Get(p, "code_challenge_method") != "S256" || !ValidPkceValue(challenge, 43, 128)) {
    metrics_->login_failures.With({"bad_pkce"}).Add();
    telemetry_.logger->Warn(rq.ctx, "authorization request rejected",
                            {{"chat.idp.reason", "bad_pkce"}});
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
      "client_id", "redirect_uri", "response_type", "response_mode", "state",
      "code_challenge", "code_challenge_method", "nonce", "scope"};
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
    html += "<p id=\"login-error\" class=\"error\" role=\"alert\">" + HtmlEscape(error) + "</p>";
  }
  html += "<form method=\"post\" action=\"" + HtmlEscape(action) + "\">";
  for (auto key : kCarried) {
    auto it = p.find(key);
    if (it == p.end()) continue;
    html += "<input type=\"hidden\" name=\"" + std::string(key) + "\" value=\"" +
            HtmlEscape(it->second) + "\">";
  }
  std::string described = has_error ? " aria-describedby=\"login-error\" aria-invalid=\"true\"" : "";
  bool focus_password = !username.empty();
  html += "<label for=\"username\">Username or email</label>"
          "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" "
          "autocapitalize=\"none\" spellcheck=\"false\" required" +
          described + (focus_password ? "" : " autofocus") + " value=\"" +
          HtmlEscape(username) + "\">"
          "<label for=\"password\">Password</label>"
          "<input id=\"password\" name=\"password\" type=\"password\" "
          "autocomplete=\"current-password\" required" +
          described + (focus_password ? " autofocus" : "") + ">"
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
  telemetry_.logger->Warn(rq.ctx, "login rejected", std::move(fields));
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
  telemetry_.logger->Warn(rq.ctx, "login throttled", std::move(fields));
  return false;
}

void IdpServer::LoginSucceeded(const LoginAttempt& attempt) {
  user_throttle_.Release(attempt.user_key);
  address_throttle_.Release(attempt.address_key);
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
  int64_t now = NowSeconds();
  {
    std::lock_guard lock(state_mu_);
    PruneLocked(now);
    codes_[code] = AuthCode{Get(p, "client_id"), Get(p, "redirect_uri"), Get(p, "code_challenge"),
                            Get(p, "nonce"), auth.user->id, now, now + config_.code_ttl.count()};
  }
  std::vector<std::pair<std::string, std::string>> out;
  if (p.count("state")) out.emplace_back("state", Get(p, "state"));
  out.emplace_back("code", code);
  out.emplace_back("iss", issuer());  // RFC 9207 mix-up protection, as Keycloak 26 sends
  rq.res.status = 302;
  rq.res.set_header("Location",
                    WithParams(Get(p, "redirect_uri"), out, Get(p, "response_mode") == "fragment"));
  rq.res.set_header("Cache-Control", "no-store");
  telemetry_.logger->Info(rq.ctx, "login succeeded", {{"chat.idp.username", auth.user->username}});
}

// ---- token endpoint ----

namespace {

void TokenError(httplib::Response& res, int status, std::string_view error,
                std::string_view description) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
  json body = {{"error", error}, {"error_description", description}};
  res.set_content(body.dump(), "application/json");
}

}  // namespace

void IdpServer::PruneLocked(int64_t now) {
  // Bounded work per call keeps this O(expired); maps stay small in a dev issuer.
  for (auto it = codes_.begin(); it != codes_.end();) {
    it = it->second.expires_at <= now ? codes_.erase(it) : std::next(it);
  }
  for (auto it = refresh_.begin(); it != refresh_.end();) {
    it = it->second.expires_at <= now ? refresh_.erase(it) : std::next(it);
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    bool dead = it->second.auth_time + config_.session_max.count() <= now ||
                it->second.last_refresh + config_.refresh_ttl.count() <= now;
    it = dead ? sessions_.erase(it) : std::next(it);
  }
}

void IdpServer::RevokeSessionLocked(const std::string& sid) {
  sessions_.erase(sid);
  for (auto it = refresh_.begin(); it != refresh_.end();) {
    it = it->second.sid == sid ? refresh_.erase(it) : std::next(it);
  }
}

void IdpServer::HandleToken(RequestScope& rq) {
  if (!rq.req.get_header_value("Content-Type").starts_with(kFormContentType)) {
    TokenError(rq.res, 400, "invalid_request",
               "Content-Type must be application/x-www-form-urlencoded");
    return;
  }
  auto params = ParseForm(rq.req.body);
  if (!params.ok()) {
    TokenError(rq.res, 400, "invalid_request", params.status().message());
    return;
  }
  const Params& p = *params;
  std::string grant = Get(p, "grant_type");
  if (grant.empty()) {
    TokenError(rq.res, 400, "invalid_request", "Missing form parameter: grant_type");
    return;
  }
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
  std::optional<AuthCode> entry;
  int64_t now = NowSeconds();
  {
    std::lock_guard lock(state_mu_);
    auto it = codes_.find(code);
    if (it != codes_.end()) {
      entry = std::move(it->second);
      codes_.erase(it);  // single use: consumed by the first attempt, right or wrong
    }
  }
  if (!entry || entry->expires_at <= now || entry->client_id != config_.client_id) {
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
  std::string computed = ValidPkceValue(verifier, 43, 128)
                             ? core::Base64UrlEncode(Sha256(verifier))
                             : std::string();
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
  {
    std::lock_guard lock(state_mu_);
    sessions_[sid] = Session{user->id, config_.client_id, entry->auth_time, now};
  }
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
    TokenError(rq.res, 429, "temporarily_unavailable",
               "Too many failed sign-in attempts; retry in " + std::to_string(retry_after) +
                   " seconds.");
    return;
  }
  auto auth = users_.Authenticate(username, password);
  if (!auth.user) {
    RejectLogin(rq, LoginFailureName(*auth.failure), auth.named, username);
    TokenError(rq.res, 401, "invalid_grant", "Invalid user credentials");
    return;
  }
  LoginSucceeded(attempt);
  int64_t now = NowSeconds();
  std::string sid = RandomToken(16);
  {
    std::lock_guard lock(state_mu_);
    PruneLocked(now);
    sessions_[sid] = Session{auth.user->id, config_.client_id, now, now};
  }
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
    telemetry_.logger->Warn(rq.ctx, "refresh rejected", {{"chat.idp.reason", "invalid_token"}});
    TokenError(rq.res, 400, "invalid_grant", "Invalid refresh token");
    return;
  }
  std::string jti = claims["jti"].get<std::string>();
  std::string sid = claims["sid"].get<std::string>();
  int64_t now = NowSeconds();
  std::string user_id;
  bool reused = false;
  {
    std::lock_guard lock(state_mu_);
    PruneLocked(now);
    auto it = refresh_.find(jti);
    auto session = sessions_.find(sid);
    if (it != refresh_.end() && it->second.sid == sid && it->second.used) {
      // A spent refresh token came back: two parties hold this session's tokens and we cannot
      // tell which is the user, so the whole family (every token of this login) is revoked
      // (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
      reused = true;
      if (session != sessions_.end()) user_id = session->second.user_id;
      RevokeSessionLocked(sid);
    } else if (it == refresh_.end() || it->second.sid != sid || session == sessions_.end()) {
      user_id.clear();
    } else {
      it->second.used = true;  // rotation: each refresh token works once
      session->second.last_refresh = now;
      user_id = session->second.user_id;
    }
  }
  if (reused) {
    metrics_->login_failures.With({"refresh_reuse"}).Add(1, &rq.ctx);
    std::vector<telemetry::Attribute> fields = {{"chat.idp.reason", "refresh_reuse"},
                                                {"client.address", rq.req.remote_addr}};
    AddLoginFields(fields, user_id.empty() ? nullptr : users_.FindById(user_id), {});
    telemetry_.logger->Warn(rq.ctx, "refresh token reused; session revoked", std::move(fields));
    TokenError(rq.res, 400, "invalid_grant", "Token is not active");
    return;
  }
  const User* user = user_id.empty() ? nullptr : users_.FindById(user_id);
  if (user == nullptr) {
    telemetry_.logger->Warn(rq.ctx, "refresh rejected", {{"chat.idp.reason", "not_active"}});
    TokenError(rq.res, 400, "invalid_grant", "Token is not active");
    return;
  }
  IssueTokens(rq, *user, sid, "", "refresh_token");
}

void IdpServer::IssueTokens(RequestScope& rq, const User& user, const std::string& sid,
                            const std::string& nonce, std::string_view grant_type) {
  int64_t now = NowSeconds();
  int64_t auth_time = now;
  {
    std::lock_guard lock(state_mu_);
    if (auto it = sessions_.find(sid); it != sessions_.end()) auth_time = it->second.auth_time;
  }
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

  json access = {{"exp", access_exp},
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
                  {{"account", {{"roles", {"manage-account", "manage-account-links",
                                           "view-profile"}}}}}},
                 {"scope", kScope}};
  access.update(profile);
  auto access_token = SignJwt(access.dump());

  std::string refresh_jti = RandomToken(16);
  json refresh = {{"exp", refresh_exp},  {"iat", now},
                  {"jti", refresh_jti},  {"iss", iss},
                  {"aud", iss},          {"sub", user.id},
                  {"typ", "Refresh"},    {"azp", config_.client_id},
                  {"sid", sid},          {"scope", kScope}};
  auto refresh_token = SignJwt(refresh.dump());

  if (!access_token.ok() || !refresh_token.ok()) {
    telemetry_.logger->Error(rq.ctx, "token signing failed",
                             {{semconv::kErrorType, "signing"},
                              {semconv::kExceptionMessage,
                               (!access_token.ok() ? access_token.status()
                                                   : refresh_token.status())
                                   .message()}});
    TokenError(rq.res, 500, "server_error", "token signing failed");
    return;
  }
  std::string at_hash = core::Base64UrlEncode(Sha256(*access_token).substr(0, 16));
  json id = {{"exp", access_exp},  {"iat", now},           {"auth_time", auth_time},
             {"jti", RandomToken(16)}, {"iss", iss},        {"aud", config_.client_id},
             {"sub", user.id},     {"typ", "ID"},          {"azp", config_.client_id},
             {"sid", sid},         {"at_hash", at_hash},   {"acr", "1"},
             {"realm_access", {{"roles", roles}}}};
  if (!nonce.empty()) id["nonce"] = nonce;
  id.update(profile);
  auto id_token = SignJwt(id.dump());
  if (!id_token.ok()) {
    TokenError(rq.res, 500, "server_error", "token signing failed");
    return;
  }
  {
    std::lock_guard lock(state_mu_);
    refresh_[refresh_jti] = RefreshEntry{sid, refresh_exp};
  }
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
  telemetry_.logger->Info(rq.ctx, "tokens issued",
                          {{"chat.idp.grant_type", std::string(grant_type)},
                           {"chat.idp.username", user.username}});
}

// ---- userinfo, logout, rotation ----

void IdpServer::HandleUserinfo(RequestScope& rq) {
  auto unauthorized = [&](std::string_view description) {
    rq.res.status = 401;
    rq.res.set_header("WWW-Authenticate",
                      "Bearer realm=\"nats-chat\", error=\"invalid_token\", error_description=\"" +
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
  {
    std::lock_guard lock(state_mu_);
    if (sessions_.find(sid) == sessions_.end()) {
      unauthorized("User session not found");
      return;
    }
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
      std::lock_guard lock(state_mu_);
      sessions_.erase(claims.value("sid", ""));  // its refresh tokens die with it
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

void IdpServer::HandleRotate(RequestScope& rq) {
  if (!IsLoopback(rq.req.remote_addr)) {
    rq.res.status = 403;
    rq.res.set_content(R"({"error":"forbidden","error_description":"loopback only"})",
                       "application/json");
    return;
  }
  auto kid = keys_->Rotate();
  if (!kid.ok()) {
    telemetry_.logger->Error(rq.ctx, "key rotation failed",
                             {{semconv::kErrorType, "key_rotation"},
                              {semconv::kExceptionMessage, kid.status().message()}});
    rq.res.status = 500;
    rq.res.set_content(R"({"error":"server_error","error_description":"key rotation failed"})",
                       "application/json");
    return;
  }
  json published = json::array();
  for (const auto& k : keys_->PublishedKeys()) published.push_back(k->kid());
  telemetry_.logger->Info(rq.ctx, "signing key rotated",
                          {{"chat.idp.kid", *kid}, {"chat.idp.published_keys", published.size()}});
  rq.res.set_content(json{{"kid", *kid}, {"published", published}}.dump(), "application/json");
}

}  // namespace chat::devidp

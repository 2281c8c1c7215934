// IdpServer's frame: construction, start/stop, the route table on the shared HttpRouter (span,
// metrics, body limit, log line, exception catch) plus dev-idp's CORS headers, and JWT signing and
// verification. The endpoints
// live in discovery.cpp, authorize.cpp, token.cpp and userinfo_logout.cpp.
#include "server.hpp"

#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "chat/core/base64.hpp"
#include "crypto.hpp"
#include "http_util.hpp"
#include "server_internal.hpp"

namespace chat::devidp {

using nlohmann::json;

namespace {

constexpr std::string_view kRealmSuffixDefault = "/realms/nats-chat";
constexpr std::string_view kLoginFailureReasons[] = {"bad_password", "unknown_user", "bad_pkce",
                                                     "bad_code",     "bad_redirect", "throttled",
                                                     "refresh_reuse"};
constexpr std::string_view kGrantTypes[] = {"authorization_code", "password", "refresh_token"};
constexpr std::string_view kAdminResults[] = {"ok", "unauthorized", "forbidden", "invalid"};

}  // namespace

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
  SeedUser admin{config.admin_username, config.admin_password, "", "", {"admin"}, ""};
  auto admins = UserDirectory::Create({admin}, config.pbkdf2_iterations);
  if (!admins.ok()) {
    return core::InvalidArgument("KEYCLOAK_ADMIN: " + admins.status().message());
  }
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
                                                  std::move(opened.store), std::move(users),
                                                  std::move(admins).value()));
  if (!server->config_.issuer.empty()) {
    CHAT_ASSIGN_OR_RETURN(server->base_path_, UrlPath(server->config_.issuer));
    server->issuer_ = server->config_.issuer;
  } else {
    server->base_path_ = std::string(kRealmSuffixDefault);
  }
  size_t slash = server->base_path_.rfind('/');
  server->route_prefix_ = server->base_path_.substr(0, slash) + "/{realm}";
  server->realm_ = server->base_path_.substr(slash + 1);
  server->started_ms_ = clock.NowUnixMillis();
  server->master_path_ = server->base_path_.substr(0, slash + 1) + std::string(kMasterRealm);
  if (server->realm_ == kMasterRealm) {
    return core::InvalidArgument("the issuer's realm must not be master (the admin realm)");
  }
  return server;
}

IdpServer::IdpServer(IdpConfig config, const telemetry::Telemetry& telemetry,
                     const core::Clock& clock, std::unique_ptr<KeyStore> keys, UserDirectory users,
                     UserDirectory admins)
    : config_(std::move(config)),
      telemetry_(telemetry),
      clock_(clock),
      keys_(std::move(keys)),
      users_(std::move(users)),
      admins_(std::move(admins)),
      metrics_(std::make_unique<Metrics>()),
      user_throttle_(config_.login_failures_per_user_per_minute, clock),
      address_throttle_(config_.login_failures_per_address_per_minute, clock),
      log_key_(RandomBytes(32)),
      store_(clock,
             SessionStore::Lifetimes{config_.code_ttl, config_.refresh_ttl, config_.session_max}),
      server_(std::make_unique<httplib::Server>()) {
  telemetry::sdk::HttpRouter::ServerOptions options;
  options.server_label = "dev-idp";
  options.red = telemetry::sdk::HttpRedMetrics{
      telemetry_.metrics->AddCounter(
          "idp_requests_total", "HTTP requests by route and status class", {"route", "code_class"}),
      telemetry_.metrics->AddHistogram("idp_request_duration_seconds",
                                       "HTTP request duration by route", telemetry::kBucketsSlow,
                                       {"route"})};
  options.internal_error_body = R"({"error":"server_error","error_description":"internal error"})";
  router_ =
      std::make_unique<telemetry::sdk::HttpRouter>(*server_, telemetry, clock, std::move(options));
  auto& reg = *telemetry_.metrics;
  metrics_->tokens_issued = reg.AddCounter("idp_tokens_issued_total",
                                           "Token responses issued by grant type", {"grant_type"});
  metrics_->login_failures =
      reg.AddCounter("idp_login_failures_total",
                     "Rejected logins and authorization requests by reason", {"reason"});
  metrics_->admin_tokens_issued = reg.AddCounter(
      "idp_admin_tokens_issued_total", "Master realm admin-cli access tokens issued (admin API)");
  metrics_->admin_requests =
      reg.AddCounter("idp_admin_requests_total", "Admin API requests by result", {"result"});
  metrics_->admin_tokens_issued.Default();
  for (auto r : kAdminResults) metrics_->admin_requests.With({r});
  for (auto g : kGrantTypes) metrics_->tokens_issued.With({g});
  for (auto r : kLoginFailureReasons) metrics_->login_failures.With({r});
}

IdpServer::~IdpServer() { Stop(); }

std::string IdpServer::issuer() const {
  std::lock_guard lock(issuer_mu_);
  return issuer_;
}

std::string IdpServer::master_issuer() const {
  std::string iss = issuer();
  size_t slash = iss.rfind('/');
  return iss.substr(0, slash + 1) + std::string(kMasterRealm);
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
      issuer_ =
          "http://" + DefaultIssuerHost(config_.host) + ":" + std::to_string(bound) + base_path_;
    }
  }
  if (core::Status s = listener_.Start(*server_, config_.host, bound); !s.ok()) {
    return core::Unavailable("http listener stopped at start-up");
  }
  return core::Status::Ok();
}

void IdpServer::Stop() { listener_.Stop(); }

// ---- routing ----

void IdpServer::Route(const char* method, const std::string& path, const std::string& route,
                      bool cors, std::function<void(RequestScope&)> fn) {
  telemetry::sdk::HttpRouter::RouteOptions options;
  options.span_attributes = {{"url.scheme", "http"}};
  if (cors) {
    options.finish = [this](telemetry::sdk::HttpExchange& ex) {
      std::string origin = ex.req().get_header_value("Origin");
      if (!origin.empty() && RedirectAllowed(origin, config_.redirect_origins)) {
        ex.res().set_header("Access-Control-Allow-Origin", origin);
        ex.res().set_header("Vary", "Origin");
        ex.res().set_header("Access-Control-Allow-Credentials", "true");
      }
    };
  }
  auto handler = [fn = std::move(fn)](telemetry::sdk::HttpExchange& ex) {
    RequestScope rq{ex.req(), ex.res(), ex.ctx(), ex};
    fn(rq);
  };
  std::string pattern = RegexEscape(path);
  std::string m(method);
  if (m == "GET") {
    router_->Get(pattern, route, std::move(handler), std::move(options));
  } else if (m == "POST") {
    options.body = telemetry::sdk::BodyPolicy{kMaxBodyBytes, false};
    router_->Post(pattern, route, std::move(handler), std::move(options));
  } else if (m == "OPTIONS") {
    router_->Options(pattern, route, std::move(handler), std::move(options));
  }
}

void IdpServer::RegisterRoutes() {
  router_->Install();
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
      // Keycloak's admin API subset (admin.cpp): what user-search-service calls.
      {"POST", master_path_ + "/protocol/openid-connect/token", oidc_route + "/token", false,
       &IdpServer::HandleMasterToken},
      {"GET", "/admin" + base_path_ + "/users", "/admin" + route_prefix_ + "/users", false,
       &IdpServer::HandleAdminUsers},
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
  return VerifyJwtFor(token, allow_expired, issuer());
}

core::Result<std::string> IdpServer::VerifyJwtFor(std::string_view token, bool allow_expired,
                                                  const std::string& expected_issuer) const {
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
  if (text(claims, "iss") != expected_issuer) return core::Unauthenticated("wrong issuer");
  if (!claims.contains("exp") || !claims["exp"].is_number_integer()) {
    return core::Unauthenticated("no exp");
  }
  if (!allow_expired && claims["exp"].get<int64_t>() <= NowSeconds()) {
    return core::Unauthenticated("expired");
  }
  return *payload_raw;
}

}  // namespace chat::devidp

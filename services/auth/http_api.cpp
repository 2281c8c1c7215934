#include "http_api.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include <nlohmann/json.hpp>

#include "chat/core/origin.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::auth_service {
namespace {

namespace semconv = telemetry::semconv;
using nlohmann::json;

using core::ErrorCode;

telemetry::sdk::HttpRouter::ServerOptions RouterOptions() {
  telemetry::sdk::HttpRouter::ServerOptions o;
  o.server_label = "auth";  // auth counts its own outcomes (auth_requests_total)
  return o;
}
using telemetry::sdk::HttpErrorBody;

std::string CorsAllowHeaders() {
  return "authorization, content-type, " + std::string(semconv::kTraceparentHeader) + ", " +
         std::string(semconv::kTracestateHeader);
}

// The token after "Bearer " (scheme case-insensitive, RFC 6750 §2.1), or nullopt.
std::optional<std::string> BearerToken(const std::string& header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
  }
  std::string token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.erase(token.begin());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  if (token.empty() || token.find(' ') != std::string::npos) return std::nullopt;
  return token;
}

}  // namespace

// ---- RateLimiter ----

bool RateLimiter::Allow(const std::string& key) {
  auto now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  if (buckets_.size() > 10000) {
    // Bounded memory under address churn: forget buckets that have refilled completely.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double age = std::chrono::duration<double>(now - it->second.last).count();
      it = it->second.tokens + age * rate_ >= burst_ ? buckets_.erase(it) : std::next(it);
    }
    // Still full (a flood from many addresses): start over rather than scan on every request.
    if (buckets_.size() > 10000) buckets_.clear();
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted) {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.last = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

// ---- AuthServer ----

struct AuthServer::Outcome {
  int status = 200;
  std::string body;
  std::string_view result = kResultAuthorized;
  std::optional<RejectReason> reason;
  std::string username;
  std::string tier;
  std::string_view limit;  // which limit refused it: "address" or "user"
  bool internal_error = false;
  bool jwks_unavailable = false;
};

core::Result<std::unique_ptr<AuthServer>> AuthServer::Create(AuthConfig config,
                                                            const telemetry::Telemetry& telemetry,
                                                            const core::Clock& clock) {
  CHAT_ASSIGN_OR_RETURN(SigningMaterial material, LoadSigningMaterial(config));
  telemetry.logger->Info("account signing key loaded",
                         {{"chat.auth.signing_key", material.signing_key.public_key()},
                          {"chat.auth.account", material.account_public_key}});
  return std::unique_ptr<AuthServer>(
      new AuthServer(std::move(config), telemetry, clock, std::move(material)));
}

AuthServer::AuthServer(AuthConfig config, const telemetry::Telemetry& telemetry,
                       const core::Clock& clock, SigningMaterial material)
    : config_(std::move(config)),
      metrics_(AuthMetrics::Create(*telemetry.metrics)),
      jwks_(config_, telemetry, clock, metrics_),
      verifier_(config_, jwks_, telemetry, clock),
      minter_(std::move(material), config_.jwt_ttl, clock,
              nkeys::NatsLimits{config_.user_max_subscriptions, nkeys::kNoLimit,
                                config_.user_max_payload_bytes}),
      limiter_(config_.rate_limit_per_second, config_.rate_limit_per_second, clock),
      user_limiter_(config_.user_rate_limit_per_minute / 60.0, config_.user_rate_limit_per_minute,
                    clock),
      server_(std::make_unique<httplib::Server>()),
      router_(*server_, telemetry, clock, RouterOptions()) {}

AuthServer::~AuthServer() { Stop(); }

core::Status AuthServer::Start() {
  if (started_.exchange(true)) return core::FailedPrecondition("already started");
  RegisterRoutes();
  int bound = 0;
  if (config_.http_port == 0) {
    bound = server_->bind_to_any_port(config_.http_host);
  } else {
    bound = server_->bind_to_port(config_.http_host, config_.http_port) ? config_.http_port : -1;
  }
  if (bound <= 0) {
    return core::Unavailable("cannot bind " + config_.http_host + ":" +
                             std::to_string(config_.http_port));
  }
  port_.store(bound);
  jwks_.StartPeriodic();
  if (core::Status s = listener_.Start(*server_, config_.http_host, bound); !s.ok()) {
    jwks_.StopPeriodic();
    return core::Unavailable("http listener stopped at start-up");
  }
  return core::Status::Ok();
}

void AuthServer::Stop() {
  listener_.Stop();
  jwks_.StopPeriodic();
}

bool AuthServer::OriginAllowed(const std::string& origin) const {
  return core::OriginAllowed(origin, config_.cors_origins);
}

void AuthServer::RegisterRoutes() {
  // The router's guard reads the body with the 16 KiB bound (chunked or not) and refuses any
  // Content-Encoding and any body elsewhere, before a handler runs: 413/415, counted in
  // http_server_rejected_requests_total{server="auth"} and logged. The router owns the SERVER
  // span, the trace context, the outcome log line and the exception catch (HttpRouter).
  router_.Install();
  const std::string route(kCredentialsRoute);
  const std::string pattern(kCredentialsRoute);
  telemetry::sdk::HttpRouter::RouteOptions post;
  post.body = telemetry::sdk::BodyPolicy{kMaxBodyBytes, false};
  post.span_attributes = {{"chat.auth.type", kAuthTypeBrowser}};
  post.finish = [this](telemetry::sdk::HttpExchange& ex) {
    ex.res.set_header("Cache-Control", "no-store");
    std::string origin = ex.req.get_header_value("Origin");
    if (OriginAllowed(origin)) {
      ex.res.set_header("Access-Control-Allow-Origin", origin);
      ex.res.set_header("Vary", "Origin");
    }
    if (ex.threw()) {  // nothing below throws by design; the router answered 500
      ex.span().SetAttribute("chat.auth.result", kResultError);
      metrics_.requests.With({kResultError, kAuthTypeBrowser}).Add(1, &ex.ctx());
      metrics_.duration.With({kAuthTypeBrowser}).Record(ex.ElapsedSeconds(), &ex.ctx());
    }
  };
  router_.Post(pattern, route, [this](telemetry::sdk::HttpExchange& ex) { HandleCredentials(ex); },
               std::move(post));
  router_.Options(pattern, route, [this](telemetry::sdk::HttpExchange& ex) {
    std::string origin = ex.req.get_header_value("Origin");
    if (!OriginAllowed(origin)) {
      ex.res.status = 403;
      return;
    }
    ex.res.status = 204;
    ex.res.set_header("Access-Control-Allow-Origin", origin);
    ex.res.set_header("Vary", "Origin");
    ex.res.set_header("Access-Control-Allow-Methods", "POST, OPTIONS");
    ex.res.set_header("Access-Control-Allow-Headers", CorsAllowHeaders());
    ex.res.set_header("Access-Control-Max-Age", "600");
  });
  // Probes stay outside the router: no span or log line per kubelet poll.
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (Ready()) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("jwks: no keys\n", "text/plain");
    }
  });
}

void AuthServer::HandleCredentials(telemetry::sdk::HttpExchange& ex) {
  const httplib::Request& req = ex.req;
  httplib::Response& res = ex.res;
  telemetry::Span& span = ex.span();

  // Behind nginx the peer is nginx: the client is what a trusted proxy says it is.
  std::string forwarded;
  for (size_t i = 0, n = req.get_header_value_count("X-Forwarded-For"); i < n; ++i) {
    if (i > 0) forwarded += ',';
    forwarded += req.get_header_value("X-Forwarded-For", i);
  }
  const std::string client = config_.trusted_proxies.ClientAddress(req.remote_addr, forwarded);
  span.SetAttribute("client.address", client);

  Outcome out = Process(req, client, span.Context());

  res.status = out.status;
  res.set_content(out.body, "application/json");
  if (out.status == 429) res.set_header("Retry-After", "1");

  span.SetAttribute("chat.auth.result", out.result);
  if (out.reason) {
    std::string reason(RejectReasonName(*out.reason));
    span.AddEvent("auth.rejected", {{"reason", reason}});
    std::vector<telemetry::Attribute> fields = {{"chat.auth.reason", reason},
                                                {"client.address", client},
                                                {semconv::kHttpResponseStatusCode, out.status}};
    if (!out.username.empty()) fields.push_back({"chat.user", out.username});
    ex.Warn("credential request rejected", std::move(fields));
  } else if (out.result == kResultRateLimited) {
    span.SetAttribute("chat.auth.limit", out.limit);
    std::vector<telemetry::Attribute> fields = {{"client.address", client},
                                                {"network.peer.address", req.remote_addr},
                                                {"chat.auth.limit", std::string(out.limit)}};
    if (!out.username.empty()) fields.push_back({"chat.user", out.username});
    ex.Warn("credential request rate limited", std::move(fields));
  } else if (out.internal_error) {
    ex.Fail("signing_failed", "signing the user JWT failed", "internal", "signing failed");
    ex.Error("user JWT signing failed",
             {{semconv::kErrorType, "signing_failed"}, {"chat.user", out.username}});
  } else if (out.jwks_unavailable) {
    ex.Fail("jwks_unavailable", "JWKS unavailable for an unknown kid", "jwks", "JWKS unavailable");
    ex.Error("token key unavailable; JWKS refresh failed",
             {{semconv::kErrorType, "jwks_unavailable"}, {"client.address", client}});
  } else {
    ex.Info("credentials issued", {{"chat.user", out.username}, {"chat.auth.tier", out.tier}});
  }
  metrics_.requests.With({out.result, kAuthTypeBrowser}).Add(1, &span.Context());
  metrics_.duration.With({kAuthTypeBrowser}).Record(ex.ElapsedSeconds(), &span.Context());
}

AuthServer::Outcome AuthServer::Process(const httplib::Request& req, const std::string& client,
                                        const telemetry::SpanContext& ctx) {
  Outcome out;
  auto reject = [&out](int status, RejectReason reason) {
    out.status = status;
    out.result = kResultRejected;
    out.reason = reason;
    out.body =
        HttpErrorBody(status == 401 ? ErrorCode::kUnauthenticated : ErrorCode::kInvalidArgument,
                      RejectReasonMessage(reason));
    return out;
  };

  auto rate_limited = [&out](std::string_view limit) {
    out.status = 429;
    out.result = kResultRateLimited;
    out.limit = limit;
    out.body = HttpErrorBody(ErrorCode::kResourceExhausted,
                             "Too many credential requests; retry shortly.");
    return out;
  };
  if (!limiter_.Allow(client)) return rate_limited("address");
  if (req.body.size() > kMaxBodyBytes) {
    reject(413, RejectReason::kMalformed);
    out.body = HttpErrorBody(ErrorCode::kInvalidArgument, "The request body exceeds 16 KiB.");
    return out;
  }
  if (req.get_header_value_count("Authorization") != 1) {
    return reject(401, RejectReason::kMalformed);
  }
  auto token = BearerToken(req.get_header_value("Authorization"));
  if (!token) return reject(401, RejectReason::kMalformed);

  Verification v = verifier_.Verify(*token, ctx);
  out.username = v.username;
  if (!v.token) {
    if (v.jwks_unavailable) {
      out.status = 503;
      out.result = kResultError;
      out.jwks_unavailable = true;
      out.body = HttpErrorBody(ErrorCode::kUnavailable,
                               "The identity provider's keys are unavailable.");
      return out;
    }
    return reject(401, v.reason.value_or(RejectReason::kMalformed));
  }
  out.username = v.token->username;
  // One user's token replayed from many addresses still has one budget.
  if (!user_limiter_.Allow(v.token->subject)) return rate_limited("user");

  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return reject(400, RejectReason::kMalformed);
  auto nkey = body.find("nkey");
  if (nkey == body.end() || (nkey->is_string() && nkey->get<std::string>().empty())) {
    return reject(400, RejectReason::kMissingNkey);
  }
  if (!nkey->is_string() || !nkeys::IsValidPublicKey(nkey->get<std::string>(),
                                                     nkeys::KeyType::kUser)) {
    return reject(400, RejectReason::kBadNkey);
  }
  auto minted = minter_.Mint(nkey->get<std::string>(), *v.token);
  if (!minted.ok()) {
    out.status = 500;
    out.result = kResultError;
    out.internal_error = true;
    out.body = HttpErrorBody(ErrorCode::kInternal, "Credentials could not be issued.");
    return out;
  }
  out.tier = minted->tier;
  out.body = json{{"jwt", minted->jwt},
                  {"expires_at", minted->expires_at_ms},
                  {"user", minted->user},
                  {"tier", minted->tier}}
                 .dump();
  return out;
}

}  // namespace chat::auth_service

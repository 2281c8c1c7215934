#include "http_api.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

#include "chat/core/origin.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::auth_service {
namespace {

namespace semconv = telemetry::semconv;
using nlohmann::json;

using core::ErrorCode;

runtime::HttpServerOptions ServerOptions(const AuthConfig& config) {
  runtime::HttpServerOptions o;
  o.server_label = "auth";  // auth counts its own outcomes (auth_requests_total)
  o.host = config.http_host;
  o.port = config.http_port;
  return o;
}
using runtime::HttpErrorBody;

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
      server_(telemetry, clock, ServerOptions(config_)) {}

AuthServer::~AuthServer() { Stop(); }

core::Status AuthServer::Start() {
  if (started_.exchange(true)) return core::FailedPrecondition("already started");
  RegisterRoutes();
  // Binds without SO_REUSEPORT: a second auth-service on the same port is an error.
  CHAT_RETURN_IF_ERROR(server_.Start());
  port_.store(server_.port());
  jwks_.StartPeriodic();
  return core::Status::Ok();
}

void AuthServer::Stop() {
  server_.Stop();
  jwks_.StopPeriodic();
}

bool AuthServer::OriginAllowed(const std::string& origin) const {
  return core::OriginAllowed(origin, config_.cors_origins);
}

void AuthServer::RegisterRoutes() {
  // The route layer reads the body with the 16 KiB bound (chunked or not) and refuses any
  // Content-Encoding and any body elsewhere, before a handler runs: 413/415, counted in
  // http_server_rejected_requests_total{server="auth"} and logged. It owns the SERVER span, the
  // trace context, the outcome log line and the exception catch (runtime::HttpServer).
  const std::string route(kCredentialsRoute);
  const std::string pattern(kCredentialsRoute);
  runtime::HttpRouteOptions post;
  post.max_body_bytes = kMaxBodyBytes;
  post.span_attributes = {{"chat.auth.type", kAuthTypeBrowser}};
  post.finish = [this](runtime::HttpExchange& ex) {
    ex.SetHeader("Cache-Control", "no-store");
    std::string origin = ex.Header("Origin");
    if (OriginAllowed(origin)) {
      ex.SetHeader("Access-Control-Allow-Origin", origin);
      ex.SetHeader("Vary", "Origin");
    }
    if (ex.threw()) {  // nothing below throws by design; the router answered 500
      ex.span().SetAttribute("chat.auth.result", kResultError);
      metrics_.requests.With({kResultError, kAuthTypeBrowser}).Add(1, &ex.ctx());
      metrics_.duration.With({kAuthTypeBrowser}).Record(ex.ElapsedSeconds(), &ex.ctx());
    }
  };
  server_.Post(
      pattern, route, [this](runtime::HttpExchange& ex) { HandleCredentials(ex); },
      std::move(post));
  server_.Options(pattern, route, [this](runtime::HttpExchange& ex) {
    std::string origin = ex.Header("Origin");
    if (!OriginAllowed(origin)) {
      ex.SetStatus(403);
      return;
    }
    ex.SetStatus(204);
    ex.SetHeader("Access-Control-Allow-Origin", origin);
    ex.SetHeader("Vary", "Origin");
    ex.SetHeader("Access-Control-Allow-Methods", "POST, OPTIONS");
    ex.SetHeader("Access-Control-Allow-Headers", CorsAllowHeaders());
    ex.SetHeader("Access-Control-Max-Age", "600");
  });
  // Probes are untraced, and their line is DEBUG: nothing per kubelet poll at INFO.
  runtime::HttpRouteOptions probe;
  probe.trace = false;
  server_.Get(
      "/healthz", "/healthz", [](runtime::HttpExchange& ex) { ex.SetBody("ok\n", "text/plain"); },
      probe);
  server_.Get(
      "/readyz", "/readyz",
      [this](runtime::HttpExchange& ex) {
        if (Ready()) {
          ex.SetBody("ready\n", "text/plain");
        } else {
          ex.SetStatus(503);
          ex.SetBody("jwks: no keys\n", "text/plain");
          ex.Debug("auth-service not ready", {{"chat.readiness.failing", "jwks"}});
        }
      },
      probe);
}

void AuthServer::HandleCredentials(runtime::HttpExchange& ex) {
  telemetry::Span& span = ex.span();

  // Behind nginx the peer is nginx: the client is what a trusted proxy says it is.
  std::string forwarded;
  for (const std::string& value : ex.HeaderValues("X-Forwarded-For")) {
    if (!forwarded.empty()) forwarded += ',';
    forwarded += value;
  }
  const std::string client = config_.trusted_proxies.ClientAddress(ex.remote_address(), forwarded);
  span.SetAttribute("client.address", client);

  Outcome out = Process(ex, client, span.Context());

  ex.SetStatus(out.status);
  ex.SetBody(out.body, "application/json");
  if (out.status == 429) ex.SetHeader("Retry-After", "1");

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
                                                {"network.peer.address", ex.remote_address()},
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

AuthServer::Outcome AuthServer::Process(const runtime::HttpExchange& ex, const std::string& client,
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
  if (ex.body().size() > kMaxBodyBytes) {
    reject(413, RejectReason::kMalformed);
    out.body = HttpErrorBody(ErrorCode::kInvalidArgument, "The request body exceeds 16 KiB.");
    return out;
  }
  const std::vector<std::string> authorization = ex.HeaderValues("Authorization");
  if (authorization.size() != 1) return reject(401, RejectReason::kMalformed);
  auto token = BearerToken(authorization.front());
  if (!token) return reject(401, RejectReason::kMalformed);

  Verification v = verifier_.Verify(*token, ctx);
  out.username = v.username;
  if (!v.token) {
    if (v.jwks_unavailable) {
      out.status = 503;
      out.result = kResultError;
      out.jwks_unavailable = true;
      out.body =
          HttpErrorBody(ErrorCode::kUnavailable, "The identity provider's keys are unavailable.");
      return out;
    }
    return reject(401, v.reason.value_or(RejectReason::kMalformed));
  }
  out.username = v.token->username;
  // One user's token replayed from many addresses still has one budget.
  if (!user_limiter_.Allow(v.token->subject)) return rate_limited("user");

  json body = json::parse(ex.body(), nullptr, false);
  if (!body.is_object()) return reject(400, RejectReason::kMalformed);
  auto nkey = body.find("nkey");
  if (nkey == body.end() || (nkey->is_string() && nkey->get<std::string>().empty())) {
    return reject(400, RejectReason::kMissingNkey);
  }
  if (!nkey->is_string() ||
      !nkeys::IsValidPublicKey(nkey->get<std::string>(), nkeys::KeyType::kUser)) {
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

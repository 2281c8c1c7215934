// Login: the IdP and auth-service token exchange (system.md §7.3). OIDC discovery and password
// grant at the issuer, a fresh user nkey, a NATS user JWT from auth-service's credential API,
// then the natsx connection with the per-user inbox prefix (ADR 0001). Also where the login
// settings come from (LoginOptionsFromEnv) and the loopback check the tools make on those URLs.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/client/session.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/strings.hpp"
#include "chat/nkeys/nkeys.hpp"
#include "chat/telemetry/sdk/http_client.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::client {
namespace {

using nlohmann::json;
namespace attr = contracts::attr;
namespace subjects = contracts::subjects;
namespace sdk = telemetry::sdk;

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// The OIDC error of a token response, or "" when the body is not one.
std::string OidcError(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return j["error"].get<std::string>();
  }
  return {};
}

// The credential API's {"error":{"code","message"}} message, or "".
std::string ApiErrorMessage(const std::string& body) {
  auto err = contracts::FromJson<contracts::ErrorReply>(body);
  return err.ok() ? err->message : std::string();
}

}  // namespace

bool IsLoopbackUrl(std::string_view url) {
  auto parts = sdk::ParseUrl(url);
  if (!parts) {
    // Bare host:port (nats URLs are sometimes written without a scheme).
    parts = sdk::ParseUrl("x://" + std::string(url));
    if (!parts) return false;
  }
  const std::string& h = parts->host;
  if (h == "localhost" || h == "::1") return true;
  return h.rfind("127.", 0) == 0 && h.find_first_not_of("0123456789.") == std::string::npos;
}

LoginOptions LoginOptionsFromEnv(const core::Env& env) {
  LoginOptions o;
  auto get = [&](std::string_view name, const std::string& fallback) {
    auto v = env.Get(name);
    return v && !v->empty() ? *v : fallback;
  };
  o.idp_base = get("CHAT_IDP_URL",
                   "http://127.0.0.1:" + get("NATS_CHAT_IDP_PORT", "8080") + "/realms/nats-chat");
  o.auth_url = get("CHAT_AUTH_URL", "http://127.0.0.1:" + get("CHAT_AUTH_HTTP_PORT", "9430"));
  std::string nats = get("NATS_URL", "nats://127.0.0.1:" + get("NATS_CHAT_NATS_PORT", "4222"));
  o.nats_urls.clear();
  size_t start = 0;
  while (start <= nats.size()) {
    size_t comma = nats.find(',', start);
    std::string url = nats.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!url.empty()) o.nats_urls.push_back(url);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  o.user = get("CHAT_USER", "");
  o.password = get("CHAT_PASSWORD", "");
  return o;
}

core::Result<std::unique_ptr<Session>> Session::Login(LoginOptions options,
                                                      const telemetry::Telemetry& telemetry,
                                                      const core::Clock& clock) {
  if (options.user.empty() || options.password.empty()) {
    return core::InvalidArgument("a username and a password are required");
  }
  if (options.nats_urls.empty()) return core::InvalidArgument("no NATS URL given");
  std::unique_ptr<Session> s(new Session(std::move(options), telemetry, clock));
  const LoginOptions& o = s->options_;
  std::string idp = TrimSlash(o.idp_base);
  std::string auth = TrimSlash(o.auth_url);

  telemetry::Span span = telemetry.tracer.StartSpan("login", telemetry::SpanKind::kInternal, {});
  auto fail = [&](core::Status st, std::string_view type) {
    span.RecordError(type, st.message(), "login", "login failed");
    return st;
  };

  // 1. Discovery → token endpoint (Keycloak and dev-idp both publish it).
  sdk::HttpRequest disc;
  disc.url = idp + "/.well-known/openid-configuration";
  disc.peer_service = "idp";
  disc.timeout = o.http_timeout;
  auto disc_r = sdk::PerformHttp(disc, telemetry, span.Context());
  if (!disc_r.ok()) {
    return fail(core::Unavailable("identity provider unreachable at " + idp + " (" +
                                  disc_r.status().message() + ")"),
                "idp_unavailable");
  }
  if (disc_r->status != 200) {
    return fail(core::Unavailable("identity provider at " + idp + " answered HTTP " +
                                  std::to_string(disc_r->status) + " for its discovery document"),
                "idp_unavailable");
  }
  json doc = json::parse(disc_r->body, nullptr, false);
  if (!doc.is_object() || !doc.contains("token_endpoint") || !doc["token_endpoint"].is_string()) {
    return fail(core::Unavailable("identity provider discovery document has no token_endpoint"),
                "idp_unavailable");
  }

  // 2. Password grant. No traceparent: the browser cannot send it cross-origin either.
  sdk::HttpRequest tok;
  tok.method = "POST";
  tok.url = doc["token_endpoint"].get<std::string>();
  tok.content_type = "application/x-www-form-urlencoded";
  tok.body = "grant_type=password&client_id=" + core::PercentEncode(o.client_id) +
             "&username=" + core::PercentEncode(o.user) +
             "&password=" + core::PercentEncode(o.password) + "&scope=openid";
  tok.peer_service = "idp";
  tok.timeout = o.http_timeout;
  auto tok_r = sdk::PerformHttp(tok, telemetry, span.Context());
  if (!tok_r.ok()) {
    return fail(
        core::Unavailable("identity provider unreachable (" + tok_r.status().message() + ")"),
        "idp_unavailable");
  }
  if (tok_r->status == 401 || OidcError(tok_r->body) == "invalid_grant") {
    return fail(
        core::Unauthenticated("login refused: wrong username or password for \"" + o.user + "\""),
        "unauthenticated");
  }
  if (tok_r->status != 200) {
    return fail(
        core::Unavailable("identity provider answered HTTP " + std::to_string(tok_r->status) +
                          " (" + OidcError(tok_r->body) + ")"),
        "idp_unavailable");
  }
  json tokens = json::parse(tok_r->body, nullptr, false);
  if (!tokens.is_object() || !tokens.contains("access_token") ||
      !tokens["access_token"].is_string()) {
    return fail(core::Unavailable("identity provider returned no access token"), "idp_unavailable");
  }
  std::string access_token = tokens["access_token"].get<std::string>();

  // 3. Our own user nkey; the seed never leaves this process.
  auto key = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  if (!key.ok()) return fail(key.status(), "nkey");

  // 4. User JWT from auth-service (traceparent sent: same origin for the browser).
  sdk::HttpRequest cred;
  cred.method = "POST";
  cred.url = auth + "/auth/v1/credentials";
  cred.content_type = "application/json";
  cred.headers = {"Authorization: Bearer " + access_token};
  cred.body = json{{"nkey", key->public_key()}}.dump();
  cred.peer_service = "auth-service";
  cred.send_traceparent = true;
  cred.timeout = o.http_timeout;
  auto cred_r = sdk::PerformHttp(cred, telemetry, span.Context());
  if (!cred_r.ok()) {
    return fail(core::Unavailable("auth-service unreachable at " + auth + " (" +
                                  cred_r.status().message() + ")"),
                "auth_unavailable");
  }
  if (cred_r->status == 401) {
    return fail(core::Unauthenticated("auth-service refused the login token: " +
                                      ApiErrorMessage(cred_r->body)),
                "unauthenticated");
  }
  if (cred_r->status == 429) {
    return fail(core::ResourceExhausted("auth-service rate limit reached; retry in a second"),
                "rate_limited");
  }
  if (cred_r->status != 200) {
    return fail(core::Unavailable("auth-service answered HTTP " + std::to_string(cred_r->status) +
                                  ": " + ApiErrorMessage(cred_r->body)),
                "auth_unavailable");
  }
  json creds = json::parse(cred_r->body, nullptr, false);
  if (!creds.is_object() || !creds.contains("jwt") || !creds["jwt"].is_string() ||
      !creds.contains("user") || !creds["user"].is_string()) {
    return fail(core::Unavailable("auth-service returned no JWT"), "auth_unavailable");
  }
  s->user_ = creds["user"].get<std::string>();
  s->tier_ = creds.value("tier", std::string("none"));

  // 5. NATS with the minted JWT; requests reply on _INBOX.{user}.… (ADR 0001).
  natsx::ConnectionOptions co;
  co.urls = o.nats_urls;
  co.name = o.client_name;
  co.connect_timeout = o.connect_timeout;
  co.credentials = natsx::Credentials::FromJwtAndSeed(creds["jwt"].get<std::string>(), key->Seed());
  auto inbox = subjects::kInbox.Format({s->user_});
  if (!inbox.ok()) return fail(inbox.status(), "bad_username");
  co.inbox_prefix = *inbox;
  {
    telemetry::SpanStartOptions so;
    so.kind = telemetry::SpanKind::kClient;
    so.parent = span.Context();
    telemetry::Span connect_span = telemetry.tracer.StartSpan("connect nats", std::move(so));
    auto conn = natsx::Connection::Connect(std::move(co), telemetry);
    if (!conn.ok()) {
      connect_span.RecordError(std::string(core::ErrorCodeName(conn.status().code())),
                               conn.status().message(), "nats", "NATS connect failed");
      return fail(conn.status(), "nats_connect");
    }
    s->conn_ = std::move(conn).value();
    auto addr = s->conn_->server_address();
    connect_span.SetAttribute(telemetry::semconv::kServerAddress, addr.host);
    connect_span.SetAttribute(telemetry::semconv::kServerPort, addr.port);
  }
  span.SetAttribute(attr::kUser, s->user_);
  s->StartPresence();
  return s;
}

}  // namespace chat::client

#include "chat/client/session.hpp"

#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <set>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/presence.hpp"
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

std::string_view MessageKind(const contracts::ChatMessage& m) {
  if (m.action == contracts::MessageAction::kSystem) return "system";
  if (!m.sticker_url.empty()) return "sticker";
  return "text";
}

// A valid but unsampled parent: the parent-based sampler drops the publish/request span (and
// the receivers' spans) instead of starting a root trace for every keep-alive.
telemetry::SpanContext Untraced() {
  telemetry::SpanContext c;
  c.trace_id = telemetry::NewTraceId();
  c.span_id = telemetry::NewSpanId();
  c.trace_flags = 0;
  return c;
}

contracts::ChatMessage FromNotification(const contracts::Notification& n) {
  contracts::ChatMessage m;
  m.user = n.user;
  m.room = n.room;
  m.timestamp = n.timestamp;
  m.thread_id = n.thread_id;
  m.action = n.action;
  m.emoji = n.emoji;
  m.target_user = n.target_user;
  return m;
}

// The waiting caller and the echo watch's callbacks (libnats threads) meet here.
struct EchoWait {
  std::mutex mu;
  std::condition_variable cv;
  bool echoed = false;
  bool notified_unfetched = false;  // our notification came, but msg.get did not return it
  std::chrono::steady_clock::time_point at;
};

enum class EchoMatch {
  kNo,       // someone else's message, or another version of ours
  kYes,      // our own copy, as the browser would render it
  kKeyOnly,  // our notification, but without the content to compare (msg.get failed)
};

// Is `d` the echo of `sent`? The key (user, room, timestamp, action, thread) comes with every
// notification; send and edit are compared on the fetched text too (another process of the same
// user could have used the same millisecond; an older edit's echo could still be in flight),
// react on its emoji and target.
EchoMatch MatchEcho(const contracts::ChatMessage& sent, const Delivery& d) {
  const contracts::ChatMessage& m = d.message;
  if (m.user != sent.user || m.room != sent.room || m.timestamp != sent.timestamp ||
      m.action != sent.action || m.thread_id != sent.thread_id) {
    return EchoMatch::kNo;
  }
  switch (sent.action) {
    case contracts::MessageAction::kSend:
    case contracts::MessageAction::kEdit:
      if (!d.fetched) return EchoMatch::kKeyOnly;
      return m.text == sent.text ? EchoMatch::kYes : EchoMatch::kNo;
    case contracts::MessageAction::kReact:
      return m.emoji == sent.emoji && m.target_user == sent.target_user ? EchoMatch::kYes
                                                                         : EchoMatch::kNo;
    default:
      return EchoMatch::kYes;
  }
}

}  // namespace

// ---- MessageClock ----

int64_t MessageClock::Next() {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    clock_.Now().time_since_epoch())
                    .count();
  int64_t last = last_.load();
  while (true) {
    int64_t next = std::max(now, last + 1);
    if (last_.compare_exchange_weak(last, next)) return next;
  }
}

// ---- helpers ----

std::vector<std::string> ExtractMentions(std::string_view text) {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '@') continue;
    size_t j = i + 1;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) ||
                               text[j] == '_' || text[j] == '-')) {
      ++j;
    }
    if (j > i + 1) {
      std::string name(text.substr(i + 1, j - i - 1));
      if (seen.insert(name).second) out.push_back(std::move(name));
    }
    i = j - 1;
  }
  return out;
}

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
  auto get = [&](std::string_view name, std::string fallback) {
    auto v = env.Get(name);
    return v && !v->empty() ? *v : fallback;
  };
  o.idp_base = get("CHAT_IDP_URL", "http://127.0.0.1:" + get("NATS_CHAT_IDP_PORT", "8080") +
                                       "/realms/nats-chat");
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

// ---- Session ----

Session::Session(LoginOptions options, const telemetry::Telemetry& telemetry,
                 const core::Clock& clock)
    : options_(std::move(options)), telemetry_(telemetry), clock_(clock) {
  message_clock_ = options_.message_clock ? options_.message_clock
                                          : std::make_shared<MessageClock>(clock_);
}

Session::~Session() {
  if (!conn_) return;
  StopPresence();
  // Best effort: the disconnect should reach the server before the connection closes.
  (void)conn_->Flush(std::chrono::milliseconds(1000));
}

void Session::StartPresence() {
  // A per-session connection id, like the browser's per-tab one: 8 hex chars.
  conn_id_ = telemetry::NewSpanId().Hex().substr(0, 8);
  (void)PublishPresence(subjects::kPresenceHeartbeat);
  std::lock_guard guard(presence_mu_);
  presence_started_ = true;
  presence_thread_ = std::thread([this] {
    std::unique_lock lock(presence_mu_);
    while (!presence_cv_.wait_for(lock, options_.presence_heartbeat_interval,
                                  [this] { return presence_stop_; })) {
      lock.unlock();
      // A failed heartbeat (disconnected) is retried at the next tick; libnats reconnects.
      (void)PublishPresence(subjects::kPresenceHeartbeat);
      lock.lock();
    }
  });
}

void Session::StopPresence() {
  {
    std::lock_guard lock(presence_mu_);
    if (!presence_started_ || presence_stop_) return;
    presence_stop_ = true;
  }
  presence_cv_.notify_all();
  if (presence_thread_.joinable()) presence_thread_.join();
  (void)PublishPresence(subjects::kPresenceDisconnect);
}

core::Status Session::PublishPresence(const core::SubjectTemplate& tmpl) {
  // Heartbeats are never traced (observability §4.5).
  return conn_->Publish(tmpl, {user_},
                        contracts::ToJson(contracts::PresenceHeartbeat{user_, conn_id_}),
                        Untraced());
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
    return fail(core::Unavailable("identity provider unreachable (" + tok_r.status().message() +
                                  ")"),
                "idp_unavailable");
  }
  if (tok_r->status == 401 || OidcError(tok_r->body) == "invalid_grant") {
    return fail(core::Unauthenticated("login refused: wrong username or password for \"" +
                                      o.user + "\""),
                "unauthenticated");
  }
  if (tok_r->status != 200) {
    return fail(core::Unavailable("identity provider answered HTTP " +
                                  std::to_string(tok_r->status) + " (" +
                                  OidcError(tok_r->body) + ")"),
                "idp_unavailable");
  }
  json tokens = json::parse(tok_r->body, nullptr, false);
  if (!tokens.is_object() || !tokens.contains("access_token") ||
      !tokens["access_token"].is_string()) {
    return fail(core::Unavailable("identity provider returned no access token"),
                "idp_unavailable");
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
  co.credentials = natsx::Credentials::FromJwtAndSeed(creds["jwt"].get<std::string>(),
                                                      key->Seed());
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

core::Result<SentMessage> Session::PublishAction(
    std::string_view span_name, contracts::ChatMessage msg,
    std::optional<std::chrono::milliseconds> confirm_timeout) {
  telemetry::SpanStartOptions so;
  so.attributes = {{attr::kRoom, msg.room},
                   {attr::kAction, contracts::MessageActionName(msg.action)},
                   {attr::kMessageId, contracts::MessageId(msg.timestamp, msg.user)},
                   {attr::kMessageKind, MessageKind(msg)}};
  if (!msg.thread_id.empty()) so.attributes.push_back({attr::kThreadId, msg.thread_id});
  telemetry::Span span = telemetry_.tracer.StartSpan(span_name, std::move(so));
  // The browser's timeout runs from the user's action, so the subscriptions count against it.
  const auto deadline = std::chrono::steady_clock::now() +
                        confirm_timeout.value_or(std::chrono::milliseconds(0));
  SentMessage sent{contracts::MessageId(msg.timestamp, msg.user),
                   span.Context().trace_id.Hex(), msg.timestamp};

  // Confirmation: listen for our own echo BEFORE publishing, so it cannot slip past. (Nothing
  // of this runs on the fire-and-forget path the load generator uses.)
  std::shared_ptr<EchoWait> echo;
  std::unique_ptr<Watch> watch;
  std::string subject;
  std::string error_before;
  if (confirm_timeout) {
    echo = std::make_shared<EchoWait>();
    auto w = WatchRooms(
        {msg.room},
        [echo, expected = msg, &clock = clock_](const Delivery& d) {
          EchoMatch match = MatchEcho(expected, d);
          if (match == EchoMatch::kNo) return;
          std::lock_guard lock(echo->mu);
          if (match == EchoMatch::kKeyOnly) {
            echo->notified_unfetched = true;
            return;
          }
          if (!echo->echoed) {
            echo->echoed = true;
            echo->at = clock.SteadyNow();
            echo->cv.notify_all();
          }
        },
        {.fetch = true});
    if (!w.ok()) {
      span.RecordError(std::string(core::ErrorCodeName(w.status().code())), w.status().message(),
                       "nats", "echo subscription failed");
      return w.status();
    }
    watch = std::move(w).value();
    auto formatted = msg.thread_id.empty()
                         ? subjects::kDeliverSend.Format({user_, msg.room})
                         : subjects::kDeliverSendThread.Format({user_, msg.room, msg.thread_id});
    if (formatted.ok()) subject = std::move(formatted).value();
    error_before = LastError();
  }

  const auto published_at = clock_.SteadyNow();
  core::Status s;
  if (msg.thread_id.empty()) {
    s = conn_->Publish(subjects::kDeliverSend, {user_, msg.room}, contracts::ToJson(msg),
                       span.Context());
  } else {
    s = conn_->Publish(subjects::kDeliverSendThread, {user_, msg.room, msg.thread_id},
                       contracts::ToJson(msg), span.Context());
  }
  if (!s.ok()) {
    span.RecordError(std::string(core::ErrorCodeName(s.code())), s.message(), "nats",
                     "publish failed");
    return s;
  }
  if (!confirm_timeout) return sent;

  // A publish outside the JWT's permissions is refused asynchronously; its -ERR arrives before
  // the PONG of this flush, so a refusal is known here and need not wait for the timeout.
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  core::Status flushed = conn_->Flush(std::max(remaining, std::chrono::milliseconds(1)));
  std::string error_after = LastError();
  if (error_after != error_before &&
      error_after.find("Permissions Violation") != std::string::npos &&
      !subject.empty() && error_after.find(subject) != std::string::npos) {
    span.RecordError("permission_denied", "the server refused the publish", "nats",
                     "publish refused");
    return core::PermissionDenied("the server refused the publish: " + error_after);
  }
  if (!flushed.ok() && flushed.code() != core::ErrorCode::kDeadlineExceeded) {
    span.RecordError(std::string(core::ErrorCodeName(flushed.code())), flushed.message(), "nats",
                     "flush failed");
    return flushed;
  }

  bool echoed = false;
  bool notified_unfetched = false;
  std::chrono::steady_clock::time_point echoed_at;
  {
    std::unique_lock lock(echo->mu);
    echo->cv.wait_until(lock, deadline, [&] { return echo->echoed; });
    echoed = echo->echoed;
    notified_unfetched = echo->notified_unfetched;
    echoed_at = echo->at;
  }
  if (echoed) {
    span.AddEvent("echo_rendered");
    span.End();  // the echo is the end of the user's action; unsubscribing is not part of it
    sent.confirmed = true;
    sent.echo_latency =
        std::chrono::duration_cast<std::chrono::microseconds>(echoed_at - published_at);
    return sent;
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      *confirm_timeout);
  std::string what = "no echo of message " + sent.message_id + " within " +
                     std::to_string(waited.count()) + " ms";
  if (notified_unfetched) what += " (its notification arrived but msg.get failed)";
  span.RecordError("delivery_timeout", what, "delivery_timeout", "delivery timeout");
  return core::DeadlineExceeded(what + " (trace_id=" + sent.trace_id + ")");
}

core::Result<contracts::ChatMessage> Session::MakeSend(std::string_view room,
                                                       std::string_view text,
                                                       std::string_view thread_id) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  if (text.empty()) return core::InvalidArgument("message text is empty");
  if (text.size() > contracts::kMaxTextBytes) {
    return core::InvalidArgument("message text is longer than 4000 bytes");
  }
  contracts::ChatMessage m;
  m.user = user_;
  m.room = std::string(room);
  m.text = std::string(text);
  m.timestamp = message_clock_->Next();
  m.mentions = ExtractMentions(text);
  if (!thread_id.empty()) {
    auto parsed = contracts::ParseThreadId(thread_id);
    if (!parsed.ok()) return parsed.status();
    m.thread_id = std::string(thread_id);
    m.parent_timestamp = parsed->second;
  }
  return m;
}

core::Result<contracts::ChatMessage> Session::MakeEdit(std::string_view room, int64_t timestamp,
                                                       std::string_view text,
                                                       std::string_view thread_id) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  if (text.empty()) return core::InvalidArgument("edit text is empty");
  contracts::ChatMessage m;
  m.user = user_;
  m.room = std::string(room);
  m.text = std::string(text);
  m.timestamp = timestamp;
  m.thread_id = std::string(thread_id);
  m.action = contracts::MessageAction::kEdit;
  return m;
}

core::Result<contracts::ChatMessage> Session::MakeDelete(std::string_view room, int64_t timestamp,
                                                         std::string_view thread_id) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  contracts::ChatMessage m;
  m.user = user_;
  m.room = std::string(room);
  m.timestamp = timestamp;
  m.thread_id = std::string(thread_id);
  m.action = contracts::MessageAction::kDelete;
  return m;
}

core::Result<contracts::ChatMessage> Session::MakeReact(std::string_view room, int64_t timestamp,
                                                        std::string_view target_user,
                                                        std::string_view emoji,
                                                        std::string_view thread_id) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  if (emoji.empty() || target_user.empty()) {
    return core::InvalidArgument("a reaction needs an emoji and the message's author");
  }
  contracts::ChatMessage m;
  m.user = user_;
  m.room = std::string(room);
  m.timestamp = timestamp;
  m.thread_id = std::string(thread_id);
  m.action = contracts::MessageAction::kReact;
  m.emoji = std::string(emoji);
  m.target_user = std::string(target_user);
  return m;
}

core::Result<SentMessage> Session::Send(std::string_view room, std::string_view text,
                                        std::string_view thread_id) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeSend(room, text, thread_id));
  return PublishAction("send_message", std::move(m));
}

core::Result<SentMessage> Session::Edit(std::string_view room, int64_t timestamp,
                                        std::string_view text, std::string_view thread_id) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeEdit(room, timestamp, text, thread_id));
  return PublishAction("edit_message", std::move(m));
}

core::Result<SentMessage> Session::Delete(std::string_view room, int64_t timestamp,
                                          std::string_view thread_id) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeDelete(room, timestamp, thread_id));
  return PublishAction("delete_message", std::move(m));
}

core::Result<SentMessage> Session::React(std::string_view room, int64_t timestamp,
                                         std::string_view target_user, std::string_view emoji,
                                         std::string_view thread_id) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeReact(room, timestamp, target_user, emoji, thread_id));
  return PublishAction("react_message", std::move(m));
}

core::Result<SentMessage> Session::SendAndConfirm(std::string_view room, std::string_view text,
                                                  std::string_view thread_id,
                                                  std::chrono::milliseconds timeout) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeSend(room, text, thread_id));
  return PublishAction("send_message", std::move(m), timeout);
}

core::Result<SentMessage> Session::EditAndConfirm(std::string_view room, int64_t timestamp,
                                                  std::string_view text,
                                                  std::string_view thread_id,
                                                  std::chrono::milliseconds timeout) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeEdit(room, timestamp, text, thread_id));
  return PublishAction("edit_message", std::move(m), timeout);
}

core::Result<SentMessage> Session::DeleteAndConfirm(std::string_view room, int64_t timestamp,
                                                    std::string_view thread_id,
                                                    std::chrono::milliseconds timeout) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeDelete(room, timestamp, thread_id));
  return PublishAction("delete_message", std::move(m), timeout);
}

core::Result<SentMessage> Session::ReactAndConfirm(std::string_view room, int64_t timestamp,
                                                   std::string_view target_user,
                                                   std::string_view emoji,
                                                   std::string_view thread_id,
                                                   std::chrono::milliseconds timeout) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeReact(room, timestamp, target_user, emoji, thread_id));
  return PublishAction("react_message", std::move(m), timeout);
}

core::Result<contracts::HistoryPage> Session::History(std::string_view room, int64_t before) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  telemetry::SpanStartOptions so;
  so.attributes = {{attr::kRoom, std::string(room)}};
  telemetry::Span span = telemetry_.tracer.StartSpan(
      before > 0 ? "load_more_history" : "load_history", std::move(so));
  auto reply = conn_->Request(subjects::kHistory, {room},
                              contracts::ToJson(contracts::HistoryRequest{before}),
                              options_.request_timeout, span.Context());
  if (!reply.ok()) {
    span.RecordError(std::string(core::ErrorCodeName(reply.status().code())),
                     reply.status().message(), "nats", "history request failed");
    return reply.status();
  }
  auto page = contracts::FromReply<contracts::HistoryPage>(reply->payload());
  if (page.ok()) span.SetAttribute(attr::kHistoryReturned,
                                   static_cast<int64_t>(page->messages.size()));
  return page;
}

core::Result<contracts::RoomListReply> Session::Rooms() {
  auto reply = conn_->Request(subjects::kRoomList, {},
                              contracts::ToJson(contracts::RoomListRequest{user_}),
                              options_.request_timeout, {});
  if (!reply.ok()) return reply.status();
  return contracts::FromReply<contracts::RoomListReply>(reply->payload());
}

core::Result<contracts::RoomInfo> Session::CreateRoom(std::string_view name,
                                                      std::string_view display_name) {
  contracts::RoomCreateRequest req{std::string(name), std::string(display_name), user_};
  auto reply = conn_->Request(subjects::kRoomCreate, {user_}, contracts::ToJson(req),
                              options_.request_timeout, {});
  if (!reply.ok()) return reply.status();
  return contracts::FromReply<contracts::RoomInfo>(reply->payload());
}

core::Status Session::Join(std::string_view room) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  telemetry::SpanStartOptions so;
  so.attributes = {{attr::kRoom, std::string(room)}};
  telemetry::Span span = telemetry_.tracer.StartSpan("join_room", std::move(so));
  core::Status s =
      conn_->Publish(subjects::kRoomJoin, {room, user_},
                     contracts::ToJson(contracts::RoomMembershipRequest{user_}), span.Context());
  if (!s.ok()) span.RecordError("publish_failed", s.message(), "nats", "join failed");
  return s;
}

core::Status Session::JoinAndWait(std::string_view room, std::chrono::milliseconds timeout) {
  CHAT_RETURN_IF_ERROR(Join(room));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  core::Status last = core::DeadlineExceeded("the join of #" + std::string(room) +
                                             " did not take effect in time");
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return last;
    // Polls are plumbing, not user actions: untraced like heartbeats.
    auto reply = conn_->Request(subjects::kPresenceRoom, {room}, "{}",
                                std::min(left, std::chrono::milliseconds(1000)), Untraced());
    if (reply.ok()) {
      auto members = contracts::FromReply<contracts::PresenceRoomReply>(reply->payload());
      if (members.ok()) {
        for (const auto& m : members->members) {
          if (m.user_id == user_) return core::Status::Ok();
        }
      }
    }
    // The join is applied asynchronously (room-service, then the room.changed delta): ask again
    // shortly, within the caller's deadline.
    std::unique_lock lock(presence_mu_);
    presence_cv_.wait_for(lock, std::min(left, std::chrono::milliseconds(100)));
  }
}

core::Status Session::Leave(std::string_view room) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  telemetry::SpanStartOptions so;
  so.attributes = {{attr::kRoom, std::string(room)}};
  telemetry::Span span = telemetry_.tracer.StartSpan("leave_room", std::move(so));
  core::Status s =
      conn_->Publish(subjects::kRoomLeave, {room, user_},
                     contracts::ToJson(contracts::RoomMembershipRequest{user_}), span.Context());
  if (!s.ok()) span.RecordError("publish_failed", s.message(), "nats", "leave failed");
  return s;
}

core::Result<std::unique_ptr<Watch>> Session::WatchRooms(std::vector<std::string> rooms,
                                                         Callback callback,
                                                         WatchOptions options) {
  for (const auto& r : rooms) CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(r));
  std::unique_ptr<Watch> watch(new Watch());
  Watch* w = watch.get();
  auto room_set = std::make_shared<std::set<std::string, std::less<>>>(rooms.begin(), rooms.end());
  auto cb = std::make_shared<Callback>(std::move(callback));
  std::chrono::milliseconds timeout = options_.request_timeout;
  bool fetch = options.fetch;

  // Notifications: msg.get for the content (5.2), except delete/react which carry everything.
  auto on_notification = [w, room_set, cb, timeout, fetch](std::string_view via) {
    return [w, room_set, cb, timeout, fetch, via = std::string(via)](
               const natsx::Message& m, natsx::MessageContext& ctx) -> core::Status {
      auto n = contracts::FromJson<contracts::Notification>(m.payload());
      if (!n.ok()) return n.status();  // undecodable: the process span records it
      if (room_set->find(n->room) == room_set->end()) return core::Status::Ok();
      w->notifications_.fetch_add(1);
      ctx.span().SetAttribute(attr::kMessageId, contracts::MessageId(n->timestamp, n->user));
      Delivery d;
      d.via = via;
      bool needs_fetch = fetch && n->action != contracts::MessageAction::kDelete &&
                         n->action != contracts::MessageAction::kReact;
      if (needs_fetch) {
        auto reply = ctx.connection().Request(
            subjects::kMsgGet, {}, contracts::ToJson(contracts::MsgGetRequest{n->notify_id, n->room}),
            timeout, ctx.span_context());
        core::Result<contracts::ChatMessage> msg =
            reply.ok() ? contracts::FromReply<contracts::ChatMessage>(reply->payload())
                       : core::Result<contracts::ChatMessage>(reply.status());
        if (!msg.ok()) {
          // The browser ignores failed fetches (§7.5); we count them and fall back to the
          // notification's fields so the delivery itself is not lost.
          w->fetch_failures_.fetch_add(1);
          d.message = FromNotification(*n);
        } else {
          d.message = std::move(msg).value();
          d.fetched = true;
        }
      } else {
        d.message = FromNotification(*n);
      }
      (*cb)(d);
      ctx.span().AddEvent("message_rendered");
      return core::Status::Ok();
    };
  };

  for (const auto& room : rooms) {
    if (contracts::IsDmRoom(room) || contracts::IsAdminRoom(room)) continue;  // per-member only
    auto pattern = subjects::kRoomNotify.Format({room});
    if (!pattern.ok()) return pattern.status();
    natsx::SubscribeOptions so;
    so.templates = {subjects::kRoomNotify};
    so.pattern = *pattern;
    so.link_inbound = true;  // each recipient's handling is its own trace (§5.2)
    auto sub = conn_->Subscribe(std::move(so), on_notification("room"));
    if (!sub.ok()) return sub.status();
    w->subs_.push_back(std::move(sub).value());
  }
  {
    natsx::SubscribeOptions so;
    so.templates = {subjects::kDeliverNotify};
    so.pattern = "deliver." + user_ + ".notify.*";
    so.link_inbound = true;
    auto sub = conn_->Subscribe(std::move(so), on_notification("notify"));
    if (!sub.ok()) return sub.status();
    w->subs_.push_back(std::move(sub).value());
  }
  {
    natsx::SubscribeOptions so;
    so.templates = {subjects::kDeliverAdmin};
    so.pattern = "deliver." + user_ + ".admin.*";
    so.link_inbound = true;
    auto sub = conn_->Subscribe(
        std::move(so),
        [w, room_set, cb](const natsx::Message& m, natsx::MessageContext& ctx) -> core::Status {
          auto msg = contracts::FromJson<contracts::ChatMessage>(m.payload());
          if (!msg.ok()) return msg.status();
          if (room_set->find(msg->room) == room_set->end()) return core::Status::Ok();
          w->notifications_.fetch_add(1);
          ctx.span().SetAttribute(attr::kMessageId,
                                  contracts::MessageId(msg->timestamp, msg->user));
          Delivery d;
          d.via = "admin";
          d.fetched = true;
          d.message = std::move(msg).value();
          (*cb)(d);
          ctx.span().AddEvent("message_rendered");
          return core::Status::Ok();
        });
    if (!sub.ok()) return sub.status();
    w->subs_.push_back(std::move(sub).value());
  }
  CHAT_RETURN_IF_ERROR(conn_->Flush(options_.request_timeout));
  return watch;
}

double Session::PermissionErrors() const {
  return telemetry_.metrics->AddCounter("nats_client_errors_total", "", {"type"})
      .With({"permission"})
      .Value();
}

std::string Session::LastError() const {
  const char* text = nullptr;
  natsStatus s = natsConnection_GetLastError(conn_->native(), &text);
  if (s == NATS_OK || text == nullptr) return {};
  return text;
}

core::Status Session::Flush(std::chrono::milliseconds timeout) { return conn_->Flush(timeout); }

core::Status Session::Close(std::chrono::milliseconds timeout) {
  if (!conn_) return core::Status::Ok();
  StopPresence();  // presence.disconnect goes out before the drain flushes
  return conn_->Drain(timeout);
}

Watch::~Watch() { subs_.clear(); }

}  // namespace chat::client

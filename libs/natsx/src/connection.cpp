#include "chat/natsx/connection.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <typeinfo>

#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"

namespace chat::natsx {

namespace semconv = telemetry::semconv;
using telemetry::Span;
using telemetry::SpanContext;
using telemetry::SpanKind;

// ---------------------------------------------------------------------------------------------
// Metrics

std::unique_ptr<Connection::Metrics> Connection::Metrics::Create(
    telemetry::MetricRegistry& registry) {
  auto m = std::make_unique<Metrics>();
  auto connected = registry.AddGauge("nats_client_connected", "1 while connected to NATS, else 0");
  m->connected = &connected.Default();
  auto reconnects =
      registry.AddCounter("nats_client_reconnects_total", "Reconnections to the NATS server");
  m->reconnects = &reconnects.Default();
  auto errors = registry.AddCounter("nats_client_errors_total",
                                    "Asynchronous NATS client errors by type", {"type"});
  m->errors_slow_consumer = &errors.With({"slow_consumer"});
  m->errors_permission = &errors.With({"permission"});
  m->errors_other = &errors.With({"other"});
  auto invalid = registry.AddCounter("trace_context_invalid_total",
                                     "Inbound traceparent headers rejected, by reason", {"reason"});
  for (int i = 0; i < 4; ++i) {
    m->invalid_context[i] = &invalid.With(
        {telemetry::InvalidContextReasonName(static_cast<telemetry::InvalidContextReason>(i))});
  }
  auto fallback = registry.AddCounter(
      "natsx_traceparent_fallback_total",
      "Inbound messages whose context was read from the Xraceparent header");
  m->traceparent_fallback = &fallback.Default();
  auto rejected = registry.AddCounter("natsx_messages_rejected_total",
                                      "Inbound messages dropped before any handler ran", {"reason"});
  m->rejected_oversized = &rejected.With({"oversized"});
  m->rejected_no_template = &rejected.With({"no_template"});
  auto exceptions = registry.AddCounter("natsx_handler_exceptions_total",
                                        "Exceptions that escaped a message handler");
  m->handler_exceptions = &exceptions.Default();
  auto dispatch_exceptions = registry.AddCounter(
      "natsx_dispatch_exceptions_total",
      "Exceptions thrown while delivering a message outside its handler; the message is dropped");
  m->dispatch_exceptions = &dispatch_exceptions.Default();
  auto async_failed = registry.AddCounter("natsx_jetstream_async_publish_failed_total",
                                          "JetStream asynchronous publishes that were not acked");
  m->js_async_publish_failed = &async_failed.Default();
  return m;
}

// ---------------------------------------------------------------------------------------------
// Helpers

namespace internal {

std::string NatsErrorText(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text != last) {
    text += ": ";
    text += last;
  }
  return text;
}

core::Status ToStatus(natsStatus s, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += natsStatus_GetText(s);
  switch (s) {
    case NATS_OK:
      return core::Status::Ok();
    case NATS_TIMEOUT:
      return core::DeadlineExceeded(std::move(msg));
    case NATS_NOT_FOUND:
      return core::NotFound(std::move(msg));
    case NATS_CONNECTION_AUTH_FAILED:
      return core::Unauthenticated(std::move(msg));
    case NATS_NOT_PERMITTED:
      return core::PermissionDenied(std::move(msg));
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_TIMEOUT:
    case NATS_INVALID_QUEUE_NAME:
      return core::InvalidArgument(std::move(msg));
    case NATS_MAX_PAYLOAD:
      return core::ResourceExhausted(std::move(msg));
    case NATS_NO_MEMORY:
    case NATS_SYS_ERROR:
    case NATS_ILLEGAL_STATE:
      return core::Internal(std::move(msg));
    default:
      return core::Unavailable(std::move(msg));
  }
}

core::Status RunHandler(Connection& conn, const Message& msg, MessageContext& ctx, Span& span,
                        const Handler& handler) {
  core::Status status;
  const auto& tel = conn.telemetry();
  try {
    status = handler(msg, ctx);
  } catch (const std::exception& e) {
    conn.metrics().handler_exceptions->Add(1);
    span.RecordError(core::ErrorCodeName(core::ErrorCode::kInternal), e.what(),
                     typeid(e).name(), "handler threw");
    // The exception text may carry user data only if a handler put it there; keep it off the log
    // line and on the span only (which has the attribute length limit).
    tel.logger->Error(span.Context(), "message handler threw an exception",
                      {{semconv::kMessagingDestinationTemplate,
                        msg.subject_template() != nullptr ? msg.subject_template()->text()
                                                          : std::string_view()},
                       {semconv::kExceptionType, typeid(e).name()}});
    return core::Internal("handler threw an exception");
  } catch (...) {
    conn.metrics().handler_exceptions->Add(1);
    span.RecordError(core::ErrorCodeName(core::ErrorCode::kInternal), "unknown exception",
                     "unknown", "handler threw");
    tel.logger->Error(span.Context(), "message handler threw an exception",
                      {{semconv::kMessagingDestinationTemplate,
                        msg.subject_template() != nullptr ? msg.subject_template()->text()
                                                          : std::string_view()}});
    return core::Internal("handler threw an exception");
  }
  if (!status.ok()) {
    span.RecordError(core::ErrorCodeName(status.code()), status.message(), {},
                     "handler failed");
  }
  return status;
}

}  // namespace internal

namespace {

// The header names as C strings for libnats (semconv holds them as string_views).
constexpr char kTraceparentKey[] = "traceparent";
constexpr char kTracestateKey[] = "tracestate";
static_assert(semconv::kTraceparentHeader == kTraceparentKey);
static_assert(semconv::kTracestateHeader == kTracestateKey);

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Values of one header key; views into the message (valid while it lives).
struct HeaderLookup {
  std::string_view first;
  int count = 0;
};

HeaderLookup ValuesOf(natsMsg* msg, const char* key) {
  HeaderLookup out;
  if (key == nullptr) return out;
  const char** values = nullptr;
  int n = 0;
  if (natsMsgHeader_Values(msg, key, &values, &n) == NATS_OK) {
    if (n > 0 && values[0] != nullptr) out.first = values[0];
    out.count = n;
    std::free(static_cast<void*>(values));
  }
  return out;
}

bool IsTraceHeader(std::string_view key) {
  return IEquals(key, semconv::kTraceparentHeader) || IEquals(key, semconv::kTracestateHeader);
}

natsStatus JwtCallback(char** user_jwt, char** custom_err, void* closure) {
  auto* conn = static_cast<Connection*>(closure);
  const std::string& jwt = conn->options().credentials.jwt;
  if (jwt.empty()) {
    *custom_err = strdup("no user JWT configured");
    return NATS_ERR;
  }
  *user_jwt = strdup(jwt.c_str());
  return *user_jwt == nullptr ? NATS_NO_MEMORY : NATS_OK;
}

natsStatus SignatureCallback(char** custom_err, unsigned char** signature, int* signature_length,
                             const char* nonce, void* closure) {
  auto* conn = static_cast<Connection*>(closure);
  natsStatus s = nats_Sign(conn->options().credentials.seed.c_str(), nonce, signature,
                           signature_length);
  if (s != NATS_OK) *custom_err = strdup("could not sign the server nonce with the user seed");
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Credentials

Credentials Credentials::FromCredsFile(std::string path) {
  Credentials c;
  c.kind = Kind::kCredsFile;
  c.creds_file = std::move(path);
  return c;
}
Credentials Credentials::FromJwtAndSeed(std::string jwt, std::string seed) {
  Credentials c;
  c.kind = Kind::kJwtAndSeed;
  c.jwt = std::move(jwt);
  c.seed = std::move(seed);
  return c;
}
Credentials Credentials::FromToken(std::string token) {
  Credentials c;
  c.kind = Kind::kToken;
  c.token = std::move(token);
  return c;
}
Credentials Credentials::FromUserPassword(std::string user, std::string password) {
  Credentials c;
  c.kind = Kind::kUserPassword;
  c.user = std::move(user);
  c.password = std::move(password);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Message

Message::Message(natsMsg* msg, const core::SubjectTemplate* tmpl) : msg_(msg), template_(tmpl) {}
Message::~Message() {
  if (msg_ != nullptr) natsMsg_Destroy(msg_);
}
Message::Message(Message&& other) noexcept
    : msg_(std::exchange(other.msg_, nullptr)),
      template_(other.template_),
      delivery_(std::move(other.delivery_)) {}
Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    if (msg_ != nullptr) natsMsg_Destroy(msg_);
    msg_ = std::exchange(other.msg_, nullptr);
    template_ = other.template_;
    delivery_ = std::move(other.delivery_);
  }
  return *this;
}

std::string_view Message::subject() const {
  if (msg_ == nullptr) return {};
  const char* s = natsMsg_GetSubject(msg_);
  return s == nullptr ? std::string_view() : std::string_view(s);
}
std::string_view Message::payload() const {
  if (msg_ == nullptr) return {};
  const char* d = natsMsg_GetData(msg_);
  int n = natsMsg_GetDataLength(msg_);
  if (d == nullptr || n <= 0) return {};
  return {d, static_cast<size_t>(n)};
}
std::string_view Message::reply_to() const {
  if (msg_ == nullptr) return {};
  const char* r = natsMsg_GetReply(msg_);
  return r == nullptr ? std::string_view() : std::string_view(r);
}
std::optional<std::string_view> Message::Header(std::string_view key) const {
  if (msg_ == nullptr) return std::nullopt;
  const char* v = nullptr;
  if (natsMsgHeader_Get(msg_, std::string(key).c_str(), &v) != NATS_OK || v == nullptr) {
    return std::nullopt;
  }
  return std::string_view(v);
}
std::optional<std::string_view> Message::Arg(std::string_view name) const {
  if (template_ == nullptr) return std::nullopt;
  return template_->Extract(subject(), name);
}

// ---------------------------------------------------------------------------------------------
// MessageContext

Span MessageContext::StartSpan(std::string_view name, SpanKind kind) const {
  return conn_.telemetry().tracer.StartSpan(name, kind, span_.Context());
}
const telemetry::Telemetry& MessageContext::telemetry() const { return conn_.telemetry(); }

core::Status MessageContext::Respond(std::string_view payload, const Headers& headers) {
  if (msg_.reply_to().empty()) return core::FailedPrecondition("message expects no reply");
  auto st = conn_.Respond(msg_, payload, headers);
  if (st.ok()) responded_ = true;
  return st;
}

core::Status MessageContext::Ack() {
  if (!msg_.delivery().jetstream) return core::FailedPrecondition("not a JetStream message");
  if (acked_) return core::FailedPrecondition("already acknowledged");
  natsStatus s = internal::PublishJsAck(conn_.native(), msg_.native(), internal::JsAck::kAck);
  if (s != NATS_OK) return internal::ToStatus(s, "ack");
  acked_ = true;
  span_.AddEvent("ack");
  return core::Status::Ok();
}

core::Status MessageContext::Nak(std::chrono::milliseconds delay) {
  if (!msg_.delivery().jetstream) return core::FailedPrecondition("not a JetStream message");
  if (acked_) return core::FailedPrecondition("already acknowledged");
  natsStatus s = internal::PublishJsAck(conn_.native(), msg_.native(), internal::JsAck::kNak,
                                        delay);
  if (s != NATS_OK) return internal::ToStatus(s, "nak");
  acked_ = true;
  span_.AddEvent("nak", {{"delay_ms", static_cast<int64_t>(delay.count())}});
  return core::Status::Ok();
}

core::Status MessageContext::Term(std::string_view reason) {
  if (!msg_.delivery().jetstream) return core::FailedPrecondition("not a JetStream message");
  if (acked_) return core::FailedPrecondition("already acknowledged");
  natsStatus s = internal::PublishJsAck(conn_.native(), msg_.native(), internal::JsAck::kTerm);
  if (s != NATS_OK) return internal::ToStatus(s, "term");
  acked_ = true;
  span_.AddEvent("term", {{"reason", reason}});
  return core::Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Connection

namespace {

// libnats opens itself on first use with a lock spin count of 2,000: a thread that finds a
// connection's mutex taken retries trylock that many times before it sleeps. With a dozen
// handler threads on one connection and two cores that spinning was 18 % of fanout-service's
// CPU at 5,000 msg/s (perf: natsMutex_Lock, pthread_mutex_trylock) and it steals the core the
// lock holder needs. Opening it first with 0 makes contended locks sleep at once.
void OpenNatsLibraryOnce() {
  static std::once_flag once;
  // A failure (the process opened the library earlier) leaves libnats' default: not fatal.
  std::call_once(once, [] { (void)nats_Open(0); });
}

bool ReadableFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return in.good() && in.peek() != std::ifstream::traits_type::eof();
}

// TLS from ConnectionOptions::tls: on when a URL is tls:// or a TLS setting is given. A file
// problem is a configuration error (invalid_argument naming the file), reported before any
// connection attempt, so a service refuses to start instead of retrying a hopeless connect.
core::Status ConfigureTls(natsOptions* opts, const ConnectionOptions& o) {
  const TlsOptions& t = o.tls;
  bool secure = t.configured();
  for (const auto& u : o.urls) secure = secure || u.rfind("tls://", 0) == 0;
  if (!secure) return core::Status::Ok();
  if (t.cert_file.empty() != t.key_file.empty()) {
    return core::InvalidArgument("NATS TLS client certificate and key must be given together");
  }
  natsStatus s = natsOptions_SetSecure(opts, true);
  if (s != NATS_OK) return internal::ToStatus(s, "enable NATS TLS");
  if (!t.ca_file.empty()) {
    if (!ReadableFile(t.ca_file)) {
      return core::InvalidArgument("NATS TLS CA file \"" + t.ca_file + "\" is missing or unreadable");
    }
    if (natsOptions_LoadCATrustedCertificates(opts, t.ca_file.c_str()) != NATS_OK) {
      return core::InvalidArgument("NATS TLS CA file \"" + t.ca_file + "\" holds no PEM certificate");
    }
  }
  if (!t.cert_file.empty()) {
    for (const std::string* f : {&t.cert_file, &t.key_file}) {
      if (!ReadableFile(*f)) {
        return core::InvalidArgument("NATS TLS file \"" + *f + "\" is missing or unreadable");
      }
    }
    if (natsOptions_LoadCertificatesChain(opts, t.cert_file.c_str(), t.key_file.c_str()) !=
        NATS_OK) {
      return core::InvalidArgument("NATS TLS certificate \"" + t.cert_file + "\" and key \"" +
                                   t.key_file + "\" are not a matching PEM pair");
    }
  }
  if (!t.expected_hostname.empty()) {
    s = natsOptions_SetExpectedHostname(opts, t.expected_hostname.c_str());
    if (s != NATS_OK) return internal::ToStatus(s, "set the NATS TLS expected hostname");
  }
  return core::Status::Ok();
}

}  // namespace

Connection::Connection(ConnectionOptions options, const telemetry::Telemetry& telemetry)
    : options_(std::move(options)),
      telemetry_(telemetry),
      metrics_(Metrics::Create(*telemetry.metrics)) {}

core::Result<std::unique_ptr<Connection>> Connection::Connect(
    ConnectionOptions options, const telemetry::Telemetry& telemetry) {
  if (options.urls.empty()) return core::InvalidArgument("no NATS server URL given");
  std::unique_ptr<Connection> conn(new Connection(std::move(options), telemetry));
  const ConnectionOptions& o = conn->options_;

  OpenNatsLibraryOnce();
  natsOptions* raw = nullptr;
  natsStatus s = natsOptions_Create(&raw);
  if (s != NATS_OK) return internal::ToStatus(s, "create NATS options");
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> opts(raw, natsOptions_Destroy);

  std::vector<const char*> urls;
  urls.reserve(o.urls.size());
  for (const auto& u : o.urls) urls.push_back(u.c_str());
  s = natsOptions_SetServers(opts.get(), urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK && !o.name.empty()) s = natsOptions_SetName(opts.get(), o.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts.get(), o.connect_timeout.count());
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts.get(), o.allow_reconnect);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.get(), o.max_reconnect);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts.get(), o.reconnect_wait.count());
  if (s == NATS_OK && o.send_asap) s = natsOptions_SetSendAsap(opts.get(), true);
  if (s == NATS_OK && !o.inbox_prefix.empty()) {
    s = natsOptions_SetCustomInboxPrefix(opts.get(), o.inbox_prefix.c_str());
  }
  if (s == NATS_OK && o.retry_on_failed_connect) {
    s = natsOptions_SetRetryOnFailedConnect(opts.get(), true, &Connection::OnConnected,
                                            conn.get());
  }
  if (s == NATS_OK) {
    s = natsOptions_SetDisconnectedCB(opts.get(), &Connection::OnDisconnected, conn.get());
  }
  if (s == NATS_OK) {
    s = natsOptions_SetReconnectedCB(opts.get(), &Connection::OnReconnected, conn.get());
  }
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts.get(), &Connection::OnClosed, conn.get());
  if (s == NATS_OK) {
    s = natsOptions_SetErrorHandler(
        opts.get(),
        [](natsConnection* nc, natsSubscription* sub, natsStatus err, void* closure) {
          Connection::OnError(nc, sub, static_cast<int>(err), closure);
        },
        conn.get());
  }
  if (s != NATS_OK) return internal::ToStatus(s, "configure NATS options");
  if (core::Status st = ConfigureTls(opts.get(), o); !st.ok()) return st;

  switch (o.credentials.kind) {
    case Credentials::Kind::kNone:
      break;
    case Credentials::Kind::kCredsFile:
      s = natsOptions_SetUserCredentialsFromFiles(opts.get(), o.credentials.creds_file.c_str(),
                                                  nullptr);
      if (s != NATS_OK) return core::Unauthenticated("NATS credentials file is not usable");
      break;
    case Credentials::Kind::kJwtAndSeed:
      if (o.credentials.jwt.empty() || o.credentials.seed.empty()) {
        return core::InvalidArgument("NATS JWT and seed are both required");
      }
      s = natsOptions_SetUserCredentialsCallbacks(opts.get(), JwtCallback, conn.get(),
                                                  SignatureCallback, conn.get());
      break;
    case Credentials::Kind::kToken:
      s = natsOptions_SetToken(opts.get(), o.credentials.token.c_str());
      break;
    case Credentials::Kind::kUserPassword:
      s = natsOptions_SetUserInfo(opts.get(), o.credentials.user.c_str(),
                                  o.credentials.password.c_str());
      break;
  }
  if (s != NATS_OK) return internal::ToStatus(s, "configure NATS credentials");

  natsConnection* nc = nullptr;
  s = natsConnection_Connect(&nc, opts.get());
  // nats-server 2.9 with libnats 3.4.1 refuses a valid nkey signature of its nonce now and then
  // (about once in 50-100 connects here: the same .creds file succeeds on the next try). The
  // handshake is repeated, with a fresh nonce, before a refusal is believed.
  const bool nkey_auth = o.credentials.kind == Credentials::Kind::kCredsFile ||
                         o.credentials.kind == Credentials::Kind::kJwtAndSeed;
  for (int retry = 0; nkey_auth && s == NATS_CONNECTION_AUTH_FAILED && retry < 2; ++retry) {
    if (nc != nullptr) {
      natsConnection_Destroy(nc);
      nc = nullptr;
    }
    telemetry.logger->Warn("nats refused the nkey handshake, retrying",
                           {{semconv::kMessagingClientId, std::string_view(o.name)}});
    s = natsConnection_Connect(&nc, opts.get());
  }
  if (s == NATS_NOT_YET_CONNECTED && o.retry_on_failed_connect) {
    conn->nc_ = nc;
    conn->metrics_->connected->Set(0);
    telemetry.logger->Warn("nats not yet connected, retrying in background",
                           {{semconv::kMessagingClientId, std::string_view(o.name)}});
    return conn;
  }
  if (s != NATS_OK) {
    if (nc != nullptr) natsConnection_Destroy(nc);
    conn->metrics_->connected->Set(0);
    if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) {
      return core::Unauthenticated("NATS server refused the credentials");
    }
    if (s == NATS_SSL_ERROR || s == NATS_SECURE_CONNECTION_REQUIRED) {
      // libnats' status text alone ("SSL Error") does not say why; its last error does
      // (e.g. "certificate verify failed"). It is a plain reason, never a secret.
      const char* why = nats_GetLastError(nullptr);
      return core::Unavailable(std::string("connect to NATS over TLS: ") + natsStatus_GetText(s) +
                               (why != nullptr && *why != '\0' ? std::string(": ") + why : ""));
    }
    return internal::ToStatus(s, "connect to NATS");
  }
  conn->nc_ = nc;
  conn->RefreshServerAddress();
  conn->metrics_->connected->Set(1);
  return conn;
}

Connection::~Connection() {
  // First: a listener may be mid-request on this connection; let it finish, then join.
  StopReconnectWorker();
  if (nc_ == nullptr) return;
  closing_.store(true);
  bool already_closed = natsConnection_IsClosed(nc_);
  if (!already_closed) natsConnection_Close(nc_);
  {
    // The closed callback runs on a libnats thread and uses `this`: wait for it (bounded) before
    // freeing. If the connection was already closed (Drain), the callback has run or is queued.
    std::unique_lock lock(mu_);
    closed_cv_.wait_for(lock, std::chrono::seconds(5), [&] { return closed_; });
  }
  natsConnection_Destroy(nc_);
}

void Connection::RefreshServerAddress() {
  char buf[256] = {};
  if (natsConnection_GetConnectedUrl(nc_, buf, sizeof(buf)) != NATS_OK || buf[0] == '\0') return;
  std::string_view url(buf);
  if (auto p = url.find("://"); p != std::string_view::npos) url = url.substr(p + 3);
  if (auto at = url.rfind('@'); at != std::string_view::npos) url = url.substr(at + 1);
  ServerAddress addr;
  auto colon = url.rfind(':');
  if (colon != std::string_view::npos) {
    addr.host = std::string(url.substr(0, colon));
    addr.port = std::atoll(std::string(url.substr(colon + 1)).c_str());
  } else {
    addr.host = std::string(url);
  }
  if (addr.host.size() >= 2 && addr.host.front() == '[' && addr.host.back() == ']') {
    addr.host = addr.host.substr(1, addr.host.size() - 2);
  }
  std::lock_guard lock(mu_);
  server_ = std::move(addr);
}

Connection::ServerAddress Connection::server_address() const {
  std::lock_guard lock(mu_);
  return server_;
}

void Connection::OnConnected(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  self->RefreshServerAddress();
  self->metrics_->connected->Set(1);
  self->telemetry_.logger->Info("nats connected",
                                {{semconv::kMessagingClientId, std::string_view(self->options_.name)}});
}

void Connection::OnDisconnected(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  self->metrics_->connected->Set(0);
  if (self->closing_.load()) return;  // our own Close/Drain, not a fault
  self->telemetry_.logger->Warn("nats disconnected",
                                {{semconv::kMessagingClientId, std::string_view(self->options_.name)}});
}

void Connection::OnReconnected(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  self->RefreshServerAddress();
  self->metrics_->connected->Set(1);
  self->metrics_->reconnects->Add(1);
  self->telemetry_.logger->Warn("nats reconnected",
                                {{semconv::kMessagingClientId, std::string_view(self->options_.name)}});
  if (self->closing_.load()) return;
  // Listeners may block (KV requests): hand them to the worker instead of running them on this
  // libnats thread. A pending flag, not a queue: reconnects during a run coalesce into one more.
  std::lock_guard lock(self->listeners_mu_);
  self->reconnect_pending_ = true;
  self->listeners_cv_.notify_all();
}

uint64_t Connection::AddReconnectListener(std::function<void()> listener) {
  std::lock_guard lock(listeners_mu_);
  uint64_t id = next_listener_id_++;
  listeners_.emplace_back(id, std::make_shared<std::function<void()>>(std::move(listener)));
  if (!reconnect_worker_.joinable() && !worker_stop_) {
    reconnect_worker_ = std::thread([this] { RunReconnectListeners(); });
  }
  return id;
}

void Connection::RemoveReconnectListener(uint64_t id) {
  std::unique_lock lock(listeners_mu_);
  std::erase_if(listeners_, [&](const auto& l) { return l.first == id; });
  // From inside the listener itself waiting would deadlock; it is not re-run after returning.
  if (std::this_thread::get_id() == reconnect_worker_.get_id()) return;
  listeners_cv_.wait(lock, [&] { return running_listener_ != id; });
}

void Connection::RunReconnectListeners() {
  std::unique_lock lock(listeners_mu_);
  for (;;) {
    listeners_cv_.wait(lock, [&] { return worker_stop_ || reconnect_pending_; });
    if (worker_stop_) return;
    reconnect_pending_ = false;
    // A snapshot so listeners can add/remove listeners without invalidating the iteration.
    auto snapshot = listeners_;
    for (const auto& entry : snapshot) {
      const auto& [id, fn] = entry;
      if (worker_stop_) return;
      // Compares with entry.first: clang 14 cannot capture a structured binding in a lambda.
      bool still_registered = std::any_of(listeners_.begin(), listeners_.end(),
                                          [&](const auto& l) { return l.first == entry.first; });
      if (!still_registered) continue;
      running_listener_ = id;
      lock.unlock();
      try {
        (*fn)();
      } catch (const std::exception& e) {
        telemetry_.logger->Error("nats reconnect listener threw",
                                 {{semconv::kMessagingClientId, std::string_view(options_.name)},
                                  {"error", std::string_view(e.what())}});
      } catch (...) {
        telemetry_.logger->Error("nats reconnect listener threw",
                                 {{semconv::kMessagingClientId, std::string_view(options_.name)},
                                  {"error", std::string_view("unknown exception")}});
      }
      lock.lock();
      running_listener_ = 0;
      listeners_cv_.notify_all();
    }
  }
}

void Connection::StopReconnectWorker() {
  {
    std::lock_guard lock(listeners_mu_);
    worker_stop_ = true;
    listeners_cv_.notify_all();
  }
  if (!reconnect_worker_.joinable()) return;
  if (reconnect_worker_.get_id() != std::this_thread::get_id()) {
    reconnect_worker_.join();
  } else {
    reconnect_worker_.detach();  // destroyed from inside a listener: it returns right after
  }
}

void Connection::OnClosed(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  self->metrics_->connected->Set(0);
  std::lock_guard lock(self->mu_);
  self->closed_ = true;
  self->closed_cv_.notify_all();
}

void Connection::OnError(natsConnection*, natsSubscription*, int err, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  auto status = static_cast<natsStatus>(err);
  std::string_view type = "other";
  if (status == NATS_SLOW_CONSUMER) {
    self->metrics_->errors_slow_consumer->Add(1);
    type = "slow_consumer";
  } else if (status == NATS_NOT_PERMITTED) {
    self->metrics_->errors_permission->Add(1);
    type = "permission";
  } else {
    self->metrics_->errors_other->Add(1);
  }
  self->telemetry_.logger->Warn("nats asynchronous error",
                                {{"type", type}, {"error", natsStatus_GetText(status)}});
}

bool Connection::IsConnected() const {
  return nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

core::Status Connection::Flush(std::chrono::milliseconds timeout) {
  natsStatus s = natsConnection_FlushTimeout(nc_, timeout.count());
  return internal::ToStatus(s, "flush");
}

core::Status Connection::Drain(std::chrono::milliseconds timeout) {
  if (natsConnection_IsClosed(nc_)) return core::Status::Ok();
  closing_.store(true);
  {
    // No listener starts after a drain began (the destructor joins the worker).
    std::lock_guard lock(listeners_mu_);
    worker_stop_ = true;
    listeners_cv_.notify_all();
  }
  natsStatus s = natsConnection_DrainTimeout(nc_, timeout.count());
  if (s != NATS_OK) return internal::ToStatus(s, "drain");
  std::unique_lock lock(mu_);
  if (!closed_cv_.wait_for(lock, timeout, [&] { return closed_; })) {
    return core::DeadlineExceeded("NATS connection did not close within the drain timeout");
  }
  return core::Status::Ok();
}

void Connection::SetMessagingAttributes(Span& span, std::string_view operation_name,
                                        std::string_view operation_type, std::string_view subject,
                                        const core::SubjectTemplate& tmpl, size_t body_size,
                                        bool with_server) const {
  if (!span.IsRecording()) return;
  span.SetAttribute(semconv::kMessagingSystem, "nats")
      .SetAttribute(semconv::kMessagingOperationName, operation_name)
      .SetAttribute(semconv::kMessagingOperationType, operation_type)
      .SetAttribute(semconv::kMessagingDestinationName, subject)
      .SetAttribute(semconv::kMessagingDestinationTemplate, tmpl.text())
      .SetAttribute(semconv::kMessagingMessageBodySize, static_cast<int64_t>(body_size));
  if (!options_.name.empty()) span.SetAttribute(semconv::kMessagingClientId, options_.name);
  if (with_server) {
    std::lock_guard lock(mu_);
    if (!server_.host.empty()) {
      span.SetAttribute(semconv::kServerAddress, server_.host)
          .SetAttribute(semconv::kServerPort, server_.port);
    }
  }
}

core::Status Connection::InjectHeaders(natsMsg* msg, const SpanContext& ctx,
                                       const Headers& headers) const {
  natsStatus s = NATS_OK;
  // Formatted on the stack and keyed by NUL-terminated constants: no allocation of ours per
  // message (libnats still copies key and value into its header map).
  char tp[telemetry::kTraceparentLength + 1];
  if (telemetry::FormatTraceparentTo(ctx, tp)) {
    s = natsMsgHeader_Set(msg, kTraceparentKey, tp);
    if (s == NATS_OK && !ctx.trace_state.empty()) {
      s = natsMsgHeader_Set(msg, kTracestateKey, ctx.trace_state.c_str());
    }
  }
  for (const auto& [k, v] : headers) {
    if (s != NATS_OK) break;
    if (k.empty() || IsTraceHeader(k)) continue;  // natsx alone writes trace headers
    s = natsMsgHeader_Add(msg, k.c_str(), v.c_str());
  }
  return internal::ToStatus(s, "set headers");
}

namespace internal {

InboundTraceHeaders ReadTraceHeaders(natsMsg* msg) {
  // One pass over the keys finds the trace headers: the exact lowercase spelling wins, any other
  // spelling is accepted (§3.1), and Xraceparent is the fallback (decisions.md §6).
  InboundTraceHeaders out;
  const char** keys = nullptr;
  int nkeys = 0;
  if (natsMsgHeader_Keys(msg, &keys, &nkeys) != NATS_OK) return out;  // no headers at all
  const char* tp_key = nullptr;
  const char* ts_key = nullptr;
  const char* x_key = nullptr;
  bool tp_exact = false;
  bool ts_exact = false;
  for (int i = 0; i < nkeys; ++i) {
    const char* k = keys[i];
    if (k == nullptr) continue;
    std::string_view key(k);
    if (key == semconv::kTraceparentHeader) {
      tp_key = k;
      tp_exact = true;
    } else if (!tp_exact && IEquals(key, semconv::kTraceparentHeader)) {
      tp_key = k;
    } else if (key == semconv::kTracestateHeader) {
      ts_key = k;
      ts_exact = true;
    } else if (!ts_exact && IEquals(key, semconv::kTracestateHeader)) {
      ts_key = k;
    } else if (key == semconv::kXraceparentHeader) {
      x_key = k;
    }
  }
  std::free(static_cast<void*>(keys));  // the key strings belong to the message

  HeaderLookup tp = ValuesOf(msg, tp_key);
  if (tp.count == 0) {
    tp = ValuesOf(msg, x_key);
    if (tp.count == 0) return out;
    out.fallback = true;
  }
  std::string_view tracestate;
  if (tp.count == 1) tracestate = ValuesOf(msg, ts_key).first;
  out.parsed = telemetry::ParseTraceparent(tp.first, tracestate, tp.count);
  return out;
}

}  // namespace internal

SpanContext Connection::ExtractContext(natsMsg* msg) const {
  internal::InboundTraceHeaders headers = internal::ReadTraceHeaders(msg);
  if (headers.fallback) metrics_->traceparent_fallback->Add(1);
  telemetry::ParsedContext& parsed = headers.parsed;
  if (parsed.invalid.has_value()) {
    auto reason = *parsed.invalid;
    metrics_->invalid_context[static_cast<int>(reason)]->Add(1);
    if (telemetry_.logger->Enabled(telemetry::LogLevel::kDebug)) {
      const char* subj = natsMsg_GetSubject(msg);
      telemetry_.logger->Log(telemetry::LogLevel::kDebug, nullptr,
                             "invalid inbound trace context ignored",
                             {{"reason", telemetry::InvalidContextReasonName(reason)},
                              {semconv::kMessagingDestinationName,
                               subj == nullptr ? std::string_view() : std::string_view(subj)}});
    }
    return {};
  }
  if (parsed.context.has_value()) return std::move(*parsed.context);
  return {};
}

core::Status Connection::Publish(const core::SubjectTemplate& tmpl, Args args,
                                 std::string_view payload, const SpanContext& parent,
                                 const Headers& headers) {
  // A per-thread buffer: no allocation once it has grown to the longest subject. libnats copies
  // the subject into the message, so the buffer is free again when this returns.
  thread_local std::string subject;
  CHAT_RETURN_IF_ERROR(core::FormatSubjectInto(tmpl, args.begin(), args.size(), subject));
  internal::SpanName name("publish ", tmpl);
  Span span = telemetry_.tracer.StartSpan(name.view(), SpanKind::kProducer, parent);
  SetMessagingAttributes(span, "publish", "send", subject, tmpl, payload.size(), true);

  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK) {
    span.RecordError("publish_failed", natsStatus_GetText(s), "nats", "publish failed");
    return internal::ToStatus(s, "create message");
  }
  std::unique_ptr<natsMsg, internal::MsgDeleter> msg(raw);
  if (auto st = InjectHeaders(msg.get(), span.Context(), headers); !st.ok()) {
    span.RecordError("publish_failed", st.message(), "nats", "publish failed");
    return st;
  }
  s = natsConnection_PublishMsg(nc_, msg.get());
  if (s != NATS_OK) {
    span.RecordError("publish_failed", natsStatus_GetText(s), "nats", "publish failed");
    return internal::ToStatus(s, "publish");
  }
  return core::Status::Ok();
}

core::Result<Message> Connection::Request(const core::SubjectTemplate& tmpl, Args args,
                                          std::string_view payload,
                                          std::chrono::milliseconds timeout,
                                          const SpanContext& parent, const Headers& headers) {
  CHAT_ASSIGN_OR_RETURN(std::string subject, tmpl.Format(args));
  internal::SpanName name("request ", tmpl);
  Span span = telemetry_.tracer.StartSpan(name.view(), SpanKind::kClient, parent);
  SetMessagingAttributes(span, "request", "send", subject, tmpl, payload.size(), true);

  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK) {
    span.RecordError("request_failed", natsStatus_GetText(s), "nats", "request failed");
    return internal::ToStatus(s, "create message");
  }
  std::unique_ptr<natsMsg, internal::MsgDeleter> msg(raw);
  if (auto st = InjectHeaders(msg.get(), span.Context(), headers); !st.ok()) {
    span.RecordError("request_failed", st.message(), "nats", "request failed");
    return st;
  }
  natsMsg* reply = nullptr;
  s = natsConnection_RequestMsg(&reply, nc_, msg.get(), timeout.count());
  if (s == NATS_TIMEOUT) {
    span.RecordError("timeout", "no reply within the timeout", "nats", "request timed out");
    return core::DeadlineExceeded("request timed out");
  }
  if (s == NATS_NO_RESPONDERS) {
    span.RecordError("no_responders", "no responders for the subject", "nats",
                     "no responders");
    return core::Unavailable("no responders");
  }
  if (s != NATS_OK) {
    span.RecordError("request_failed", natsStatus_GetText(s), "nats", "request failed");
    return internal::ToStatus(s, "request");
  }
  return Message(reply, nullptr);
}

core::Status Connection::Respond(const Message& request, std::string_view payload,
                                 const Headers& headers) {
  if (request.reply_to().empty()) return core::FailedPrecondition("message expects no reply");
  std::string reply(request.reply_to());
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, reply.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK) return internal::ToStatus(s, "create reply");
  std::unique_ptr<natsMsg, internal::MsgDeleter> msg(raw);
  // Replies carry no trace headers (§3.3): pass an invalid context.
  CHAT_RETURN_IF_ERROR(InjectHeaders(msg.get(), SpanContext{}, headers));
  s = natsConnection_PublishMsg(nc_, msg.get());
  return internal::ToStatus(s, "reply");
}

core::Result<std::unique_ptr<Subscription>> Connection::Subscribe(SubscribeOptions options,
                                                                  Handler handler) {
  if (options.templates.empty()) return core::InvalidArgument("subscription needs a template");
  if (!handler) return core::InvalidArgument("subscription needs a handler");
  std::unique_ptr<Subscription> sub(new Subscription(*this, std::move(options), std::move(handler)));
  std::vector<std::string> patterns;
  if (!sub->options_.pattern.empty()) {
    patterns.push_back(sub->options_.pattern);
  } else {
    for (const auto& t : sub->options_.templates) {
      auto p = t.Pattern();
      if (std::find(patterns.begin(), patterns.end(), p) == patterns.end()) patterns.push_back(p);
    }
  }
  for (const auto& p : patterns) {
    natsSubscription* ns = nullptr;
    natsStatus s;
    if (sub->options_.queue_group.empty()) {
      s = natsConnection_Subscribe(&ns, nc_, p.c_str(), &Subscription::OnMessage, sub.get());
    } else {
      s = natsConnection_QueueSubscribe(&ns, nc_, p.c_str(), sub->options_.queue_group.c_str(),
                                        &Subscription::OnMessage, sub.get());
    }
    if (s == NATS_OK) {
      s = natsSubscription_SetOnCompleteCB(ns, &Subscription::OnComplete, sub.get());
      if (s == NATS_OK) {
        s = natsSubscription_SetPendingLimits(ns, sub->options_.pending_msgs_limit,
                                              sub->options_.pending_bytes_limit);
      }
      sub->subs_.push_back(ns);
    }
    if (s != NATS_OK) return internal::ToStatus(s, "subscribe");  // ~Subscription cleans up
  }
  return sub;
}

// ---------------------------------------------------------------------------------------------
// Subscription

Subscription::Subscription(Connection& conn, SubscribeOptions options, Handler handler)
    : conn_(conn), options_(std::move(options)), handler_(std::move(handler)) {
  for (const auto& t : options_.templates) {
    std::string n = "process ";
    n += t.text();
    span_names_.push_back(std::move(n));
  }
}

Subscription::~Subscription() { Close(); }

void Subscription::Close() {
  for (auto* ns : subs_) natsSubscription_Unsubscribe(ns);
  {
    // The on-complete callback fires once the delivery thread will call the handler no more,
    // so `this` stays valid for any handler still running.
    std::unique_lock lock(mu_);
    done_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return completed_ >= subs_.size(); });
  }
  for (auto* ns : subs_) natsSubscription_Destroy(ns);
  subs_.clear();
}

core::Status Subscription::Drain(std::chrono::milliseconds timeout) {
  for (auto* ns : subs_) natsSubscription_Drain(ns);
  std::unique_lock lock(mu_);
  if (!done_cv_.wait_for(lock, timeout, [&] { return completed_ >= subs_.size(); })) {
    return core::DeadlineExceeded("subscription did not drain in time");
  }
  return core::Status::Ok();
}

void Subscription::OnComplete(void* closure) {
  auto* self = static_cast<Subscription*>(closure);
  std::lock_guard lock(self->mu_);
  ++self->completed_;
  self->done_cv_.notify_all();
}

void Subscription::OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  // noexcept boundary: nats.c threads must never see an exception. The handler's own exceptions
  // are contained by RunHandler; what arrives here came from the delivery code around it (span
  // set-up, a log write that failed, an allocation): counted and logged, never silent.
  auto* self = static_cast<Subscription*>(closure);
  std::string what;
  std::string type;
  try {
    self->Dispatch(msg);
    return;
  } catch (const std::exception& e) {
    what = e.what();
    type = typeid(e).name();
  } catch (...) {
    what = "unknown exception";
    type = "unknown";
  }
  try {
    self->conn_.metrics().dispatch_exceptions->Add(1);
    self->conn_.telemetry().logger->Error(
        "nats message delivery threw; message dropped",
        {{semconv::kMessagingDestinationTemplate,
          std::string_view(self->options_.pattern.empty() ? self->options_.templates.front().text()
                                                          : self->options_.pattern)},
         {semconv::kExceptionType, std::string_view(type)},
         {semconv::kExceptionMessage, std::string_view(what)}});
  } catch (...) {
    // The logger itself is what failed (the counter above is already incremented when it can
    // be); there is nowhere left to report to.
  }
}

void Subscription::Dispatch(natsMsg* raw) {
  delivered_.fetch_add(1, std::memory_order_relaxed);
  const char* raw_subject = natsMsg_GetSubject(raw);
  const core::SubjectTemplate* tmpl = core::MatchTemplate(
      options_.templates, raw_subject == nullptr ? std::string_view() : raw_subject);
  Message typed(raw, tmpl);  // owns (and destroys) the message from here on
  const auto& tel = conn_.telemetry();
  auto& metrics = conn_.metrics();
  size_t size = typed.payload().size();
  if (size > conn_.options().max_inbound_payload_bytes) {
    metrics.rejected_oversized->Add(1);
    tel.logger->Warn("inbound message rejected: payload too large",
                     {{"bytes", static_cast<int64_t>(size)},
                      {"limit", static_cast<int64_t>(conn_.options().max_inbound_payload_bytes)}});
    return;
  }
  if (tmpl == nullptr) {
    metrics.rejected_no_template->Add(1);
    tel.logger->Warn("inbound message rejected: subject matches no template",
                     {{"subscription", std::string_view(options_.pattern.empty()
                                                            ? options_.templates.front().text()
                                                            : options_.pattern)}});
    return;
  }
  SpanContext parent;
  if (options_.traced) {
    parent = conn_.ExtractContext(typed.native());
  } else {
    // A valid, unsampled parent: the parent-based sampler drops this span and its children.
    parent.trace_id = telemetry::NewTraceId();
    parent.span_id = telemetry::NewSpanId();
    parent.trace_flags = 0;
    parent.is_remote = true;
  }
  auto index = static_cast<size_t>(tmpl - options_.templates.data());
  bool server = options_.kind == ProcessKind::kServer;
  telemetry::SpanStartOptions start;
  start.kind = server ? SpanKind::kServer : SpanKind::kConsumer;
  if (options_.link_inbound && options_.traced) {
    if (parent.IsValid()) start.links.push_back({parent, {{semconv::kChatLinkReason, "recipient"}}});
  } else {
    start.parent = parent;
  }
  Span span = tel.tracer.StartSpan(span_names_[index], std::move(start));
  conn_.SetMessagingAttributes(span, "process", "process", typed.subject(), *tmpl, size, false);
  if (span.IsRecording() && !options_.queue_group.empty()) {
    span.SetAttribute(telemetry::semconv::kMessagingConsumerGroupName, options_.queue_group);
  }
  MessageContext ctx(conn_, typed, span);
  (void)internal::RunHandler(conn_, typed, ctx, span, handler_);
}

}  // namespace chat::natsx

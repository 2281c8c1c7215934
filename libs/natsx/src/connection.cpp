// Connection lifecycle: options and TLS set-up, Connect (with the nkey handshake retry), the
// libnats connection callbacks (connected, disconnected, reconnected, closed, async errors),
// Flush, Drain and the bounded close in the destructor. Sends, subscriptions, credentials and
// reconnect listeners live in their own files.
#include "chat/natsx/connection.hpp"

#include <nats/nats.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"

namespace chat::natsx {

namespace semconv = telemetry::semconv;

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
      return core::InvalidArgument("NATS TLS CA file \"" + t.ca_file +
                                   "\" is missing or unreadable");
    }
    if (natsOptions_LoadCATrustedCertificates(opts, t.ca_file.c_str()) != NATS_OK) {
      return core::InvalidArgument("NATS TLS CA file \"" + t.ca_file +
                                   "\" holds no PEM certificate");
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
    s = natsOptions_SetRetryOnFailedConnect(opts.get(), true, &Connection::OnConnected, conn.get());
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

  if (core::Status st = internal::ConfigureCredentials(opts.get(), *conn); !st.ok()) return st;

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
  self->telemetry_.logger->Info(
      "nats connected", {{semconv::kMessagingClientId, std::string_view(self->options_.name)}});
}

void Connection::OnDisconnected(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  self->metrics_->connected->Set(0);
  if (self->closing_.load()) return;  // our own Close/Drain, not a fault
  self->telemetry_.logger->Warn(
      "nats disconnected", {{semconv::kMessagingClientId, std::string_view(self->options_.name)}});
}

void Connection::OnReconnected(natsConnection*, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  self->RefreshServerAddress();
  self->metrics_->connected->Set(1);
  self->metrics_->reconnects->Add(1);
  self->telemetry_.logger->Warn(
      "nats reconnected", {{semconv::kMessagingClientId, std::string_view(self->options_.name)}});
  if (self->closing_.load()) return;
  // Listeners may block (KV requests): hand them to the worker instead of running them on this
  // libnats thread. A pending flag, not a queue: reconnects during a run coalesce into one more.
  std::lock_guard lock(self->listeners_mu_);
  self->reconnect_pending_ = true;
  self->listeners_cv_.notify_all();
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

}  // namespace chat::natsx

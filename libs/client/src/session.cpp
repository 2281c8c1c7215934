// Session lifetime: construction and destruction, the presence connection every session keeps
// (heartbeats on a thread, presence.disconnect on Close), Flush/Close and the connection
// diagnostics (last error, permission errors). Login, actions, requests and watches have their
// own files.
#include "chat/client/session.hpp"

#include <nats/nats.h>

#include <memory>
#include <mutex>
#include <string>

#include "chat/contracts/presence.hpp"
#include "chat/contracts/subjects.hpp"
#include "internal.hpp"

namespace chat::client {

namespace subjects = contracts::subjects;

telemetry::SpanContext internal::Untraced() {
  telemetry::SpanContext c;
  c.trace_id = telemetry::NewTraceId();
  c.span_id = telemetry::NewSpanId();
  c.trace_flags = 0;
  return c;
}

Session::Session(LoginOptions options, const telemetry::Telemetry& telemetry,
                 const core::Clock& clock)
    : options_(std::move(options)), telemetry_(telemetry), clock_(clock) {
  message_clock_ =
      options_.message_clock ? options_.message_clock : std::make_shared<MessageClock>(clock_);
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
                        internal::Untraced());
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

}  // namespace chat::client

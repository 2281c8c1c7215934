// natsx internals shared by connection.cpp, jetstream.cpp and kv.cpp (not installed).
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <string>
#include <string_view>

#include "chat/core/status.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/trace_context.hpp"

namespace chat::natsx {

// Every metric natsx writes; cells are bound once at Connect (zero-initialised, §6.1).
struct Connection::Metrics {
  telemetry::GaugeCell* connected = nullptr;
  telemetry::CounterCell* reconnects = nullptr;
  telemetry::CounterCell* errors_slow_consumer = nullptr;
  telemetry::CounterCell* errors_permission = nullptr;
  telemetry::CounterCell* errors_other = nullptr;
  telemetry::CounterCell* invalid_context[4] = {};  // by InvalidContextReason
  telemetry::CounterCell* traceparent_fallback = nullptr;
  telemetry::CounterCell* rejected_oversized = nullptr;
  telemetry::CounterCell* rejected_no_template = nullptr;
  telemetry::CounterCell* handler_exceptions = nullptr;
  // Exceptions thrown by natsx's own delivery code around the handler (span set-up, logging):
  // the message is dropped, the subscription lives on.
  telemetry::CounterCell* dispatch_exceptions = nullptr;
  telemetry::CounterCell* js_async_publish_failed = nullptr;

  static std::unique_ptr<Metrics> Create(telemetry::MetricRegistry& registry);
};

namespace internal {

// The libnats status text plus the thread's last error detail (no payloads in either).
std::string NatsErrorText(natsStatus s);

// The trace context a message's headers carry (§3.1/§3.2): traceparent in any spelling (the exact
// lowercase one wins), else the Xraceparent fallback, with tracestate. Nothing counted or logged
// here (Connection::ExtractContext does that); the fuzz target fuzz/fuzz_nats_headers calls it.
struct InboundTraceHeaders {
  telemetry::ParsedContext parsed;  // neither field set: no trace header at all
  bool fallback = false;            // taken from Xraceparent
};
InboundTraceHeaders ReadTraceHeaders(natsMsg* msg);

// Maps a libnats status to our error vocabulary (style.md rule 4).
core::Status ToStatus(natsStatus s, std::string_view what);

// Runs `handler` with exception containment, then records a non-OK status on the span.
// Returns the handler's status (internal when it threw).
core::Status RunHandler(Connection& conn, const Message& msg, MessageContext& ctx,
                        telemetry::Span& span, const Handler& handler);

// "<operation> <template>" built on the stack (no allocation per message for typical sizes).
class SpanName {
 public:
  SpanName(std::string_view operation, const core::SubjectTemplate& tmpl) {
    size_t n = operation.size() + tmpl.text().size();
    if (n <= sizeof(buf_)) {
      operation.copy(buf_, operation.size());
      tmpl.text().copy(buf_ + operation.size(), tmpl.text().size());
      view_ = std::string_view(buf_, n);
    } else {
      heap_.assign(operation);
      heap_.append(tmpl.text());
      view_ = heap_;
    }
  }
  SpanName(const SpanName&) = delete;
  SpanName& operator=(const SpanName&) = delete;
  std::string_view view() const { return view_; }

 private:
  char buf_[128];
  std::string heap_;
  std::string_view view_;
};

// JetStream acknowledgements are plain publishes to the message's $JS.ACK reply subject:
// natsMsg_Ack & co. dereference libnats' JetStream subscription state, which natsx's own pull
// subscriptions (jetstream.cpp) do not have. ILLEGAL_STATE when the message has no reply.
enum class JsAck { kAck, kNak, kTerm };
natsStatus PublishJsAck(natsConnection* nc, natsMsg* msg, JsAck kind,
                        std::chrono::milliseconds nak_delay = std::chrono::milliseconds(0));

// Owns a natsMsg until released.
struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};

}  // namespace internal
}  // namespace chat::natsx

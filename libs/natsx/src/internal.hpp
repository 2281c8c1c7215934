// natsx internals shared by the files of libs/natsx/src (not installed): the metrics struct, the
// status mapping, the propagation carrier's reader, handler containment, credentials set-up and
// JetStream acks. Each declaration names the file that defines it.
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

// metrics.cpp: every metric natsx writes; cells are bound once at Connect (zero-initialised, §6.1).
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

// status.cpp: the libnats status text plus the thread's last error detail (no payloads in either).
std::string NatsErrorText(natsStatus s);

// propagation.cpp: the trace context a message's headers carry (§3.1/§3.2): traceparent in any
// spelling (the exact lowercase one wins), else the Xraceparent fallback, with tracestate. Nothing
// counted or logged here (Connection::ExtractContext does that); the fuzz target
// fuzz/fuzz_nats_headers calls it.
struct InboundTraceHeaders {
  telemetry::ParsedContext parsed;  // neither field set: no trace header at all
  bool fallback = false;            // taken from Xraceparent
};
InboundTraceHeaders ReadTraceHeaders(natsMsg* msg);

// status.cpp: maps a libnats status to our error vocabulary (style.md rule 4).
core::Status ToStatus(natsStatus s, std::string_view what);

// run_handler.cpp: runs `handler` with exception containment, then records a non-OK status on the
// span. Returns the handler's status (internal when it threw).
core::Status RunHandler(Connection& conn, const Message& msg, MessageContext& ctx,
                        telemetry::Span& span, const Handler& handler);

// message.cpp: JetStream acknowledgements are plain publishes to the message's $JS.ACK reply
// subject: natsMsg_Ack & co. dereference libnats' JetStream subscription state, which natsx's own
// pull subscriptions (jetstream.cpp) do not have. ILLEGAL_STATE when the message has no reply.
enum class JsAck { kAck, kNak, kTerm };
natsStatus PublishJsAck(natsConnection* nc, natsMsg* msg, JsAck kind,
                        std::chrono::milliseconds nak_delay = std::chrono::milliseconds(0));

// credentials.cpp: hands `conn`'s credentials to libnats' options. JWT-and-seed logins read the
// Connection's options from libnats callbacks, so `conn` must outlive `opts`' connection.
// Errors: unauthenticated (unusable .creds file), invalid_argument (JWT or seed missing), or
// the mapped libnats status.
core::Status ConfigureCredentials(natsOptions* opts, Connection& conn);

// Owns a natsMsg until released.
struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};

}  // namespace internal
}  // namespace chat::natsx

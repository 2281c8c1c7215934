// Connection metrics: every series natsx writes (docs/observability.md §6.2), created once when a
// Connection is made so the hot paths only bump pre-bound cells.
#include <memory>

#include "internal.hpp"

namespace chat::natsx {

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
  auto fallback =
      registry.AddCounter("natsx_traceparent_fallback_total",
                          "Inbound messages whose context was read from the Xraceparent header");
  m->traceparent_fallback = &fallback.Default();
  auto rejected =
      registry.AddCounter("natsx_messages_rejected_total",
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

}  // namespace chat::natsx

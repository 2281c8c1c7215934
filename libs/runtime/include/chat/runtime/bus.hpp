// runtime::Bus: the NATS connection as a service sees it (docs/style.md §2: services never
// include natsx). ServiceContext::bus() hands out the natsx-backed implementation over the
// connection ServiceMain opened (runtime::NatsBus, nats_bus.hpp), so publishes still make the
// PRODUCER span "publish {template}" and inject its trace context (observability §3.3, §4.1).
// Request/reply and event routes go through runtime::Dispatcher (constructed from the Bus),
// JetStream and KV through OpenJetStream. Abstract so a service's unit tests can substitute a
// recording fake for the publish side.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/core/subject.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::runtime {

// The values of a subject template's placeholders, in order ({room, user}).
using SubjectArgs = std::initializer_list<std::string_view>;

class Bus {
 public:
  virtual ~Bus() = default;

  // PRODUCER span "publish {template}" (child of `parent`, or a root when it is invalid), whose
  // context travels in the message headers. Errors: invalid_argument (bad args), unavailable
  // (not connected / write failed).
  virtual core::Status Publish(const core::SubjectTemplate& tmpl, SubjectArgs args,
                               std::string_view payload, const telemetry::SpanContext& parent) = 0;
  // Waits until the server has processed everything published so far.
  virtual core::Status Flush(std::chrono::milliseconds timeout) = 0;
  virtual bool IsConnected() const = 0;

  // Reconnect listeners (system.md §3.8/§6.5): run on one worker thread after every reconnect
  // (not the first connect), so they may block and make requests; reconnects during a run are
  // coalesced into one more run. Returns an id for RemoveReconnectListener (never 0); when
  // RemoveReconnectListener returns, the listener is not running and will not run again
  // (unless called from inside that listener).
  virtual uint64_t AddReconnectListener(std::function<void()> listener) = 0;
  virtual void RemoveReconnectListener(uint64_t id) = 0;

  // A JetStream context over this connection; the Bus must outlive it.
  virtual core::Result<std::unique_ptr<JetStream>> OpenJetStream(JetStreamOptions options) = 0;

  // The process telemetry the connection reports to.
  virtual const telemetry::Telemetry& telemetry() const = 0;
};

}  // namespace chat::runtime

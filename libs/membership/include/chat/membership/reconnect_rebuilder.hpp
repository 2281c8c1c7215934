// ReconnectRebuilder: rebuilds a service's in-memory views after every NATS reconnect
// (system.md §3.8, §6.5-§6.7). Messages published while the client was disconnected
// (room.changed deltas, KV watch updates) never reach it, so each reconnect runs `rebuild` once
// on natsx's reconnect worker, under an INTERNAL root span, retrying briefly while JetStream
// comes back. Owners call Stop() before tearing down what `rebuild` touches.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "chat/core/status.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::membership {

// Where reconnects come from: a listener registry such as natsx::Connection or runtime::Bus
// (add returns a non-zero id; when remove returns, the listener is not running and never runs
// again).
struct ReconnectHooks {
  std::function<uint64_t(std::function<void()>)> add;
  std::function<void(uint64_t)> remove;

  // The hooks of anything with AddReconnectListener / RemoveReconnectListener; `source` must
  // outlive the rebuilder.
  template <typename Source>
  static ReconnectHooks Of(Source& source) {
    return {[&source](std::function<void()> listener) {
              return source.AddReconnectListener(std::move(listener));
            },
            [&source](uint64_t id) { source.RemoveReconnectListener(id); }};
  }
};

class ReconnectRebuilder {
 public:
  // Gets the run's span (to annotate) and returns OK when the views are rebuilt.
  using Rebuild = std::function<core::Status(telemetry::Span& span)>;
  struct Options {
    std::string span_name = "hydrate_membership";
    int attempts = 5;
    std::chrono::milliseconds retry_interval{500};
  };

  // Registers with `conn` at once. `conn` and `telemetry` must outlive this object.
  ReconnectRebuilder(natsx::Connection& conn, const telemetry::Telemetry& telemetry,
                     Options options, Rebuild rebuild);
  // Registers through `hooks` at once; their source and `telemetry` must outlive this object.
  ReconnectRebuilder(ReconnectHooks hooks, const telemetry::Telemetry& telemetry, Options options,
                     Rebuild rebuild);
  ~ReconnectRebuilder();  // Stop()
  ReconnectRebuilder(const ReconnectRebuilder&) = delete;
  ReconnectRebuilder& operator=(const ReconnectRebuilder&) = delete;

  // Idempotent. When it returns, `rebuild` is not running and never runs again; a run waiting
  // between retries is woken and gives up.
  void Stop();

  uint64_t runs() const;      // reconnect runs started
  uint64_t failures() const;  // runs that gave up after every attempt

 private:
  void Run();

  ReconnectHooks hooks_;
  const telemetry::Telemetry& telemetry_;
  Options options_;
  Rebuild rebuild_;
  uint64_t listener_id_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  uint64_t runs_ = 0;
  uint64_t failures_ = 0;
};

}  // namespace chat::membership

#include "chat/membership/reconnect_rebuilder.hpp"

#include <utility>

#include "chat/telemetry/semconv.hpp"

namespace chat::membership {

ReconnectRebuilder::ReconnectRebuilder(natsx::Connection& conn,
                                       const telemetry::Telemetry& telemetry, Options options,
                                       Rebuild rebuild)
    : ReconnectRebuilder(ReconnectHooks::Of(conn), telemetry, std::move(options),
                         std::move(rebuild)) {}

ReconnectRebuilder::ReconnectRebuilder(ReconnectHooks hooks, const telemetry::Telemetry& telemetry,
                                       Options options, Rebuild rebuild)
    : hooks_(std::move(hooks)),
      telemetry_(telemetry),
      options_(std::move(options)),
      rebuild_(std::move(rebuild)) {
  listener_id_ = hooks_.add([this] { Run(); });
}

ReconnectRebuilder::~ReconnectRebuilder() { Stop(); }

void ReconnectRebuilder::Stop() {
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    id = std::exchange(listener_id_, 0);
  }
  cv_.notify_all();
  // Waits for a run in progress (natsx guarantees it), so the owner may tear down afterwards.
  if (id != 0) hooks_.remove(id);
}

uint64_t ReconnectRebuilder::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

uint64_t ReconnectRebuilder::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void ReconnectRebuilder::Run() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    ++runs_;
  }
  // A background job reacting to the connection, not to any message: a new root (§3.4).
  telemetry::Span span = telemetry_.tracer.StartSpan(
      options_.span_name, telemetry::SpanKind::kInternal, telemetry::SpanContext{});
  span.SetAttribute("chat.trigger", "nats_reconnect");
  core::Status last;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    last = rebuild_(span);
    if (last.ok()) return;
    span.AddEvent("retry", {{"attempt", static_cast<int64_t>(attempt)},
                            {telemetry::semconv::kErrorType, core::ErrorCodeName(last.code())}});
    if (attempt == options_.attempts) break;
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, options_.retry_interval, [&] { return stopped_; })) {
      return;  // shutting down: not a failure worth an ERROR
    }
  }
  {
    std::lock_guard lock(mu_);
    ++failures_;
  }
  span.RecordError(core::ErrorCodeName(last.code()), last.message());
  telemetry_.logger->Error(span.Context(), "Rebuilding views after NATS reconnect failed",
                           {{telemetry::semconv::kErrorType, core::ErrorCodeName(last.code())},
                            {"attempts", static_cast<int64_t>(options_.attempts)}});
}

}  // namespace chat::membership

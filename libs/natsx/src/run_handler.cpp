// Handler containment: runs a user handler for a delivered message (core subscription or
// JetStream pull) so that nothing it throws reaches a libnats thread, and records a failed or
// throwing handler on its process span, in the metrics and in one ERROR log line.
#include <exception>
#include <typeinfo>

#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"

namespace chat::natsx::internal {

namespace semconv = telemetry::semconv;
using telemetry::Span;

core::Status RunHandler(Connection& conn, const Message& msg, MessageContext& ctx, Span& span,
                        const Handler& handler) {
  core::Status status;
  const auto& tel = conn.telemetry();
  try {
    status = handler(msg, ctx);
  } catch (const std::exception& e) {
    conn.metrics().handler_exceptions->Add(1);
    span.RecordError(core::ErrorCodeName(core::ErrorCode::kInternal), e.what(), typeid(e).name(),
                     "handler threw");
    // The exception text may carry user data only if a handler put it there; keep it off the log
    // line and on the span only (which has the attribute length limit).
    tel.logger->Error(
        span.Context(), "message handler threw an exception",
        {{semconv::kMessagingDestinationTemplate,
          msg.subject_template() != nullptr ? msg.subject_template()->text() : std::string_view()},
         {semconv::kExceptionType, typeid(e).name()}});
    return core::Internal("handler threw an exception");
  } catch (...) {
    conn.metrics().handler_exceptions->Add(1);
    span.RecordError(core::ErrorCodeName(core::ErrorCode::kInternal), "unknown exception",
                     "unknown", "handler threw");
    tel.logger->Error(span.Context(), "message handler threw an exception",
                      {{semconv::kMessagingDestinationTemplate, msg.subject_template() != nullptr
                                                                    ? msg.subject_template()->text()
                                                                    : std::string_view()}});
    return core::Internal("handler threw an exception");
  }
  if (!status.ok()) {
    span.RecordError(core::ErrorCodeName(status.code()), status.message(), {}, "handler failed");
  }
  return status;
}

}  // namespace chat::natsx::internal

// Messaging span attributes: attribute set M of docs/observability.md §4.1/§4.2 (system,
// operation, destination and its template, body size, client id, server address), written the
// same way on every send and process span natsx starts.
#include <mutex>

#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"

namespace chat::natsx {

namespace semconv = telemetry::semconv;
using telemetry::Span;

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

}  // namespace chat::natsx

// runtime::CallHttp: the service-facing face of the SDK's traced libcurl client.
#include "chat/runtime/http_client.hpp"

#include <utility>

#include "chat/telemetry/sdk/http_client.hpp"

namespace chat::runtime {

core::Result<HttpCallResult> CallHttp(const HttpCall& call, const telemetry::Telemetry& telemetry,
                                      const telemetry::SpanContext& parent) {
  telemetry::sdk::HttpRequest request;
  request.method = call.method;
  request.url = call.url;
  request.body = call.body;
  request.content_type = call.content_type;
  request.headers = call.headers;
  request.peer_service = call.peer_service;
  request.send_traceparent = call.send_traceparent;
  request.timeout = call.timeout;
  request.failure_description = call.failure_description;
  request.status_message_prefix = call.status_message_prefix;
  request.on_body_data = call.on_body_data;
  request.max_body_bytes = call.max_body_bytes;
  CHAT_ASSIGN_OR_RETURN(telemetry::sdk::HttpResponse response,
                        telemetry::sdk::PerformHttp(request, telemetry, parent));
  return HttpCallResult{response.status, std::move(response.body)};
}

}  // namespace chat::runtime

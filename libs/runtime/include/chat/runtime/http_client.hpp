// Traced outgoing HTTP calls for services (auth-service's OIDC discovery and JWKS fetches): one
// CLIENT span `{METHOD} {url.template}` per call with attribute set H (observability.md §4.5),
// optionally sending a traceparent. Runtime's own request and response types over the SDK's
// libcurl client, so a service includes no SDK header (issue 12 item 4).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::runtime {

struct HttpCall {
  std::string method = "GET";  // "GET" or "POST" (body sent as is)
  std::string url;             // http(s) only
  std::string body;
  std::string content_type;
  std::vector<std::string> headers;  // "Name: value"; Accept: application/json is always sent
  std::string peer_service;          // peer.service attribute when not empty
  bool send_traceparent = false;
  std::chrono::milliseconds timeout{5000};  // connect and total
  // Span status description on failure, and a prefix of the exception message for an HTTP
  // status >= 400 ("{prefix}HTTP 503"), so each caller names its peer the way its docs say.
  std::string failure_description = "HTTP request failed";
  std::string status_message_prefix;
  // Streaming: when set, each piece of the response body is handed to it as it arrives instead
  // of being collected into the response's body (which then stays empty; the body of an HTTP
  // status >= 400 is still collected); returning false aborts the transfer (a transport
  // failure). `max_body_bytes` bounds the body either way.
  std::function<bool(std::string_view)> on_body_data;
  std::size_t max_body_bytes = std::size_t{1} << 20;
};

struct HttpCallResult {
  long status = 0;
  std::string body;  // at most max_body_bytes (1 MiB); a larger body fails the transfer
};

// invalid_argument when the URL is not http(s) (no span); unavailable with libcurl's message on
// transport failure (the span records error.type timeout / connection_error / transport_error).
// Any HTTP status is returned as a result; status >= 400 marks the span ERROR with error.type =
// the status code. Redirects are not followed. The span is a child of `parent` (a new root when
// it is invalid).
core::Result<HttpCallResult> CallHttp(const HttpCall& call, const telemetry::Telemetry& telemetry,
                                      const telemetry::SpanContext& parent);

}  // namespace chat::runtime

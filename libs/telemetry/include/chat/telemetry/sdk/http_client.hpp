// Traced outgoing HTTP calls on libcurl, shared by auth-service (OIDC discovery, JWKS) and the
// chat client (IdP login, credentials): each call is one CLIENT span `{METHOD} {url.template}`
// with attribute set H (observability.md §4.5), optionally sending a traceparent. One place, so
// the span shape, error classification and URL templating cannot drift between callers.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::telemetry::sdk {

// Parts of a URL that the H attribute set needs.
struct UrlParts {
  std::string scheme;
  std::string host;  // without IPv6 brackets
  int port = 0;      // explicit, else 443 for https, 80 for http, 0 for other schemes
  std::string path;  // without query or fragment, "/" when empty
  std::string full;  // scheme://host[:port]path — no query, no credentials
  std::string tmpl;  // path with the realm segment replaced: /realms/{realm}/…
};
// Any scheme (callers also use it for nats:// URLs); nullopt when there is no "://", no host or
// a malformed port.
std::optional<UrlParts> ParseUrl(std::string_view url);

struct HttpRequest {
  std::string method = "GET";  // "GET" or "POST" (body sent as is)
  std::string url;
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

struct HttpResponse {
  long status = 0;
  std::string body;  // at most max_body_bytes (1 MiB); a larger body fails the transfer
};

// invalid_argument when the URL is not http(s) (no span); unavailable with libcurl's message on
// transport failure (the span records error.type timeout / connection_error / transport_error).
// Any HTTP status is returned as a response; status >= 400 marks the span ERROR with error.type =
// the status code. Redirects are not followed.
core::Result<HttpResponse> PerformHttp(const HttpRequest& request, const Telemetry& telemetry,
                                       const SpanContext& parent);

// curl_global_init is not thread-safe: everything in this library that uses libcurl calls this
// first, so it runs once per process.
void CurlGlobalInitOnce();

}  // namespace chat::telemetry::sdk

// Traced HTTP calls of the client (libcurl): each is a CLIENT span `{METHOD} {url.template}` with
// attribute set H (observability.md §4.5). traceparent is sent only when asked (the browser does
// not send it cross-origin to the IdP, so neither does this client).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::client::internal {

struct UrlParts {
  std::string scheme;
  std::string host;
  int port = 0;
  std::string path;  // no query or fragment
  std::string full;  // scheme://host[:port]path, no credentials or query
  std::string tmpl;  // path with the realm segment replaced: /realms/{realm}/…
};
std::optional<UrlParts> ParseUrl(std::string_view url);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::string content_type;
  std::vector<std::string> headers;  // "Name: value"
  std::string peer_service;          // peer.service attribute
  bool send_traceparent = false;
  std::chrono::milliseconds timeout{5000};
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

// unavailable on transport failure (the span records error.type); any HTTP status is returned
// as a response (status >= 400 marks the span ERROR with error.type = the status code).
core::Result<HttpResponse> Perform(const HttpRequest& request,
                                   const telemetry::Telemetry& telemetry,
                                   const telemetry::SpanContext& parent);

// application/x-www-form-urlencoded value encoding.
std::string FormEncode(std::string_view value);

}  // namespace chat::client::internal

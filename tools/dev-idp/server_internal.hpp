// Definitions the IdpServer endpoint files share (private to dev-idp): the metric handles, the
// per-request scope and the protocol constants used by more than one endpoint.
#pragma once

#include <httplib.h>

#include <string_view>

#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "server.hpp"

namespace chat::devidp {

inline constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";
inline constexpr std::string_view kScope = "openid profile email";

struct IdpServer::Metrics {
  telemetry::Counter requests;
  telemetry::Histogram duration;
  telemetry::Counter tokens_issued;
  telemetry::Counter login_failures;
  telemetry::Counter context_invalid;
};

struct IdpServer::RequestScope {
  const httplib::Request& req;
  httplib::Response& res;
  const telemetry::SpanContext& ctx;
};

}  // namespace chat::devidp

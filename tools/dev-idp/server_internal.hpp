// Definitions the IdpServer endpoint files share (private to dev-idp): the metric handles, the
// per-request scope and the protocol constants used by more than one endpoint.
#pragma once

#include <httplib.h>

#include <optional>
#include <string_view>

#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/sdk/http_router.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "http_util.hpp"
#include "server.hpp"

namespace chat::devidp {

inline constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";
inline constexpr std::string_view kScope = "openid profile email";

// Business counters; idp_requests_total, idp_request_duration_seconds and
// trace_context_invalid_total belong to the router (HttpRouter::ServerOptions::red).
struct IdpServer::Metrics {
  telemetry::Counter tokens_issued;
  telemetry::Counter login_failures;
  telemetry::Counter admin_tokens_issued;  // master realm, client admin-cli
  telemetry::Counter admin_requests;       // admin API calls by result
};

inline constexpr std::string_view kMasterRealm = "master";
inline constexpr std::string_view kAdminCliClient = "admin-cli";

// An endpoint's view of the request: `ex` writes the outcome's log line (so the router adds none).
struct IdpServer::RequestScope {
  const httplib::Request& req;
  httplib::Response& res;
  const telemetry::SpanContext& ctx;
  telemetry::sdk::HttpExchange& ex;
};

// The start both token endpoints share (the realm's and the master realm's): a form body that
// names a grant_type. On anything else it writes the OAuth error and returns nothing.
std::optional<Params> ReadTokenForm(const httplib::Request& req, httplib::Response& res);

}  // namespace chat::devidp

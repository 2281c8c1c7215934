// AuthMetrics: every instrument auth-service exposes (docs/observability.md §6.3), created once
// with all enumerated series at zero so increase() and alerts see the first failure.
#pragma once

#include <initializer_list>
#include <string_view>

#include "chat/telemetry/metrics.hpp"

namespace chat::auth_service {

inline constexpr std::string_view kResultAuthorized = "authorized";
inline constexpr std::string_view kResultRejected = "rejected";
inline constexpr std::string_view kResultRateLimited = "rate_limited";
inline constexpr std::string_view kResultError = "error";
inline constexpr std::string_view kAuthTypeBrowser = "browser";
// Service identities come from `natskeys init` creds files locally, so this stays at zero.
inline constexpr std::string_view kAuthTypeService = "service";

inline constexpr std::string_view kTriggerScheduled = "scheduled";
inline constexpr std::string_view kTriggerUnknownKid = "unknown_kid";

struct AuthMetrics {
  telemetry::Counter requests;         // auth_requests_total{result, auth_type}
  telemetry::Histogram duration;       // auth_request_duration_seconds{auth_type}
  telemetry::Counter jwks_refresh;     // auth_jwks_refresh_total{result, trigger}
  telemetry::Gauge jwks_keys;          // auth_jwks_keys
  telemetry::Counter context_invalid;  // trace_context_invalid_total{reason}

  static AuthMetrics Create(telemetry::MetricRegistry& registry) {
    AuthMetrics m{
        registry.AddCounter("auth_requests_total",
                            "Credential requests by outcome and credential type.",
                            {"result", "auth_type"}),
        registry.AddHistogram("auth_request_duration_seconds",
                              "Time to answer a credential request.", telemetry::kBucketsSlow,
                              {"auth_type"}),
        registry.AddCounter("auth_jwks_refresh_total", "JWKS refreshes by result and trigger.",
                            {"result", "trigger"}),
        registry.AddGauge("auth_jwks_keys", "RS256 keys currently cached from the issuer JWKS."),
        registry.AddCounter("trace_context_invalid_total",
                            "Inbound traceparent headers that failed validation.", {"reason"}),
    };
    for (std::string_view type : {kAuthTypeBrowser, kAuthTypeService}) {
      for (std::string_view result :
           {kResultAuthorized, kResultRejected, kResultRateLimited, kResultError}) {
        m.requests.With({result, type});
      }
      m.duration.With({type});
    }
    for (std::string_view result : {std::string_view("ok"), std::string_view("error")}) {
      for (std::string_view trigger : {kTriggerScheduled, kTriggerUnknownKid}) {
        m.jwks_refresh.With({result, trigger});
      }
    }
    m.jwks_keys.Default().Set(0);
    for (std::string_view reason : {"malformed", "multiple", "zero_id", "bad_version"}) {
      m.context_invalid.With({reason});
    }
    return m;
  }
};

}  // namespace chat::auth_service

// Telemetry configuration from the standard OTEL_* variables (docs/observability.md §2.2) and
// the resource (§2.1). Telemetry never stops a service from starting: an invalid value falls
// back to its default and leaves one sentence in `warnings`, which TelemetrySdk logs as one WARN
// line each.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/core/env.hpp"
#include "chat/telemetry/log.hpp"
#include "chat/telemetry/sdk/batch_processor.hpp"
#include "chat/telemetry/span_data.hpp"
#include "chat/telemetry/trace.hpp"

namespace chat::telemetry::sdk {

struct TelemetryConfig {
  bool sdk_disabled = false;
  std::string service_name;
  Resource resource;  // service.*, deployment.environment.name, telemetry.sdk.*, env attributes

  std::string traces_sampler = "parentbased_traceidratio";
  double traces_sampler_arg = 1.0;
  std::vector<std::string> propagators = {"tracecontext", "baggage"};

  std::string traces_exporter = "otlp";  // otlp, console, none
  std::string logs_exporter = "otlp";
  std::string metrics_exporter = "prometheus";  // prometheus, none

  std::string otlp_endpoint = "http://localhost:4318";
  std::string traces_endpoint = "http://localhost:4318/v1/traces";  // effective URL
  std::string logs_endpoint = "http://localhost:4318/v1/logs";
  std::string otlp_protocol = "http/protobuf";  // or http/json
  std::chrono::milliseconds otlp_timeout{10000};
  std::string otlp_compression = "gzip";                          // or none
  std::vector<std::pair<std::string, std::string>> otlp_headers;  // values are credentials

  std::string prometheus_host = "127.0.0.1";  // loopback unless configured
  uint16_t prometheus_port = 0;

  BatchOptions span_batch{2048, 512, std::chrono::milliseconds(2000),
                          std::chrono::milliseconds(10000)};
  BatchOptions log_batch{2048, 512, std::chrono::milliseconds(1000),
                         std::chrono::milliseconds(10000)};
  SpanLimits span_limits;

  std::string semconv_stability_opt_in = "database/dup";
  LogLevel otel_log_level = LogLevel::kWarn;
  LogLevel log_level = LogLevel::kInfo;
  std::chrono::seconds trace_link_age{30};

  // One sentence per invalid variable ("OTEL_BSP_MAX_QUEUE_SIZE \"x\" is not an integer").
  std::vector<std::string> warnings;

  // Never fails. `default_service_name` is the §2.1 name; `default_metrics_port` its port.
  static TelemetryConfig FromEnv(const core::Env& env, std::string_view default_service_name,
                                 uint16_t default_metrics_port = 0);
};

// "a=b,c=d" with percent-encoded values (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS).
// Malformed members are skipped and described in `problems`.
std::vector<std::pair<std::string, std::string>> ParseKeyValueList(
    std::string_view list, std::string_view variable, std::vector<std::string>& problems);

// Random UUIDv4 (service.instance.id).
std::string NewUuidV4();

}  // namespace chat::telemetry::sdk

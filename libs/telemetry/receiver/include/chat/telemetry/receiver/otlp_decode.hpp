// OTLP decoders (protobuf and JSON) into an owned model, for the telemetry sink, the OTLP tests
// and the OTLP fuzz targets only: library chat::otlp_receiver, which no service links. The wire
// format and the JSON variants accepted are described in chat/telemetry/sdk/otlp.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/telemetry/log.hpp"
#include "chat/telemetry/span_data.hpp"

namespace chat::telemetry::sdk {

struct DecodedAttribute {
  std::string key;
  AttributeValue value;  // arrays, kvlists and bytes are rendered as JSON text strings
};

struct DecodedResource {
  std::vector<DecodedAttribute> attributes;
  std::string service_name;  // from service.name, "unknown_service" when absent
};

struct DecodedEvent {
  std::string name;
  int64_t time_unix_nano = 0;
  std::vector<DecodedAttribute> attributes;
};

struct DecodedLink {
  TraceId trace_id;
  SpanId span_id;
  std::string trace_state;
  std::vector<DecodedAttribute> attributes;
};

struct DecodedSpan {
  std::shared_ptr<const DecodedResource> resource;
  std::string scope_name;
  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;  // zero for roots
  std::string trace_state;
  uint32_t flags = 0;
  std::string name;
  int kind = 0;  // OTLP SpanKind number (0 unspecified … 5 consumer)
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  std::vector<DecodedAttribute> attributes;
  std::vector<DecodedEvent> events;
  std::vector<DecodedLink> links;
  int status_code = 0;  // OTLP StatusCode number
  std::string status_message;
  uint32_t dropped_attributes = 0;
  uint32_t dropped_events = 0;
  uint32_t dropped_links = 0;
};

struct DecodedLogRecord {
  std::shared_ptr<const DecodedResource> resource;
  std::string scope_name;
  int64_t time_unix_nano = 0;
  int64_t observed_time_unix_nano = 0;
  int severity_number = 0;
  std::string severity_text;
  std::string body;  // string bodies as is; other AnyValue kinds as JSON text
  std::vector<DecodedAttribute> attributes;
  TraceId trace_id;
  SpanId span_id;
  uint32_t flags = 0;
};

// Errors are invalid_argument with a short reason ("truncated varint at byte 17").
core::Result<std::vector<DecodedSpan>> DecodeTracesProtobuf(std::string_view body);
core::Result<std::vector<DecodedSpan>> DecodeTracesJson(std::string_view body);
core::Result<std::vector<DecodedLogRecord>> DecodeLogsProtobuf(std::string_view body);
core::Result<std::vector<DecodedLogRecord>> DecodeLogsJson(std::string_view body);

// Metrics are only validated and counted (services are scraped; the sink accepts OTLP metrics
// for completeness): returns the number of data points in an ExportMetricsServiceRequest.
core::Result<uint64_t> CountMetricPointsProtobuf(std::string_view body);
core::Result<uint64_t> CountMetricPointsJson(std::string_view body);

}  // namespace chat::telemetry::sdk

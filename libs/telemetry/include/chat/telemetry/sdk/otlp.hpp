// OTLP wire formats, written and read by our own code from the public field numbers
// (opentelemetry-proto: collector/trace/v1, collector/logs/v1, trace/v1, logs/v1, common/v1,
// resource/v1). Encoders write straight from SpanData/LogRecordData, with no intermediate objects.
// Decoders produce an owned model used by the telemetry sink and by golden tests.
//
// JSON follows the OTLP/JSON mapping: lowerCamelCase keys, traceId/spanId as lowercase hex,
// enums as integers, 64-bit integers as decimal strings. Decoders also accept the proto3 JSON
// variants senders use in practice (enum names, numbers for 64-bit values, snake_case keys).
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

// ---------- encoding (exporters) ----------

// ExportTraceServiceRequest with one ResourceSpans and one ScopeSpans.
void EncodeTracesProtobuf(const Resource& resource, const InstrumentationScope& scope,
                          const std::vector<std::unique_ptr<SpanData>>& spans, std::string& out);
void EncodeTracesJson(const Resource& resource, const InstrumentationScope& scope,
                      const std::vector<std::unique_ptr<SpanData>>& spans, std::string& out);
// ExportLogsServiceRequest with one ResourceLogs and one ScopeLogs.
void EncodeLogsProtobuf(const Resource& resource, const InstrumentationScope& scope,
                        const std::vector<std::unique_ptr<LogRecordData>>& records,
                        std::string& out);
void EncodeLogsJson(const Resource& resource, const InstrumentationScope& scope,
                    const std::vector<std::unique_ptr<LogRecordData>>& records, std::string& out);

// gzip (RFC 1952) helpers for Content-Encoding: gzip. Gunzip enforces `max_output` (bytes) and
// fails with resource_exhausted beyond it (a zip bomb must not exhaust memory).
core::Result<std::string> Gzip(std::string_view data);
core::Result<std::string> Gunzip(std::string_view data, size_t max_output);

// ---------- decoding (telemetry sink, tests) ----------

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

// OTLP wire formats, written and read by our own code from the public field numbers
// (opentelemetry-proto: collector/trace/v1, collector/logs/v1, trace/v1, logs/v1, common/v1,
// resource/v1). Encoders write straight from SpanData/LogRecordData, with no intermediate objects.
// The decoders live apart, in chat::otlp_receiver (chat/telemetry/receiver/otlp_decode.hpp), so
// no service links a parser for untrusted OTLP input.
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

}  // namespace chat::telemetry::sdk

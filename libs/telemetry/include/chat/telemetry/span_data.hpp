// The record of one finished span, as processors and exporters see it.
// Plain data: the OTLP encoders write it straight to the wire without intermediate objects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/telemetry/attributes.hpp"
#include "chat/telemetry/trace_context.hpp"

namespace chat::telemetry {

// Numbering is OTLP's (Span.SpanKind, Status.StatusCode) so encoders can cast.
enum class SpanKind : uint8_t {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

std::string_view SpanKindName(SpanKind k);      // "SPAN_KIND_SERVER"
std::string_view StatusCodeName(StatusCode c);  // "STATUS_CODE_ERROR"

struct SpanEvent {
  std::string_view name;  // static storage, like attribute keys
  int64_t time_unix_nano = 0;
  std::vector<Attribute> attributes;
};

struct SpanLink {
  SpanContext context;
  std::vector<Attribute> attributes;
};

struct SpanData {
  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;  // invalid (zero) for a root span
  std::string trace_state;
  uint8_t trace_flags = 0;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  std::vector<Attribute> attributes;
  std::vector<SpanEvent> events;
  std::vector<SpanLink> links;
  StatusCode status_code = StatusCode::kUnset;
  std::string status_message;
  uint32_t dropped_attributes = 0;
  uint32_t dropped_events = 0;
  uint32_t dropped_links = 0;

  // Heap buffers of string attribute values from this record's earlier use. Reset() keeps them
  // and Span::SetAttribute fills one instead of allocating, so a recycled record is filled
  // without touching malloc. That matters more than the allocation itself: records migrate
  // between threads through the processor, and a string freed on another thread than the one
  // that allocated it takes that thread's glibc arena lock. Not part of the exported span.
  std::vector<std::string> spare_strings;

  // Clears for reuse while keeping vector and string capacity (processors recycle records).
  void Reset();
};

// Instrumentation scope (OTLP InstrumentationScope): the library that made the span.
struct InstrumentationScope {
  std::string name;
  std::string version;
};

// The entity producing telemetry (OTLP Resource).
struct Resource {
  std::vector<OwnedAttribute> attributes;
  const AttributeValue* Find(std::string_view key) const;
  std::string ServiceName() const;  // "unknown_service" when absent
};

}  // namespace chat::telemetry

// OTLP protobuf encoders. Every nested length is computed exactly before the message is written
// (a size pass over the records, then one write pass into a buffer sized once), so the output is
// canonical protobuf in field-number order: byte-identical to what protoc itself serializes, which
// the golden tests check with `protoc --encode`. No intermediate message objects are built.
#include <variant>

#include "chat/telemetry/sdk/otlp.hpp"
#include "otlp_wire.hpp"

namespace chat::telemetry::sdk {
namespace {

using wire::LenFieldSize;
using wire::TagSize;
using wire::VarintSize;
using wire::Writer;

// Field numbers from opentelemetry-proto (common/v1, resource/v1, trace/v1, logs/v1 and the
// collector services). Named here once so the size and write passes cannot disagree.
namespace f {
// ExportTraceServiceRequest / ExportLogsServiceRequest
constexpr uint32_t kResourceSpans = 1;
constexpr uint32_t kResourceLogs = 1;
// ResourceSpans / ResourceLogs
constexpr uint32_t kResource = 1;
constexpr uint32_t kScopeSpans = 2;
constexpr uint32_t kScopeLogs = 2;
// ScopeSpans / ScopeLogs
constexpr uint32_t kScope = 1;
constexpr uint32_t kSpans = 2;
constexpr uint32_t kLogRecords = 2;
// Resource
constexpr uint32_t kResourceAttributes = 1;
// InstrumentationScope
constexpr uint32_t kScopeName = 1;
constexpr uint32_t kScopeVersion = 2;
// KeyValue
constexpr uint32_t kKey = 1;
constexpr uint32_t kValue = 2;
// AnyValue
constexpr uint32_t kStringValue = 1;
constexpr uint32_t kBoolValue = 2;
constexpr uint32_t kIntValue = 3;
constexpr uint32_t kDoubleValue = 4;
// Span
constexpr uint32_t kTraceId = 1;
constexpr uint32_t kSpanId = 2;
constexpr uint32_t kTraceState = 3;
constexpr uint32_t kParentSpanId = 4;
constexpr uint32_t kName = 5;
constexpr uint32_t kKind = 6;
constexpr uint32_t kStartTime = 7;
constexpr uint32_t kEndTime = 8;
constexpr uint32_t kAttributes = 9;
constexpr uint32_t kDroppedAttributes = 10;
constexpr uint32_t kEvents = 11;
constexpr uint32_t kDroppedEvents = 12;
constexpr uint32_t kLinks = 13;
constexpr uint32_t kDroppedLinks = 14;
constexpr uint32_t kStatus = 15;
constexpr uint32_t kFlags = 16;
// Span.Event
constexpr uint32_t kEventTime = 1;
constexpr uint32_t kEventName = 2;
constexpr uint32_t kEventAttributes = 3;
// Span.Link
constexpr uint32_t kLinkTraceId = 1;
constexpr uint32_t kLinkSpanId = 2;
constexpr uint32_t kLinkTraceState = 3;
constexpr uint32_t kLinkAttributes = 4;
constexpr uint32_t kLinkFlags = 6;
// Status
constexpr uint32_t kStatusMessage = 2;
constexpr uint32_t kStatusCode = 3;
// LogRecord
constexpr uint32_t kLogTime = 1;
constexpr uint32_t kLogSeverityNumber = 2;
constexpr uint32_t kLogSeverityText = 3;
constexpr uint32_t kLogBody = 5;
constexpr uint32_t kLogAttributes = 6;
constexpr uint32_t kLogFlags = 8;
constexpr uint32_t kLogTraceId = 9;
constexpr uint32_t kLogSpanId = 10;
constexpr uint32_t kLogObservedTime = 11;
}  // namespace f

// Strings must be valid UTF-8 in protobuf; the rare invalid one is written sanitized. The fast
// path (valid) costs one scan in each pass.
size_t StringFieldSize(uint32_t field, std::string_view s) {
  if (wire::IsValidUtf8(s)) return LenFieldSize(field, s.size());
  return LenFieldSize(field, wire::SanitizeUtf8(s).size());
}
void WriteStringField(Writer& w, uint32_t field, std::string_view s) {
  if (wire::IsValidUtf8(s)) {
    w.BytesField(field, s);
  } else {
    w.BytesField(field, wire::SanitizeUtf8(s));
  }
}
// proto3: empty strings are not written.
size_t OptStringFieldSize(uint32_t field, std::string_view s) {
  return s.empty() ? 0 : StringFieldSize(field, s);
}
void WriteOptStringField(Writer& w, uint32_t field, std::string_view s) {
  if (!s.empty()) WriteStringField(w, field, s);
}

size_t AnyValueSize(const AttributeValue& v) {
  switch (v.index()) {
    case 0: return 2;  // bool: tag + one byte
    case 1: return 1 + VarintSize(static_cast<uint64_t>(std::get<int64_t>(v)));
    case 2: return 9;  // double: tag + fixed64
    default: return StringFieldSize(f::kStringValue, std::get<std::string>(v));
  }
}
// A set oneof member is always written, even when it holds the default value.
void WriteAnyValue(Writer& w, const AttributeValue& v) {
  switch (v.index()) {
    case 0: w.VarintField(f::kBoolValue, std::get<bool>(v) ? 1 : 0); break;
    case 1: w.VarintField(f::kIntValue, static_cast<uint64_t>(std::get<int64_t>(v))); break;
    case 2: {
      uint64_t bits = 0;
      double d = std::get<double>(v);
      std::memcpy(&bits, &d, sizeof bits);
      w.Fixed64Field(f::kDoubleValue, bits);
      break;
    }
    default: WriteStringField(w, f::kStringValue, std::get<std::string>(v)); break;
  }
}

size_t KeyValueSize(std::string_view key, const AttributeValue& v) {
  return OptStringFieldSize(f::kKey, key) + LenFieldSize(f::kValue, AnyValueSize(v));
}
void WriteKeyValue(Writer& w, uint32_t field, std::string_view key, const AttributeValue& v) {
  size_t value_size = AnyValueSize(v);
  w.LenHeader(field, OptStringFieldSize(f::kKey, key) + LenFieldSize(f::kValue, value_size));
  WriteOptStringField(w, f::kKey, key);
  w.LenHeader(f::kValue, value_size);
  WriteAnyValue(w, v);
}

template <typename Attrs>
size_t AttributesSize(uint32_t field, const Attrs& attrs) {
  size_t n = 0;
  for (const auto& a : attrs) n += LenFieldSize(field, KeyValueSize(a.key, a.value));
  return n;
}
template <typename Attrs>
void WriteAttributes(Writer& w, uint32_t field, const Attrs& attrs) {
  for (const auto& a : attrs) WriteKeyValue(w, field, a.key, a.value);
}

size_t OptVarintFieldSize(uint32_t field, uint64_t v) {
  return v == 0 ? 0 : TagSize(field) + VarintSize(v);
}
void WriteOptVarintField(Writer& w, uint32_t field, uint64_t v) {
  if (v != 0) w.VarintField(field, v);
}
size_t OptFixed64FieldSize(uint32_t field, int64_t v) { return v == 0 ? 0 : TagSize(field) + 8; }
void WriteOptFixed64Field(Writer& w, uint32_t field, int64_t v) {
  if (v != 0) w.Fixed64Field(field, static_cast<uint64_t>(v));
}
size_t OptFixed32FieldSize(uint32_t field, uint32_t v) { return v == 0 ? 0 : TagSize(field) + 4; }
void WriteOptFixed32Field(Writer& w, uint32_t field, uint32_t v) {
  if (v != 0) w.Fixed32Field(field, v);
}

std::string_view IdBytes(const TraceId& id) {
  return {reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()};
}
std::string_view IdBytes(const SpanId& id) {
  return {reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()};
}

size_t EventSize(const SpanEvent& e) {
  return OptFixed64FieldSize(f::kEventTime, e.time_unix_nano) +
         OptStringFieldSize(f::kEventName, e.name) +
         AttributesSize(f::kEventAttributes, e.attributes);
}
size_t LinkSize(const SpanLink& l) {
  return LenFieldSize(f::kLinkTraceId, 16) + LenFieldSize(f::kLinkSpanId, 8) +
         OptStringFieldSize(f::kLinkTraceState, l.context.trace_state) +
         AttributesSize(f::kLinkAttributes, l.attributes) +
         OptFixed32FieldSize(f::kLinkFlags, l.context.trace_flags);
}
size_t StatusSize(const SpanData& s) {
  return OptStringFieldSize(f::kStatusMessage, s.status_message) +
         OptVarintFieldSize(f::kStatusCode, static_cast<uint64_t>(s.status_code));
}
bool HasStatus(const SpanData& s) {
  return s.status_code != StatusCode::kUnset || !s.status_message.empty();
}

size_t SpanSize(const SpanData& s) {
  size_t n = LenFieldSize(f::kTraceId, 16) + LenFieldSize(f::kSpanId, 8);
  n += OptStringFieldSize(f::kTraceState, s.trace_state);
  if (wire::IsNonZero(s.parent_span_id.bytes)) n += LenFieldSize(f::kParentSpanId, 8);
  n += OptStringFieldSize(f::kName, s.name);
  n += OptVarintFieldSize(f::kKind, static_cast<uint64_t>(s.kind));
  n += OptFixed64FieldSize(f::kStartTime, s.start_unix_nano);
  n += OptFixed64FieldSize(f::kEndTime, s.end_unix_nano);
  n += AttributesSize(f::kAttributes, s.attributes);
  n += OptVarintFieldSize(f::kDroppedAttributes, s.dropped_attributes);
  for (const auto& e : s.events) n += LenFieldSize(f::kEvents, EventSize(e));
  n += OptVarintFieldSize(f::kDroppedEvents, s.dropped_events);
  for (const auto& l : s.links) n += LenFieldSize(f::kLinks, LinkSize(l));
  n += OptVarintFieldSize(f::kDroppedLinks, s.dropped_links);
  if (HasStatus(s)) n += LenFieldSize(f::kStatus, StatusSize(s));
  n += OptFixed32FieldSize(f::kFlags, s.trace_flags);
  return n;
}

void WriteSpan(Writer& w, const SpanData& s) {
  w.BytesField(f::kTraceId, IdBytes(s.trace_id));
  w.BytesField(f::kSpanId, IdBytes(s.span_id));
  WriteOptStringField(w, f::kTraceState, s.trace_state);
  if (wire::IsNonZero(s.parent_span_id.bytes)) {
    w.BytesField(f::kParentSpanId, IdBytes(s.parent_span_id));
  }
  WriteOptStringField(w, f::kName, s.name);
  WriteOptVarintField(w, f::kKind, static_cast<uint64_t>(s.kind));
  WriteOptFixed64Field(w, f::kStartTime, s.start_unix_nano);
  WriteOptFixed64Field(w, f::kEndTime, s.end_unix_nano);
  WriteAttributes(w, f::kAttributes, s.attributes);
  WriteOptVarintField(w, f::kDroppedAttributes, s.dropped_attributes);
  for (const auto& e : s.events) {
    w.LenHeader(f::kEvents, EventSize(e));
    WriteOptFixed64Field(w, f::kEventTime, e.time_unix_nano);
    WriteOptStringField(w, f::kEventName, e.name);
    WriteAttributes(w, f::kEventAttributes, e.attributes);
  }
  WriteOptVarintField(w, f::kDroppedEvents, s.dropped_events);
  for (const auto& l : s.links) {
    w.LenHeader(f::kLinks, LinkSize(l));
    w.BytesField(f::kLinkTraceId, IdBytes(l.context.trace_id));
    w.BytesField(f::kLinkSpanId, IdBytes(l.context.span_id));
    WriteOptStringField(w, f::kLinkTraceState, l.context.trace_state);
    WriteAttributes(w, f::kLinkAttributes, l.attributes);
    WriteOptFixed32Field(w, f::kLinkFlags, l.context.trace_flags);
  }
  WriteOptVarintField(w, f::kDroppedLinks, s.dropped_links);
  if (HasStatus(s)) {
    w.LenHeader(f::kStatus, StatusSize(s));
    WriteOptStringField(w, f::kStatusMessage, s.status_message);
    WriteOptVarintField(w, f::kStatusCode, static_cast<uint64_t>(s.status_code));
  }
  WriteOptFixed32Field(w, f::kFlags, s.trace_flags);
}

size_t ResourceSize(const Resource& r) {
  return AttributesSize(f::kResourceAttributes, r.attributes);
}
size_t ScopeSize(const InstrumentationScope& s) {
  return OptStringFieldSize(f::kScopeName, s.name) +
         OptStringFieldSize(f::kScopeVersion, s.version);
}
// The common envelope: Request{1: Resource*{1: Resource, 2: Scope*{1: Scope, 2: items}}}.
// `items_size` is the summed size of the item fields (field 2 of the scope message).
template <typename WriteItems>
void WriteEnvelope(const Resource& resource, const InstrumentationScope& scope, size_t items_size,
                   std::string& out, WriteItems&& write_items) {
  size_t resource_size = ResourceSize(resource);
  size_t scope_size = ScopeSize(scope);
  size_t scope_items_size = LenFieldSize(f::kScope, scope_size) + items_size;
  size_t resource_items_size =
      LenFieldSize(f::kResource, resource_size) + LenFieldSize(f::kScopeSpans, scope_items_size);
  size_t total = LenFieldSize(f::kResourceSpans, resource_items_size);

  out.resize(total);
  Writer w(out.data());
  w.LenHeader(f::kResourceSpans, resource_items_size);
  w.LenHeader(f::kResource, resource_size);
  WriteAttributes(w, f::kResourceAttributes, resource.attributes);
  w.LenHeader(f::kScopeSpans, scope_items_size);
  w.LenHeader(f::kScope, scope_size);
  WriteOptStringField(w, f::kScopeName, scope.name);
  WriteOptStringField(w, f::kScopeVersion, scope.version);
  write_items(w);
  // Every size above was computed by the same functions the writers mirror; a mismatch is a bug.
  CHAT_CHECK(w.pos() == out.data() + out.size());
}

size_t LogRecordSize(const LogRecordData& r) {
  size_t n = OptFixed64FieldSize(f::kLogTime, r.time_unix_nano);
  n += OptVarintFieldSize(f::kLogSeverityNumber, static_cast<uint64_t>(r.level));
  n += OptStringFieldSize(f::kLogSeverityText, wire::SeverityText(r.level));
  n += LenFieldSize(f::kLogBody, StringFieldSize(f::kStringValue, r.body));
  n += AttributesSize(f::kLogAttributes, r.attributes);
  n += OptFixed32FieldSize(f::kLogFlags, r.trace_flags);
  if (wire::IsNonZero(r.trace_id.bytes)) n += LenFieldSize(f::kLogTraceId, 16);
  if (wire::IsNonZero(r.span_id.bytes)) n += LenFieldSize(f::kLogSpanId, 8);
  n += OptFixed64FieldSize(f::kLogObservedTime, r.time_unix_nano);
  return n;
}

void WriteLogRecord(Writer& w, const LogRecordData& r) {
  WriteOptFixed64Field(w, f::kLogTime, r.time_unix_nano);
  WriteOptVarintField(w, f::kLogSeverityNumber, static_cast<uint64_t>(r.level));
  WriteOptStringField(w, f::kLogSeverityText, wire::SeverityText(r.level));
  w.LenHeader(f::kLogBody, StringFieldSize(f::kStringValue, r.body));
  WriteStringField(w, f::kStringValue, r.body);
  WriteAttributes(w, f::kLogAttributes, r.attributes);
  WriteOptFixed32Field(w, f::kLogFlags, r.trace_flags);
  if (wire::IsNonZero(r.trace_id.bytes)) w.BytesField(f::kLogTraceId, IdBytes(r.trace_id));
  if (wire::IsNonZero(r.span_id.bytes)) w.BytesField(f::kLogSpanId, IdBytes(r.span_id));
  // Our logger hands records over as they are made, so observed time equals event time.
  WriteOptFixed64Field(w, f::kLogObservedTime, r.time_unix_nano);
}

}  // namespace

void EncodeTracesProtobuf(const Resource& resource, const InstrumentationScope& scope,
                          const std::vector<std::unique_ptr<SpanData>>& spans, std::string& out) {
  // One allocation per batch for the span sizes, so each span is measured once.
  std::vector<size_t> sizes;
  sizes.reserve(spans.size());
  size_t items_size = 0;
  for (const auto& s : spans) {
    size_t n = SpanSize(*s);
    sizes.push_back(n);
    items_size += LenFieldSize(f::kSpans, n);
  }
  WriteEnvelope(resource, scope, items_size, out, [&](Writer& w) {
    for (size_t i = 0; i < spans.size(); ++i) {
      w.LenHeader(f::kSpans, sizes[i]);
      WriteSpan(w, *spans[i]);
    }
  });
}

void EncodeLogsProtobuf(const Resource& resource, const InstrumentationScope& scope,
                        const std::vector<std::unique_ptr<LogRecordData>>& records,
                        std::string& out) {
  static_assert(f::kResourceLogs == f::kResourceSpans && f::kScopeLogs == f::kScopeSpans &&
                f::kLogRecords == f::kSpans);
  std::vector<size_t> sizes;
  sizes.reserve(records.size());
  size_t items_size = 0;
  for (const auto& r : records) {
    size_t n = LogRecordSize(*r);
    sizes.push_back(n);
    items_size += LenFieldSize(f::kLogRecords, n);
  }
  WriteEnvelope(resource, scope, items_size, out, [&](Writer& w) {
    for (size_t i = 0; i < records.size(); ++i) {
      w.LenHeader(f::kLogRecords, sizes[i]);
      WriteLogRecord(w, *records[i]);
    }
  });
}

}  // namespace chat::telemetry::sdk

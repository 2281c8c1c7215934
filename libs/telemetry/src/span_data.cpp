#include "chat/telemetry/span_data.hpp"

#include "chat/telemetry/semconv.hpp"

namespace chat::telemetry {

std::string_view SpanKindName(SpanKind k) {
  switch (k) {
    case SpanKind::kInternal: return "SPAN_KIND_INTERNAL";
    case SpanKind::kServer: return "SPAN_KIND_SERVER";
    case SpanKind::kClient: return "SPAN_KIND_CLIENT";
    case SpanKind::kProducer: return "SPAN_KIND_PRODUCER";
    case SpanKind::kConsumer: return "SPAN_KIND_CONSUMER";
  }
  return "SPAN_KIND_UNSPECIFIED";
}

std::string_view StatusCodeName(StatusCode c) {
  switch (c) {
    case StatusCode::kUnset: return "STATUS_CODE_UNSET";
    case StatusCode::kOk: return "STATUS_CODE_OK";
    case StatusCode::kError: return "STATUS_CODE_ERROR";
  }
  return "STATUS_CODE_UNSET";
}

void SpanData::Reset() {
  trace_id = {};
  span_id = {};
  parent_span_id = {};
  trace_state.clear();
  trace_flags = 0;
  name.clear();
  kind = SpanKind::kInternal;
  start_unix_nano = 0;
  end_unix_nano = 0;
  // Bounded so a record that once carried many long values does not pin that memory forever.
  constexpr size_t kMaxSpareStrings = 16;
  constexpr size_t kMaxSpareCapacity = 512;
  for (Attribute& a : attributes) {
    if (spare_strings.size() >= kMaxSpareStrings) break;
    auto* s = std::get_if<std::string>(&a.value);
    // Only heap buffers are worth keeping: a short string lives inside the variant (SSO).
    if (s != nullptr && s->capacity() > std::string().capacity() &&
        s->capacity() <= kMaxSpareCapacity) {
      spare_strings.push_back(std::move(*s));
    }
  }
  attributes.clear();
  events.clear();
  links.clear();
  status_code = StatusCode::kUnset;
  status_message.clear();
  dropped_attributes = 0;
  dropped_events = 0;
  dropped_links = 0;
}

const AttributeValue* Resource::Find(std::string_view key) const {
  for (const auto& a : attributes) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

std::string Resource::ServiceName() const {
  const AttributeValue* v = Find(semconv::kServiceName);
  if (v != nullptr) {
    if (const auto* s = std::get_if<std::string>(v)) return *s;
  }
  return "unknown_service";
}

}  // namespace chat::telemetry

// Span, Tracer and TracerProvider. The hot path (start, 4 attributes, end) takes no lock of its
// own: records come recycled from the processor, ids from a per-thread generator, and the only
// synchronisation is the processor's queue.
#include "chat/telemetry/trace.hpp"

#include <utility>

#include "chat/core/clock.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::telemetry {
namespace {

// Cuts a string to `limit` bytes without splitting a UTF-8 sequence.
void Truncate(std::string& s, uint32_t limit) {
  if (s.size() <= limit) return;
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
}

std::string_view TruncatedView(std::string_view s, uint32_t limit) {
  if (s.size() <= limit) return s;
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

Attribute* FindAttr(std::vector<Attribute>& attrs, std::string_view key) {
  for (Attribute& a : attrs) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

// Applies the value-length and count limits to a list of attributes handed in by the caller
// (start options, events, links); returns how many were dropped.
uint32_t LimitAttributes(std::vector<Attribute>& attrs, const SpanLimits& limits) {
  for (Attribute& a : attrs) {
    if (auto* s = std::get_if<std::string>(&a.value)) Truncate(*s, limits.attribute_value_length);
  }
  if (attrs.size() <= limits.attribute_count) return 0;
  auto dropped = static_cast<uint32_t>(attrs.size() - limits.attribute_count);
  attrs.erase(attrs.begin() + static_cast<std::ptrdiff_t>(limits.attribute_count), attrs.end());
  return dropped;
}

}  // namespace

// ---- Span ----

Span::Span(Span&& other) noexcept
    : provider_(std::exchange(other.provider_, nullptr)),
      context_(std::move(other.context_)),
      data_(std::exchange(other.data_, nullptr)) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    provider_ = std::exchange(other.provider_, nullptr);
    context_ = std::move(other.context_);
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

Span& Span::SetAttribute(AttrKey key, std::string_view value) {
  if (data_ == nullptr) return *this;
  const SpanLimits& limits = provider_->limits_;
  std::string_view v = TruncatedView(value, limits.attribute_value_length);
  if (Attribute* existing = FindAttr(data_->attributes, key.view())) {
    if (auto* s = std::get_if<std::string>(&existing->value)) {
      s->assign(v);
    } else {
      existing->value = std::string(v);
    }
    return *this;
  }
  if (data_->attributes.size() >= limits.attribute_count) {
    ++data_->dropped_attributes;
    provider_->dropped_attributes_.fetch_add(1, std::memory_order_relaxed);
    return *this;
  }
  std::vector<std::string>& spare = data_->spare_strings;
  if (v.size() > std::string().capacity() && !spare.empty()) {
    // A buffer this record kept from its previous use: no allocation (see SpanData).
    std::string s = std::move(spare.back());
    spare.pop_back();
    s.assign(v);
    data_->attributes.emplace_back(key, std::move(s));
  } else {
    data_->attributes.emplace_back(key, v);
  }
  return *this;
}

namespace {
template <typename T>
void SetScalar(SpanData& data, const SpanLimits& limits, std::atomic<uint64_t>& dropped_total,
               AttrKey key, T value) {
  if (Attribute* existing = FindAttr(data.attributes, key.view())) {
    existing->value = value;
    return;
  }
  if (data.attributes.size() >= limits.attribute_count) {
    ++data.dropped_attributes;
    dropped_total.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  data.attributes.emplace_back(key, AttributeValue(value));
}
}  // namespace

Span& Span::SetAttribute(AttrKey key, int64_t value) {
  if (data_ != nullptr) {
    SetScalar(*data_, provider_->limits_, provider_->dropped_attributes_, key, value);
  }
  return *this;
}

Span& Span::SetAttribute(AttrKey key, double value) {
  if (data_ != nullptr) {
    SetScalar(*data_, provider_->limits_, provider_->dropped_attributes_, key, value);
  }
  return *this;
}

Span& Span::SetAttribute(AttrKey key, bool value) {
  if (data_ != nullptr) {
    SetScalar(*data_, provider_->limits_, provider_->dropped_attributes_, key, value);
  }
  return *this;
}

Span& Span::AddEvent(AttrKey name, std::vector<Attribute> attributes) {
  if (data_ == nullptr) return *this;
  const SpanLimits& limits = provider_->limits_;
  if (data_->events.size() >= limits.event_count) {
    ++data_->dropped_events;
    provider_->dropped_events_.fetch_add(1, std::memory_order_relaxed);
    return *this;
  }
  uint32_t dropped = LimitAttributes(attributes, limits);
  if (dropped > 0) provider_->dropped_attributes_.fetch_add(dropped, std::memory_order_relaxed);
  data_->events.push_back(
      SpanEvent{name.view(), provider_->clock_.NowUnixNanos(), std::move(attributes)});
  return *this;
}

Span& Span::AddLink(const SpanContext& context, std::vector<Attribute> attributes) {
  if (data_ == nullptr || !context.IsValid()) return *this;
  const SpanLimits& limits = provider_->limits_;
  if (data_->links.size() >= limits.link_count) {
    ++data_->dropped_links;
    provider_->dropped_links_.fetch_add(1, std::memory_order_relaxed);
    return *this;
  }
  uint32_t dropped = LimitAttributes(attributes, limits);
  if (dropped > 0) provider_->dropped_attributes_.fetch_add(dropped, std::memory_order_relaxed);
  data_->links.push_back(SpanLink{context, std::move(attributes)});
  return *this;
}

Span& Span::SetName(std::string_view name) {
  if (data_ != nullptr) data_->name.assign(name);
  return *this;
}

Span& Span::SetStatus(StatusCode code, std::string_view description) {
  if (data_ == nullptr) return *this;
  // OTel status rules: UNSET is never set explicitly, OK is final, the description only
  // accompanies ERROR.
  if (code == StatusCode::kUnset || data_->status_code == StatusCode::kOk) return *this;
  data_->status_code = code;
  if (code == StatusCode::kError) {
    data_->status_message.assign(description);
  } else {
    data_->status_message.clear();
  }
  return *this;
}

Span& Span::RecordError(std::string_view error_type, std::string_view exception_message,
                        std::string_view exception_type, std::string_view description) {
  if (data_ == nullptr) return *this;
  // Recording an error overrides an earlier OK: the contract wants the failure visible.
  data_->status_code = StatusCode::kError;
  data_->status_message.assign(description);
  SetAttribute(semconv::kErrorType, error_type);
  const uint32_t limit = provider_->limits_.attribute_value_length;
  std::vector<Attribute> attrs;
  attrs.reserve(2);
  attrs.emplace_back(AttrKey(semconv::kExceptionType),
                     TruncatedView(exception_type.empty() ? error_type : exception_type, limit));
  attrs.emplace_back(AttrKey(semconv::kExceptionMessage), TruncatedView(exception_message, limit));
  return AddEvent(semconv::kExceptionEvent, std::move(attrs));
}

void Span::End(int64_t end_unix_nano) {
  if (data_ == nullptr) return;
  SpanData* data = std::exchange(data_, nullptr);
  data->end_unix_nano = end_unix_nano != 0 ? end_unix_nano : provider_->clock_.NowUnixNanos();
  provider_->OnEnd(data);
}

// ---- Tracer ----

Span Tracer::StartSpan(std::string_view name, SpanKind kind, const SpanContext& parent) const {
  SpanStartOptions options;
  options.kind = kind;
  options.parent = parent;
  return StartSpan(name, std::move(options));
}

Span Tracer::StartSpan(std::string_view name, SpanStartOptions options) const {
  TracerProvider* p = provider_;
  const SpanContext& parent = options.parent;
  const bool has_parent = parent.IsValid();
  if (p == nullptr || p->processor_ == nullptr) {
    // No-op / disabled: nothing recorded, but the caller's context keeps flowing downstream.
    if (!has_parent) return Span();
    SpanContext ctx = std::move(options.parent);
    ctx.is_remote = false;
    return Span(nullptr, std::move(ctx), nullptr);
  }
  p->started_.fetch_add(1, std::memory_order_relaxed);

  SpanContext ctx;
  ctx.trace_id = has_parent ? parent.trace_id : NewTraceId();
  ctx.span_id = NewSpanId();
  if (has_parent) ctx.trace_state = parent.trace_state;
  const SamplingDecision decision =
      p->sampler_->ShouldSample(parent, ctx.trace_id, name, options.kind);
  if (decision != SamplingDecision::kRecordAndSample) {
    ctx.trace_flags = 0;
    return Span(p, std::move(ctx), nullptr);
  }
  ctx.trace_flags = kTraceFlagSampled;

  SpanData* d = p->AcquireRecord();
  d->trace_id = ctx.trace_id;
  d->span_id = ctx.span_id;
  d->parent_span_id = has_parent ? parent.span_id : SpanId{};
  d->trace_state = ctx.trace_state;
  d->trace_flags = ctx.trace_flags;
  d->name.assign(name);
  d->kind = options.kind;
  d->start_unix_nano =
      options.start_unix_nano != 0 ? options.start_unix_nano : p->clock_.NowUnixNanos();
  const SpanLimits& limits = p->limits_;
  if (!options.attributes.empty()) {
    uint32_t dropped = LimitAttributes(options.attributes, limits);
    d->dropped_attributes += dropped;
    if (dropped > 0) p->dropped_attributes_.fetch_add(dropped, std::memory_order_relaxed);
    if (d->attributes.empty()) {
      d->attributes.swap(options.attributes);
    } else {
      for (Attribute& a : options.attributes) d->attributes.push_back(std::move(a));
    }
  }
  for (SpanLink& link : options.links) {
    if (!link.context.IsValid()) continue;
    if (d->links.size() >= limits.link_count) {
      ++d->dropped_links;
      p->dropped_links_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    uint32_t dropped = LimitAttributes(link.attributes, limits);
    if (dropped > 0) p->dropped_attributes_.fetch_add(dropped, std::memory_order_relaxed);
    d->links.push_back(std::move(link));
  }
  return Span(p, std::move(ctx), d);
}

// ---- TracerProvider ----

TracerProvider::TracerProvider(Resource resource, std::unique_ptr<Sampler> sampler,
                               std::unique_ptr<SpanProcessor> processor, SpanLimits limits,
                               const core::Clock& clock)
    : resource_(std::move(resource)),
      sampler_(std::move(sampler)),
      processor_(std::move(processor)),
      limits_(limits),
      clock_(clock) {
  // Without a sampler there is nothing to decide with: behave as disabled.
  if (sampler_ == nullptr) processor_.reset();
}

TracerProvider::~TracerProvider() = default;

bool TracerProvider::ForceFlush(std::chrono::milliseconds timeout) {
  return processor_ == nullptr || processor_->ForceFlush(timeout);
}

bool TracerProvider::Shutdown(std::chrono::milliseconds timeout) {
  return processor_ == nullptr || processor_->Shutdown(timeout);
}

SpanData* TracerProvider::AcquireRecord() {
  std::unique_ptr<SpanData> record = processor_->AcquireRecord();
  if (record == nullptr) {
    record = std::make_unique<SpanData>();
    // A messaging span carries 9-10 attributes (natsx); room for them up front means a new
    // record never reallocates while it is filled.
    record->attributes.reserve(16);
    record->spare_strings.reserve(8);
  }
  return record.release();
}

void TracerProvider::OnEnd(SpanData* data) { processor_->OnEnd(std::unique_ptr<SpanData>(data)); }

}  // namespace chat::telemetry

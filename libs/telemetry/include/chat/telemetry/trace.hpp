// Tracing API: TracerProvider, Tracer and the RAII Span (docs/style.md rules 5 and 16).
//
// A Span is a scope: it ends in its destructor, so every return path ends it. Spans are local
// variables, never members, and are not handed to other threads. The parent is passed
// explicitly (SpanStartOptions::parent) because nats.c callbacks hop threads: there is no
// thread-local "current span".
//
// A provider that is disabled (OTEL_SDK_DISABLED) or a span that was not sampled yields a
// non-recording Span: every call is a cheap no-op, but Context() is still valid (for an unsampled
// span it carries a fresh span id with the sampled flag clear, so downstream services make the
// same decision).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/telemetry/attributes.hpp"
#include "chat/telemetry/span_data.hpp"
#include "chat/telemetry/trace_context.hpp"

namespace chat::core {
class Clock;
}

namespace chat::telemetry {

class TracerProvider;

struct SpanStartOptions {
  SpanKind kind = SpanKind::kInternal;
  // Invalid context → a new root span (a new trace id).
  SpanContext parent;
  std::vector<SpanLink> links;
  std::vector<Attribute> attributes;  // known at start (samplers may read them)
  int64_t start_unix_nano = 0;        // 0 → now
};

class Span {
 public:
  Span() = default;  // a non-recording span with an invalid context
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { End(); }

  bool IsRecording() const { return data_ != nullptr; }
  const SpanContext& Context() const { return context_; }

  // Limits (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, …, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT) apply; what
  // is cut off is counted in otel_sdk_span_limit_dropped_total{what}. Setting an existing key
  // replaces its value.
  Span& SetAttribute(AttrKey key, std::string_view value);
  Span& SetAttribute(AttrKey key, const char* value) {
    return SetAttribute(key, std::string_view(value));
  }
  Span& SetAttribute(AttrKey key, const std::string& value) {
    return SetAttribute(key, std::string_view(value));
  }
  Span& SetAttribute(AttrKey key, int64_t value);
  Span& SetAttribute(AttrKey key, int value) {
    return SetAttribute(key, static_cast<int64_t>(value));
  }
  Span& SetAttribute(AttrKey key, double value);
  Span& SetAttribute(AttrKey key, bool value);

  Span& AddEvent(AttrKey name, std::vector<Attribute> attributes = {});
  Span& AddLink(const SpanContext& context, std::vector<Attribute> attributes = {});
  Span& SetName(std::string_view name);
  // kOk/kUnset/kError; per the contract success leaves status UNSET.
  Span& SetStatus(StatusCode code, std::string_view description = {});

  // The one way a span records a failure (observability §1.2 and §4.4): status ERROR with
  // `description`, attribute error.type, and an "exception" event with exception.type and
  // exception.message (truncated to the attribute length limit).
  Span& RecordError(std::string_view error_type, std::string_view exception_message,
                    std::string_view exception_type = {}, std::string_view description = {});

  // Idempotent; the destructor calls it. end_unix_nano 0 → now.
  void End(int64_t end_unix_nano = 0);

 private:
  friend class Tracer;
  Span(TracerProvider* provider, SpanContext context, SpanData* data)
      : provider_(provider), context_(std::move(context)), data_(data) {}

  TracerProvider* provider_ = nullptr;
  SpanContext context_;
  SpanData* data_ = nullptr;  // owned until End() hands it to the provider's processor
};

// Cheap handle; copy freely. A default-constructed Tracer is a no-op.
class Tracer {
 public:
  Tracer() = default;
  Span StartSpan(std::string_view name, SpanStartOptions options = {}) const;
  // Convenience for the common case: child of `parent` (or a root when parent is invalid).
  Span StartSpan(std::string_view name, SpanKind kind, const SpanContext& parent) const;

 private:
  friend class TracerProvider;
  explicit Tracer(TracerProvider* provider) : provider_(provider) {}
  TracerProvider* provider_ = nullptr;
};

// ---- SDK extension points (implemented in sdk/, used by main and tests) ----

enum class SamplingDecision { kDrop, kRecordAndSample };

class Sampler {
 public:
  virtual ~Sampler() = default;
  // `parent` may be invalid (root). Must be thread-safe and cheap.
  virtual SamplingDecision ShouldSample(const SpanContext& parent, const TraceId& trace_id,
                                        std::string_view name, SpanKind kind) const = 0;
  virtual std::string Description() const = 0;
};

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // Takes ownership of a finished, sampled span. Must never block the caller.
  virtual void OnEnd(std::unique_ptr<SpanData> span) = 0;
  // Exports everything queued; returns false when the deadline passed first.
  virtual bool ForceFlush(std::chrono::milliseconds timeout) = 0;
  virtual bool Shutdown(std::chrono::milliseconds timeout) = 0;
  // A cleared record (capacity kept) for the provider to fill, or nullptr to have the provider
  // allocate one. Processors that get their records back after export recycle them this way
  // so the hot path does not allocate. Must be thread-safe and never block.
  virtual std::unique_ptr<SpanData> AcquireRecord() { return nullptr; }
};

struct SpanLimits {
  uint32_t attribute_count = 64;
  uint32_t event_count = 32;
  uint32_t link_count = 8;
  uint32_t attribute_value_length = 2048;
};

// Owns the sampler, the processor and the resource. Thread-safe.
class TracerProvider {
 public:
  // A disabled provider (nullptr processor) produces only non-recording spans.
  TracerProvider(Resource resource, std::unique_ptr<Sampler> sampler,
                 std::unique_ptr<SpanProcessor> processor, SpanLimits limits,
                 const core::Clock& clock);
  ~TracerProvider();
  TracerProvider(const TracerProvider&) = delete;
  TracerProvider& operator=(const TracerProvider&) = delete;

  Tracer GetTracer() { return Tracer(this); }
  const Resource& resource() const { return resource_; }
  const SpanLimits& limits() const { return limits_; }
  bool ForceFlush(std::chrono::milliseconds timeout);
  bool Shutdown(std::chrono::milliseconds timeout);

  uint64_t spans_started() const { return started_.load(std::memory_order_relaxed); }
  // Counters for otel_sdk_span_limit_dropped_total{what}.
  uint64_t dropped_attributes() const {
    return dropped_attributes_.load(std::memory_order_relaxed);
  }
  uint64_t dropped_events() const { return dropped_events_.load(std::memory_order_relaxed); }
  uint64_t dropped_links() const { return dropped_links_.load(std::memory_order_relaxed); }

 private:
  friend class Tracer;
  friend class Span;
  SpanData* AcquireRecord();
  void OnEnd(SpanData* data);  // hands the record to the processor

  Resource resource_;
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<SpanProcessor> processor_;
  SpanLimits limits_;
  const core::Clock& clock_;
  std::atomic<uint64_t> started_{0};
  std::atomic<uint64_t> dropped_attributes_{0};
  std::atomic<uint64_t> dropped_events_{0};
  std::atomic<uint64_t> dropped_links_{0};
};

}  // namespace chat::telemetry

// W3C Trace Context: ids, SpanContext, and traceparent/tracestate parsing and formatting.
// Parsing follows the spec's validation rules (docs/observability.md §3.2); an invalid header
// yields a reason that callers count in trace_context_invalid_total{reason}. Never throws.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::telemetry {

struct TraceId {
  std::array<uint8_t, 16> bytes{};
  bool IsValid() const;  // not all zeros
  std::string Hex() const;
  static std::optional<TraceId> FromHex(std::string_view hex);  // 32 lowercase hex chars
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

struct SpanId {
  std::array<uint8_t, 8> bytes{};
  bool IsValid() const;
  std::string Hex() const;
  static std::optional<SpanId> FromHex(std::string_view hex);  // 16 lowercase hex chars
  friend bool operator==(const SpanId&, const SpanId&) = default;
};

inline constexpr uint8_t kTraceFlagSampled = 0x01;

struct SpanContext {
  TraceId trace_id;
  SpanId span_id;
  uint8_t trace_flags = 0;
  std::string trace_state;  // already validated; empty when absent
  bool is_remote = false;

  bool IsValid() const { return trace_id.IsValid() && span_id.IsValid(); }
  bool IsSampled() const { return (trace_flags & kTraceFlagSampled) != 0; }
};

// Why a traceparent was rejected; the names are the label values of
// trace_context_invalid_total{reason}.
enum class InvalidContextReason { kMalformed, kMultiple, kZeroId, kBadVersion };
std::string_view InvalidContextReasonName(InvalidContextReason r);

struct ParsedContext {
  std::optional<SpanContext> context;           // set when valid (is_remote = true)
  std::optional<InvalidContextReason> invalid;  // set when a header was present but invalid
};

// Parses a traceparent (and, only if it is valid, a tracestate). `traceparent_count` is how many
// traceparent values the carrier held: 0 → neither field set; >1 → invalid kMultiple.
// Only the sampled bit of the flags is kept (others are ignored and not forwarded).
ParsedContext ParseTraceparent(std::string_view tp, std::string_view tracestate = {},
                               int traceparent_count = 1);

// "00-<trace>-<span>-<flags>"; requires ctx.IsValid().
std::string FormatTraceparent(const SpanContext& ctx);

// The same text written into a caller's buffer, NUL-terminated, without allocating (the
// per-message injection path). Returns false and writes nothing when !ctx.IsValid().
inline constexpr size_t kTraceparentLength = 55;
bool FormatTraceparentTo(const SpanContext& ctx, char (&out)[kTraceparentLength + 1]);

// Returns the tracestate if it is valid per §3.2 (≤ 512 chars, ≤ 32 members, well-formed keys and
// values, no duplicate keys), otherwise an empty string (the header is dropped).
std::string ValidateTracestate(std::string_view tracestate);

// Fast random ids (per-thread generator seeded from the OS); never all-zero.
TraceId NewTraceId();
SpanId NewSpanId();

}  // namespace chat::telemetry

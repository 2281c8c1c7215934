// The propagation carrier: W3C trace context in NATS headers (docs/observability.md §3.1-§3.3,
// style.md rule 6). Injects traceparent/tracestate (and the caller's extra headers) into an
// outbound natsMsg, and reads them back from an inbound one, counting invalid and Xraceparent
// fallback contexts. Nobody outside this file reads or writes the trace headers.
#include <nats/nats.h>

#include <cctype>
#include <cstdlib>
#include <string_view>

#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"

namespace chat::natsx {

namespace semconv = telemetry::semconv;
using telemetry::SpanContext;

namespace {

// The header names as C strings for libnats (semconv holds them as string_views).
constexpr char kTraceparentKey[] = "traceparent";
constexpr char kTracestateKey[] = "tracestate";
static_assert(semconv::kTraceparentHeader == kTraceparentKey);
static_assert(semconv::kTracestateHeader == kTracestateKey);

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Values of one header key; views into the message (valid while it lives).
struct HeaderLookup {
  std::string_view first;
  int count = 0;
};

HeaderLookup ValuesOf(natsMsg* msg, const char* key) {
  HeaderLookup out;
  if (key == nullptr) return out;
  const char** values = nullptr;
  int n = 0;
  if (natsMsgHeader_Values(msg, key, &values, &n) == NATS_OK) {
    if (n > 0 && values[0] != nullptr) out.first = values[0];
    out.count = n;
    std::free(static_cast<void*>(values));
  }
  return out;
}

bool IsTraceHeader(std::string_view key) {
  return IEquals(key, semconv::kTraceparentHeader) || IEquals(key, semconv::kTracestateHeader);
}

}  // namespace

core::Status Connection::InjectHeaders(natsMsg* msg, const SpanContext& ctx,
                                       const Headers& headers) const {
  natsStatus s = NATS_OK;
  // Formatted on the stack and keyed by NUL-terminated constants: no allocation of ours per
  // message (libnats still copies key and value into its header map).
  char tp[telemetry::kTraceparentLength + 1];
  if (telemetry::FormatTraceparentTo(ctx, tp)) {
    s = natsMsgHeader_Set(msg, kTraceparentKey, tp);
    if (s == NATS_OK && !ctx.trace_state.empty()) {
      s = natsMsgHeader_Set(msg, kTracestateKey, ctx.trace_state.c_str());
    }
  }
  for (const auto& [k, v] : headers) {
    if (s != NATS_OK) break;
    if (k.empty() || IsTraceHeader(k)) continue;  // natsx alone writes trace headers
    s = natsMsgHeader_Add(msg, k.c_str(), v.c_str());
  }
  return internal::ToStatus(s, "set headers");
}

namespace internal {

InboundTraceHeaders ReadTraceHeaders(natsMsg* msg) {
  // One pass over the keys finds the trace headers: the exact lowercase spelling wins, any other
  // spelling is accepted (§3.1), and Xraceparent is the fallback (decisions.md §6).
  InboundTraceHeaders out;
  const char** keys = nullptr;
  int nkeys = 0;
  if (natsMsgHeader_Keys(msg, &keys, &nkeys) != NATS_OK) return out;  // no headers at all
  const char* tp_key = nullptr;
  const char* ts_key = nullptr;
  const char* x_key = nullptr;
  bool tp_exact = false;
  bool ts_exact = false;
  for (int i = 0; i < nkeys; ++i) {
    const char* k = keys[i];
    if (k == nullptr) continue;
    std::string_view key(k);
    if (key == semconv::kTraceparentHeader) {
      tp_key = k;
      tp_exact = true;
    } else if (!tp_exact && IEquals(key, semconv::kTraceparentHeader)) {
      tp_key = k;
    } else if (key == semconv::kTracestateHeader) {
      ts_key = k;
      ts_exact = true;
    } else if (!ts_exact && IEquals(key, semconv::kTracestateHeader)) {
      ts_key = k;
    } else if (key == semconv::kXraceparentHeader) {
      x_key = k;
    }
  }
  std::free(static_cast<void*>(keys));  // the key strings belong to the message

  HeaderLookup tp = ValuesOf(msg, tp_key);
  if (tp.count == 0) {
    tp = ValuesOf(msg, x_key);
    if (tp.count == 0) return out;
    out.fallback = true;
  }
  std::string_view tracestate;
  if (tp.count == 1) tracestate = ValuesOf(msg, ts_key).first;
  out.parsed = telemetry::ParseTraceparent(tp.first, tracestate, tp.count);
  return out;
}

}  // namespace internal

SpanContext Connection::ExtractContext(natsMsg* msg) const {
  internal::InboundTraceHeaders headers = internal::ReadTraceHeaders(msg);
  if (headers.fallback) metrics_->traceparent_fallback->Add(1);
  telemetry::ParsedContext& parsed = headers.parsed;
  if (parsed.invalid.has_value()) {
    auto reason = *parsed.invalid;
    metrics_->invalid_context[static_cast<int>(reason)]->Add(1);
    if (telemetry_.logger->Enabled(telemetry::LogLevel::kDebug)) {
      const char* subj = natsMsg_GetSubject(msg);
      telemetry_.logger->Log(telemetry::LogLevel::kDebug, nullptr,
                             "invalid inbound trace context ignored",
                             {{"reason", telemetry::InvalidContextReasonName(reason)},
                              {semconv::kMessagingDestinationName,
                               subj == nullptr ? std::string_view() : std::string_view(subj)}});
    }
    return {};
  }
  if (parsed.context.has_value()) return std::move(*parsed.context);
  return {};
}

}  // namespace chat::natsx

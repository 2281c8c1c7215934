// traceparent/tracestate parsing (docs/observability.md §3.2): every inbound NATS message and HTTP
// request hands these two header values to ParseTraceparent. Input: "<traceparent>\n<tracestate>"
// (no newline: traceparent only). Checks, besides the sanitizers, that an accepted context
// formats back to the same traceparent and that a validated tracestate validates to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chat/telemetry/trace_context.hpp"

namespace tel = chat::telemetry;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view tp = in.substr(0, nl);
  std::string_view ts = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);

  for (int count : {1, 2}) {
    tel::ParsedContext parsed = tel::ParseTraceparent(tp, ts, count);
    // A header that is there is either accepted or rejected with a reason, never both.
    if (parsed.context.has_value() == parsed.invalid.has_value()) std::abort();
    if (parsed.context) {
      if (count != 1 || !parsed.context->IsValid()) std::abort();
      std::string formatted = tel::FormatTraceparent(*parsed.context);
      char buf[tel::kTraceparentLength + 1];
      if (!tel::FormatTraceparentTo(*parsed.context, buf)) std::abort();
      if (formatted != std::string_view(buf)) std::abort();
      // Only the sampled flag is kept, so re-parsing the formatted text gives the same ids.
      tel::ParsedContext again = tel::ParseTraceparent(formatted);
      if (!again.context || again.context->trace_id != parsed.context->trace_id ||
          again.context->span_id != parsed.context->span_id) {
        std::abort();
      }
    }
    if (parsed.invalid) (void)tel::InvalidContextReasonName(*parsed.invalid);
  }

  std::string state = tel::ValidateTracestate(ts);
  if (!state.empty() && tel::ValidateTracestate(state) != state) std::abort();
  (void)tel::TraceId::FromHex(tp);
  (void)tel::SpanId::FromHex(tp);
  return 0;
}

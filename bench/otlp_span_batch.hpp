// The span batch the OTLP benches share: what one export of the batch span processor carries
// (512 spans, 10 attributes each: messaging.* semconv plus chat.* of every type). otlp_bench
// encodes it; otlp_decode_bench adds events, links and error statuses and decodes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat/telemetry/semconv.hpp"
#include "chat/telemetry/span_data.hpp"

namespace chat::bench {

inline constexpr size_t kOtlpBatch = 512;

inline std::vector<std::unique_ptr<telemetry::SpanData>> MakeOtlpSpanBatch() {
  namespace semconv = telemetry::semconv;
  using telemetry::AttributeValue;
  std::vector<std::unique_ptr<telemetry::SpanData>> spans;
  for (size_t i = 0; i < kOtlpBatch; ++i) {
    auto s = std::make_unique<telemetry::SpanData>();
    for (size_t b = 0; b < 16; ++b) s->trace_id.bytes[b] = static_cast<uint8_t>(i * 7 + b + 1);
    for (size_t b = 0; b < 8; ++b) s->span_id.bytes[b] = static_cast<uint8_t>(i * 3 + b + 1);
    for (size_t b = 0; b < 8; ++b) s->parent_span_id.bytes[b] = static_cast<uint8_t>(i + b + 9);
    s->trace_flags = 1;
    s->name = "process chat.room.{room_id}.msg";
    s->kind = telemetry::SpanKind::kConsumer;
    s->start_unix_nano = 1700000000000000000 + static_cast<int64_t>(i) * 1000;
    s->end_unix_nano = s->start_unix_nano + 250000;
    s->attributes = {
        {semconv::kMessagingSystem, "nats"},
        {semconv::kMessagingDestinationName, "chat.room.{room_id}.msg"},
        {semconv::kMessagingOperationType, "process"},
        {semconv::kMessagingMessageBodySize, 214},
        {semconv::kMessagingClientId, "fanout-service-7f9c"},
        {"chat.room.id", "r-" + std::to_string(i % 97)},
        {"chat.message.seq", static_cast<int64_t>(i) * 13},
        {"chat.fanout.recipients", 12},
        {"chat.redelivered", AttributeValue(false)},
        {"chat.queue.lag_s", AttributeValue(0.0042)},
    };
    spans.push_back(std::move(s));
  }
  return spans;
}

}  // namespace chat::bench

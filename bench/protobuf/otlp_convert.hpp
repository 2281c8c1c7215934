// The protoc-generated alternative to our hand-written OTLP decoder, for bench/otlp_decode_bench
// only (issue 12: "consider generating the decoder ... if it is not slower; measure"). Parse with
// libprotobuf into the messages generated from libs/telemetry/test/otlp/proto, then convert into
// the sink's model (chat/telemetry/receiver/otlp_decode.hpp), reproducing what
// DecodeTracesProtobuf / DecodeLogsProtobuf / CountMetricPointsProtobuf return: the sink needs
// that model, so a fair comparison includes the conversion. Built only when CMake finds
// protobuf; never linked by the sink or a service.
#pragma once

#include <google/protobuf/arena.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/core/base64.hpp"
#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/telemetry/receiver/otlp_decode.hpp"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace chat::bench::pb {

namespace common = opentelemetry::proto::common::v1;
namespace resource = opentelemetry::proto::resource::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace logs = opentelemetry::proto::logs::v1;
namespace collector_trace = opentelemetry::proto::collector::trace::v1;
namespace collector_logs = opentelemetry::proto::collector::logs::v1;
namespace collector_metrics = opentelemetry::proto::collector::metrics::v1;

using core::Status;
using telemetry::AttributeValue;
using telemetry::sdk::DecodedAttribute;
using telemetry::sdk::DecodedEvent;
using telemetry::sdk::DecodedLink;
using telemetry::sdk::DecodedLogRecord;
using telemetry::sdk::DecodedResource;
using telemetry::sdk::DecodedSpan;

// Same cap as the hand decoder's kMaxAnyValueDepth (libprotobuf's own recursion limit is 100).
constexpr int kMaxAnyValueDepth = 32;

template <size_t N>
Status ConvertId(const std::string& bytes, std::array<uint8_t, N>& out) {
  if (bytes.empty()) {
    out = {};
    return {};
  }
  if (bytes.size() != N) {
    return core::InvalidArgument("id of " + std::to_string(bytes.size()) + " bytes");
  }
  std::memcpy(out.data(), bytes.data(), N);
  return {};
}

inline void AppendJsonString(std::string_view s, std::string& out) {
  out +=
      nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline void AppendJsonDouble(double d, std::string& out) {
  if (std::isnan(d)) {
    out += "\"NaN\"";
  } else if (std::isinf(d)) {
    out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    out += nlohmann::json(d).dump();
  }
}

// Arrays, kvlists and bytes as JSON text, scalars as plain JSON: the hand decoder's rendering.
inline Status AnyValueJsonText(const common::AnyValue& v, int depth, std::string& out) {
  if (depth > kMaxAnyValueDepth) return core::InvalidArgument("AnyValue nested too deeply");
  switch (v.value_case()) {
    case common::AnyValue::kStringValue: AppendJsonString(v.string_value(), out); break;
    case common::AnyValue::kBoolValue: out += v.bool_value() ? "true" : "false"; break;
    case common::AnyValue::kIntValue: out += std::to_string(v.int_value()); break;
    case common::AnyValue::kDoubleValue: AppendJsonDouble(v.double_value(), out); break;
    case common::AnyValue::kArrayValue: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.array_value().values()) {
        if (!first) out.push_back(',');
        first = false;
        if (Status s = AnyValueJsonText(e, depth + 2, out); !s.ok()) return s;
      }
      out.push_back(']');
      break;
    }
    case common::AnyValue::kKvlistValue: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.kvlist_value().values()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(kv.key(), out);
        out.push_back(':');
        if (kv.has_value()) {
          if (Status s = AnyValueJsonText(kv.value(), depth + 2, out); !s.ok()) return s;
        } else {
          out += "null";
        }
      }
      out.push_back('}');
      break;
    }
    case common::AnyValue::kBytesValue:
      AppendJsonString(core::Base64StdEncode(v.bytes_value()), out);
      break;
    case common::AnyValue::VALUE_NOT_SET: out += "null"; break;
  }
  return {};
}

inline Status ConvertAnyValue(const common::AnyValue& v, AttributeValue& out) {
  switch (v.value_case()) {
    case common::AnyValue::kStringValue: out = v.string_value(); return {};
    case common::AnyValue::kBoolValue: out = v.bool_value(); return {};
    case common::AnyValue::kIntValue: out = static_cast<int64_t>(v.int_value()); return {};
    case common::AnyValue::kDoubleValue: out = v.double_value(); return {};
    case common::AnyValue::VALUE_NOT_SET: out = std::string(); return {};
    default: {
      std::string text;
      if (Status s = AnyValueJsonText(v, 0, text); !s.ok()) return s;
      out = std::move(text);
      return {};
    }
  }
}

inline Status ConvertAttributes(const google::protobuf::RepeatedPtrField<common::KeyValue>& in,
                                std::vector<DecodedAttribute>& out) {
  out.reserve(static_cast<size_t>(in.size()));
  for (const auto& kv : in) {
    DecodedAttribute a;
    a.key = kv.key();
    a.value = std::string();
    if (kv.has_value()) {
      if (Status s = ConvertAnyValue(kv.value(), a.value); !s.ok()) return s;
    }
    out.push_back(std::move(a));
  }
  return {};
}

inline Status ConvertResource(const resource::Resource& in, DecodedResource& out) {
  if (Status s = ConvertAttributes(in.attributes(), out.attributes); !s.ok()) return s;
  out.service_name = "unknown_service";
  for (const auto& a : out.attributes) {
    if (a.key == "service.name") {
      if (const auto* str = std::get_if<std::string>(&a.value)) {
        out.service_name = *str;
        break;
      }
    }
  }
  return {};
}

inline Status ConvertSpan(const trace::Span& in, DecodedSpan& s) {
  if (Status st = ConvertId(in.trace_id(), s.trace_id.bytes); !st.ok()) return st;
  if (Status st = ConvertId(in.span_id(), s.span_id.bytes); !st.ok()) return st;
  if (Status st = ConvertId(in.parent_span_id(), s.parent_span_id.bytes); !st.ok()) return st;
  s.trace_state = in.trace_state();
  s.flags = in.flags();
  s.name = in.name();
  s.kind = static_cast<int>(in.kind());
  s.start_unix_nano = static_cast<int64_t>(in.start_time_unix_nano());
  s.end_unix_nano = static_cast<int64_t>(in.end_time_unix_nano());
  if (Status st = ConvertAttributes(in.attributes(), s.attributes); !st.ok()) return st;
  s.events.reserve(static_cast<size_t>(in.events_size()));
  for (const auto& e : in.events()) {
    DecodedEvent d;
    d.name = e.name();
    d.time_unix_nano = static_cast<int64_t>(e.time_unix_nano());
    if (Status st = ConvertAttributes(e.attributes(), d.attributes); !st.ok()) return st;
    s.events.push_back(std::move(d));
  }
  s.links.reserve(static_cast<size_t>(in.links_size()));
  for (const auto& l : in.links()) {
    DecodedLink d;
    if (Status st = ConvertId(l.trace_id(), d.trace_id.bytes); !st.ok()) return st;
    if (Status st = ConvertId(l.span_id(), d.span_id.bytes); !st.ok()) return st;
    d.trace_state = l.trace_state();
    if (Status st = ConvertAttributes(l.attributes(), d.attributes); !st.ok()) return st;
    s.links.push_back(std::move(d));
  }
  if (in.has_status()) {
    s.status_code = static_cast<int>(in.status().code());
    s.status_message = in.status().message();
  }
  s.dropped_attributes = in.dropped_attributes_count();
  s.dropped_events = in.dropped_events_count();
  s.dropped_links = in.dropped_links_count();
  return {};
}

inline core::Result<std::vector<DecodedSpan>> ConvertTraces(
    const collector_trace::ExportTraceServiceRequest& req) {
  std::vector<DecodedSpan> spans;
  for (const auto& rs : req.resource_spans()) {
    auto res = std::make_shared<DecodedResource>();
    if (Status st = ConvertResource(rs.resource(), *res); !st.ok()) return st;
    std::shared_ptr<const DecodedResource> shared = res;
    for (const auto& ss : rs.scope_spans()) {
      const std::string& scope = ss.scope().name();
      for (const auto& span : ss.spans()) {
        DecodedSpan s;
        s.resource = shared;
        s.scope_name = scope;
        if (Status st = ConvertSpan(span, s); !st.ok()) return st;
        spans.push_back(std::move(s));
      }
    }
  }
  return spans;
}

inline Status ConvertLogRecord(const logs::LogRecord& in, DecodedLogRecord& l) {
  l.time_unix_nano = static_cast<int64_t>(in.time_unix_nano());
  l.observed_time_unix_nano = static_cast<int64_t>(in.observed_time_unix_nano());
  l.severity_number = in.severity_number();
  l.severity_text = in.severity_text();
  if (in.has_body()) {
    if (in.body().value_case() == common::AnyValue::kStringValue) {
      l.body = in.body().string_value();
    } else if (Status st = AnyValueJsonText(in.body(), 0, l.body); !st.ok()) {
      return st;
    }
  }
  if (Status st = ConvertAttributes(in.attributes(), l.attributes); !st.ok()) return st;
  l.flags = in.flags();
  if (Status st = ConvertId(in.trace_id(), l.trace_id.bytes); !st.ok()) return st;
  return ConvertId(in.span_id(), l.span_id.bytes);
}

inline core::Result<std::vector<DecodedLogRecord>> ConvertLogs(
    const collector_logs::ExportLogsServiceRequest& req) {
  std::vector<DecodedLogRecord> records;
  for (const auto& rl : req.resource_logs()) {
    auto res = std::make_shared<DecodedResource>();
    if (Status st = ConvertResource(rl.resource(), *res); !st.ok()) return st;
    std::shared_ptr<const DecodedResource> shared = res;
    for (const auto& sl : rl.scope_logs()) {
      const std::string& scope = sl.scope().name();
      for (const auto& rec : sl.log_records()) {
        DecodedLogRecord l;
        l.resource = shared;
        l.scope_name = scope;
        if (Status st = ConvertLogRecord(rec, l); !st.ok()) return st;
        records.push_back(std::move(l));
      }
    }
  }
  return records;
}

inline uint64_t CountPoints(const collector_metrics::ExportMetricsServiceRequest& req) {
  uint64_t n = 0;
  for (const auto& rm : req.resource_metrics()) {
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) {
        using opentelemetry::proto::metrics::v1::Metric;
        switch (m.data_case()) {
          case Metric::kGauge: n += static_cast<uint64_t>(m.gauge().data_points_size()); break;
          case Metric::kSum: n += static_cast<uint64_t>(m.sum().data_points_size()); break;
          case Metric::kHistogram:
            n += static_cast<uint64_t>(m.histogram().data_points_size());
            break;
          case Metric::kExponentialHistogram:
            n += static_cast<uint64_t>(m.exponential_histogram().data_points_size());
            break;
          case Metric::kSummary: n += static_cast<uint64_t>(m.summary().data_points_size()); break;
          case Metric::DATA_NOT_SET: break;
        }
      }
    }
  }
  return n;
}

// Parse + convert, one fresh heap-allocated request per call (the straightforward use).
template <typename Request, typename Convert>
auto ParseAndConvert(std::string_view body, Convert&& convert)
    -> decltype(convert(std::declval<const Request&>())) {
  Request req;
  if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return core::InvalidArgument("protobuf parse failed");
  }
  return convert(req);
}

// Parse + convert with the request on a fresh arena (libprotobuf's recommended fast path).
template <typename Request, typename Convert>
auto ParseAndConvertArena(std::string_view body, Convert&& convert)
    -> decltype(convert(std::declval<const Request&>())) {
  google::protobuf::Arena arena;
  auto* req = google::protobuf::Arena::CreateMessage<Request>(&arena);
  if (!req->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return core::InvalidArgument("protobuf parse failed");
  }
  return convert(*req);
}

}  // namespace chat::bench::pb

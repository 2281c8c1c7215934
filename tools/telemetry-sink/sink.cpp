#include "sink.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <utility>

#include "chat/core/origin.hpp"
#include "chat/telemetry/receiver/otlp_decode.hpp"
#include "chat/telemetry/sdk/otlp.hpp"
#include "span_limits.hpp"

namespace chat::sink {
namespace {

namespace sdk = telemetry::sdk;

enum class Format { kProtobuf, kJson };

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// "application/json; charset=utf-8" → kJson; nullopt for anything OTLP/HTTP does not define.
std::optional<Format> ParseContentType(std::string_view content_type) {
  std::string media = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  if (media == "application/x-protobuf" || media == "application/protobuf") {
    return Format::kProtobuf;
  }
  if (media == "application/json") return Format::kJson;
  return std::nullopt;
}

std::string_view FormatName(Format f) { return f == Format::kProtobuf ? "protobuf" : "json"; }

HttpReply JsonReply(int status, const nlohmann::json& body) {
  return HttpReply{status, "application/json", body.dump(), "", ""};
}

HttpReply ErrorReply(int status, std::string_view code, std::string_view message) {
  return JsonReply(status, {{"error", {{"code", code}, {"message", message}}}});
}

std::mutex& LogMutex() {
  static std::mutex mu;  // serialises whole lines on stderr
  return mu;
}

// Every registry exposes its own drop counter; the sink's registry already has it, and the derived
// copy would wrongly carry source="tempo" (its value is sink_derived_series_dropped instead).
constexpr std::string_view kRegistrySelfMetric = "otel_sdk_metric_series_dropped";

// Removes one family (metadata and samples) from an exposition.
std::string WithoutFamily(const std::string& text, std::string_view family) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    std::string_view name = line;
    if (line.rfind("# ", 0) == 0) {
      size_t sp = line.find(' ', 2);  // "# HELP name ..." / "# TYPE name ..."
      name = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    }
    bool drop =
        name.rfind(family, 0) == 0 && (name.size() == family.size() || name[family.size()] == ' ' ||
                                       name[family.size()] == '{' || name[family.size()] == '_');
    if (!drop) {
      out.append(line);
      out.push_back('\n');
    }
    pos = end + 1;
  }
  return out;
}

constexpr std::string_view kReasons[] = {"malformed", "too_large", "unsupported_media_type",
                                         "unsupported_encoding", "forbidden_origin"};
constexpr std::string_view kLimitWhat[] = {"attribute",       "event",          "link",
                                           "event_attribute", "link_attribute", "log_attribute"};
constexpr OtlpSignal kSignals[] = {OtlpSignal::kTraces, OtlpSignal::kLogs, OtlpSignal::kMetrics};

}  // namespace

std::string_view OtlpSignalName(OtlpSignal s) {
  switch (s) {
    case OtlpSignal::kTraces: return "traces";
    case OtlpSignal::kLogs: return "logs";
    case OtlpSignal::kMetrics: return "metrics";
  }
  return "traces";
}

void LogLine(std::string_view level, std::string_view msg, const nlohmann::json& fields) {
  // Field order of docs/observability.md §7.1: timestamp, level, msg, service, then fields.
  nlohmann::ordered_json line = {
      {"timestamp", FormatRfc3339Nanos(core::SystemClock::Instance().NowUnixNanos())},
      {"level", level},
      {"msg", msg},
      {"service", "telemetry-sink"}};
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(LogMutex());
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

Sink::Sink(SinkConfig config, const core::Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      derived_(config_.max_series_per_family),
      self_(200),
      store_(StoreLimits{config_.max_spans, config_.max_logs, config_.max_age, config_.max_bytes},
             clock,
             [this](Signal signal, EvictReason reason, uint64_t n) {
               const char* r = reason == EvictReason::kCount ? "count"
                               : reason == EvictReason::kAge ? "age"
                                                             : "bytes";
               (signal == Signal::kSpans ? evicted_spans_ : evicted_logs_)
                   .With({r})
                   .Add(static_cast<double>(n));
             }),
      derived_metrics_(
          derived_,
          ServiceGraphOptions{config_.service_graph_wait, config_.service_graph_max_items}, clock) {
  // Tempo's generator labels exemplars traceID and adds its external labels to every series.
  derived_.SetExemplarLabels("traceID", "");
  derived_.SetConstLabels({{"source", "tempo"}});

  received_spans_ =
      self_.AddCounter("sink_received_spans_total", "Spans accepted, by format.", {"format"});
  received_logs_ = self_.AddCounter("sink_received_log_records_total",
                                    "Log records accepted, by format.", {"format"});
  received_points_ =
      self_.AddCounter("sink_received_metric_points_total",
                       "Metric data points accepted (counted, not stored).", {"format"});
  accepted_ = self_.AddCounter("sink_accepted_requests_total", "OTLP requests accepted.",
                               {"signal", "format"});
  rejected_ = self_.AddCounter("sink_rejected_requests_total", "OTLP requests rejected.",
                               {"signal", "reason"});
  evicted_spans_ = self_.AddCounter("sink_evicted_spans_total",
                                    "Spans evicted from the store, by reason.", {"reason"});
  evicted_logs_ = self_.AddCounter("sink_evicted_log_records_total",
                                   "Log records evicted from the store, by reason.", {"reason"});
  for (Format f : {Format::kProtobuf, Format::kJson}) {
    received_spans_.With({FormatName(f)}).Add(0);
    received_logs_.With({FormatName(f)}).Add(0);
    received_points_.With({FormatName(f)}).Add(0);
    for (OtlpSignal s : kSignals) accepted_.With({OtlpSignalName(s), FormatName(f)}).Add(0);
  }
  for (OtlpSignal s : kSignals) {
    for (std::string_view r : kReasons) rejected_.With({OtlpSignalName(s), r}).Add(0);
  }
  for (const char* r : {"count", "age", "bytes"}) {
    evicted_spans_.With({r}).Add(0);
    evicted_logs_.With({r}).Add(0);
  }
  limit_dropped_ = self_.AddCounter(
      "sink_span_limit_dropped_total",
      "Attributes, events and links dropped by the OpenTelemetry span and log-record limits.",
      {"what"});
  for (std::string_view w : kLimitWhat) limit_dropped_.With({w}).Add(0);
  truncated_ = self_.AddCounter("sink_attribute_values_truncated_total",
                                "String values cut to the attribute value length limit.");
  truncated_.Default().Add(0);

  auto stored_spans = self_.AddGauge("sink_stored_spans", "Spans held in the store.");
  auto stored_logs = self_.AddGauge("sink_stored_log_records", "Log records held in the store.");
  auto stored_traces = self_.AddGauge("sink_stored_traces", "Traces held in the store.");
  auto stored_bytes = self_.AddGauge("sink_stored_bytes",
                                     "Approximate heap bytes of the stored spans and log records.");
  auto waiting = self_.AddGauge("sink_service_graph_waiting_edges",
                                "Service-graph halves waiting for their pair.");
  auto series_dropped = self_.AddGauge(
      "sink_derived_series_dropped", "Derived series refused by the per-family cap (cumulative).");
  self_.AddCollectCallback(
      [this, stored_spans, stored_logs, stored_traces, stored_bytes, waiting, series_dropped] {
        stored_bytes.Default().Set(static_cast<double>(store_.bytes()));
        stored_spans.Default().Set(static_cast<double>(store_.span_count()));
        stored_logs.Default().Set(static_cast<double>(store_.log_count()));
        stored_traces.Default().Set(static_cast<double>(store_.trace_count()));
        waiting.Default().Set(static_cast<double>(derived_metrics_.waiting()));
        series_dropped.Default().Set(static_cast<double>(derived_.series_dropped()));
      });

  if (!config_.forward_endpoint.empty()) {
    forwarder_ =
        std::make_unique<Forwarder>(config_.forward_endpoint, config_.forward_queue_size, self_);
  }
}

Sink::~Sink() = default;

HttpReply Sink::Reject(OtlpSignal signal, int status, std::string_view reason,
                       std::string message) {
  rejected_.With({OtlpSignalName(signal), reason}).Add(1);
  std::string_view code = status == 413   ? "resource_exhausted"
                          : status == 403 ? "permission_denied"
                                          : "invalid_argument";
  HttpReply reply = ErrorReply(status, code, message);
  reply.rejected_reason = std::string(reason);
  reply.rejected_detail = std::move(message);
  return reply;
}

namespace {

// The one WARN line of a rejection decided outside the HTTP route layer; the reason is a bounded
// enum, the detail is our own text (never the body).
void LogRejection(OtlpSignal signal, const HttpReply& reply) {
  LogLine("WARN", "otlp request rejected",
          {{"signal", OtlpSignalName(signal)},
           {"reason", reply.rejected_reason},
           {"detail", reply.rejected_detail},
           {"http.response.status_code", reply.status}});
}

}  // namespace

void Sink::CountRejected(OtlpSignal signal, std::string_view reason) {
  rejected_.With({OtlpSignalName(signal), reason}).Add(1);
}

bool Sink::OriginAllowed(std::string_view origin) const {
  return core::OriginAllowed(origin, config_.cors_origins);
}

HttpReply Sink::RejectOrigin(OtlpSignal signal, const std::string& origin) {
  // The Origin is the page's, not a secret; it says who tried.
  HttpReply reply = Reject(signal, 403, "forbidden_origin",
                           "origin " + origin.substr(0, 200) + " may not post telemetry here");
  LogRejection(signal, reply);
  return reply;
}

HttpReply Sink::RejectTooLarge(OtlpSignal signal, size_t declared_length) {
  HttpReply reply =
      Reject(signal, 413, "too_large",
             "body of " + std::to_string(declared_length) + " bytes exceeds the limit of " +
                 std::to_string(config_.max_body_bytes));
  LogRejection(signal, reply);
  return reply;
}

void Sink::CountLimits(const LimitCounts& c) {
  const uint64_t values[] = {c.attributes,       c.events,          c.links,
                             c.event_attributes, c.link_attributes, c.log_attributes};
  for (size_t i = 0; i < std::size(values); ++i) {
    if (values[i] > 0) limit_dropped_.With({kLimitWhat[i]}).Add(static_cast<double>(values[i]));
  }
  if (c.truncated_values > 0) truncated_.Default().Add(static_cast<double>(c.truncated_values));
}

HttpReply Sink::HandleOtlp(OtlpSignal signal, std::string_view content_type,
                           std::string_view content_encoding, std::string body) {
  auto format = ParseContentType(content_type);
  if (!format) {
    return Reject(signal, 415, "unsupported_media_type",
                  "Content-Type must be application/x-protobuf or application/json");
  }
  if (body.size() > config_.max_body_bytes) return RejectTooLarge(signal, body.size());

  std::string encoding = Lower(Trim(content_encoding));
  std::string original_body;
  if (forwarder_) original_body = body;  // forwarded exactly as received
  if (encoding == "gzip") {
    auto plain = sdk::Gunzip(body, config_.max_body_bytes);
    if (!plain.ok()) {
      if (plain.status().code() == core::ErrorCode::kResourceExhausted) {
        return Reject(signal, 413, "too_large",
                      "decompressed body exceeds the limit of " +
                          std::to_string(config_.max_body_bytes) + " bytes");
      }
      return Reject(signal, 400, "malformed", "gzip: " + plain.status().message());
    }
    body = std::move(plain).value();
  } else if (!encoding.empty() && encoding != "identity") {
    return Reject(signal, 415, "unsupported_encoding", "Content-Encoding must be gzip or identity");
  }

  const bool proto = *format == Format::kProtobuf;
  const std::string_view fmt = FormatName(*format);
  switch (signal) {
    case OtlpSignal::kTraces: {
      auto spans = proto ? sdk::DecodeTracesProtobuf(body) : sdk::DecodeTracesJson(body);
      if (!spans.ok()) return Reject(signal, 400, "malformed", spans.status().message());
      LimitCounts counts;
      ApplySpanLimits(*spans, config_.span_limits, counts);
      CountLimits(counts);
      received_spans_.With({fmt}).Add(static_cast<double>(spans->size()));
      derived_metrics_.Observe(*spans);
      store_.AddSpans(std::move(spans).value());
      break;
    }
    case OtlpSignal::kLogs: {
      auto logs = proto ? sdk::DecodeLogsProtobuf(body) : sdk::DecodeLogsJson(body);
      if (!logs.ok()) return Reject(signal, 400, "malformed", logs.status().message());
      LimitCounts counts;
      ApplyLogLimits(*logs, config_.span_limits, counts);
      CountLimits(counts);
      received_logs_.With({fmt}).Add(static_cast<double>(logs->size()));
      store_.AddLogs(std::move(logs).value());
      break;
    }
    case OtlpSignal::kMetrics: {
      auto points = proto ? sdk::CountMetricPointsProtobuf(body) : sdk::CountMetricPointsJson(body);
      if (!points.ok()) return Reject(signal, 400, "malformed", points.status().message());
      received_points_.With({fmt}).Add(static_cast<double>(*points));
      break;
    }
  }
  accepted_.With({OtlpSignalName(signal), fmt}).Add(1);
  if (forwarder_) {
    forwarder_->Enqueue(ForwardRequest{"/v1/" + std::string(OtlpSignalName(signal)),
                                       std::string(content_type), encoding,
                                       std::move(original_body)});
  }
  // An empty Export*ServiceResponse: no bytes in protobuf, "{}" in JSON.
  if (proto) return HttpReply{200, "application/x-protobuf", "", "", ""};
  return HttpReply{200, "application/json", "{}", "", ""};
}

HttpReply Sink::GetTrace(std::string_view trace_id_hex) const {
  auto id = telemetry::TraceId::FromHex(Lower(trace_id_hex));
  if (!id || !id->IsValid()) {
    return ErrorReply(400, "invalid_argument", "trace id must be 32 hex characters");
  }
  auto trace = store_.TraceJson(*id);
  if (!trace) return ErrorReply(404, "not_found", "trace not found");
  return JsonReply(200, *trace);
}

HttpReply Sink::SearchTraces(const QueryParams& params) const {
  auto query = ParseTraceQuery(params, clock_.NowUnixNanos());
  if (!query.ok()) return ErrorReply(400, "invalid_argument", query.status().message());
  return JsonReply(200, store_.SearchTraces(*query));
}

HttpReply Sink::SearchLogs(const QueryParams& params) const {
  auto query = ParseLogQuery(params, clock_.NowUnixNanos());
  if (!query.ok()) return ErrorReply(400, "invalid_argument", query.status().message());
  return JsonReply(200, store_.SearchLogs(*query));
}

HttpReply Sink::Services() const { return JsonReply(200, {{"services", store_.Services()}}); }

HttpReply Sink::Metrics(bool openmetrics) const {
  const auto fmt = openmetrics ? telemetry::ExpositionFormat::kOpenMetrics
                               : telemetry::ExpositionFormat::kPrometheusText;
  std::string text = WithoutFamily(derived_.Expose(fmt), kRegistrySelfMetric);
  if (openmetrics) {
    // Two registries, one exposition: only the final "# EOF" may remain.
    constexpr std::string_view kEof = "# EOF\n";
    if (text.size() >= kEof.size() &&
        std::string_view(text).substr(text.size() - kEof.size()) == kEof) {
      text.resize(text.size() - kEof.size());
    }
  }
  text += self_.Expose(fmt);
  return HttpReply{200,
                   openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                               : "text/plain; version=0.0.4; charset=utf-8",
                   std::move(text), "", ""};
}

void Sink::Housekeeping() {
  store_.EvictExpired();
  derived_metrics_.Expire();
}

void Sink::Shutdown(std::chrono::milliseconds forward_timeout) {
  if (forwarder_) forwarder_->Shutdown(forward_timeout);
}

}  // namespace chat::sink

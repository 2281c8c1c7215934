// The telemetry sink's core, independent of HTTP: OTLP ingest (content type, encoding and size
// checks, decoding, storage, derived metrics, forwarding), the query API as JSON, and /metrics.
// http_server.hpp maps routes onto these calls; tests call them directly as well.
//
// Two metric registries: `derived` holds the Tempo-named trace-derived series (exemplar label
// traceID, constant label source="tempo"); `self` holds the sink's own counters and gauges.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "chat/core/clock.hpp"
#include "chat/telemetry/metrics.hpp"
#include "config.hpp"
#include "derived_metrics.hpp"
#include "forwarder.hpp"
#include "store.hpp"

namespace chat::sink {

struct LimitCounts;  // span_limits.hpp

enum class OtlpSignal { kTraces, kLogs, kMetrics };
std::string_view OtlpSignalName(OtlpSignal s);  // "traces", "logs", "metrics"

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // A rejected OTLP request (counted already): its sink_rejected_requests_total reason and our
  // own description (never the body). The HTTP layer writes the request's one WARN line from
  // them ("otlp request rejected"); empty when the request was accepted.
  std::string rejected_reason;
  std::string rejected_detail;
};

// Writes one JSON log line to stderr ({"timestamp","level","msg","service":"telemetry-sink",...}).
void LogLine(std::string_view level, std::string_view msg, const nlohmann::json& fields = {});

class Sink {
 public:
  Sink(SinkConfig config, const core::Clock& clock);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // `content_encoding` is "" / "identity" / "gzip"; anything else is 415. Logs nothing: a
  // rejection is described in the reply (rejected_reason, rejected_detail).
  HttpReply HandleOtlp(OtlpSignal signal, std::string_view content_type,
                       std::string_view content_encoding, std::string body);
  // Counts, logs and describes a rejection decided before the body was read (Content-Length too
  // big).
  HttpReply RejectTooLarge(OtlpSignal signal, size_t declared_length);
  // Counts (sink_rejected_requests_total) a request refused by the HTTP layer before the sink saw
  // it; `reason` is one of the label values (the HTTP layer logged it already).
  void CountRejected(OtlpSignal signal, std::string_view reason);
  // A POST whose Origin is not in SINK_CORS_ORIGINS: 403, counted as forbidden_origin and logged.
  HttpReply RejectOrigin(OtlpSignal signal, const std::string& origin);
  // True when `origin` may read the API and post OTLP from a page (exact match, or "*").
  bool OriginAllowed(std::string_view origin) const;

  HttpReply GetTrace(std::string_view trace_id_hex) const;
  HttpReply SearchTraces(const QueryParams& params) const;
  HttpReply SearchLogs(const QueryParams& params) const;
  HttpReply Services() const;
  // OpenMetrics (with exemplars and # EOF) or Prometheus text 0.0.4.
  HttpReply Metrics(bool openmetrics) const;

  // Age eviction and service-graph expiry; the server calls it every second.
  void Housekeeping();
  // Drains the forwarder within `forward_timeout` (graceful shutdown).
  void Shutdown(std::chrono::milliseconds forward_timeout);

  const SinkConfig& config() const { return config_; }
  TelemetryStore& store() { return store_; }
  DerivedMetrics& derived() { return derived_metrics_; }
  telemetry::MetricRegistry& self_registry() { return self_; }
  telemetry::MetricRegistry& derived_registry() { return derived_; }

 private:
  HttpReply Reject(OtlpSignal signal, int status, std::string_view reason, std::string message);
  void CountLimits(const LimitCounts& counts);

  const SinkConfig config_;
  const core::Clock& clock_;
  telemetry::MetricRegistry derived_;
  telemetry::MetricRegistry self_;
  TelemetryStore store_;
  DerivedMetrics derived_metrics_;
  std::unique_ptr<Forwarder> forwarder_;

  telemetry::Counter received_spans_;
  telemetry::Counter received_logs_;
  telemetry::Counter received_points_;
  telemetry::Counter accepted_;
  telemetry::Counter rejected_;
  telemetry::Counter evicted_spans_;
  telemetry::Counter evicted_logs_;
  telemetry::Counter limit_dropped_;
  telemetry::Counter truncated_;
};

}  // namespace chat::sink

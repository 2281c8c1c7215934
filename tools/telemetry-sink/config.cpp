#include "config.hpp"

#include <string>
#include <utility>

#include "chat/core/strings.hpp"

namespace chat::sink {

core::Result<SinkConfig> SinkConfig::FromEnv(const core::Env& env) {
  core::EnvReader r(env);
  SinkConfig c;
  c.host = r.String("SINK_HOST", c.host);
  if (c.host.empty()) r.AddProblem("SINK_HOST must not be empty");
  c.port = r.Port("SINK_PORT", c.port);
  c.max_spans = static_cast<size_t>(r.Int("SINK_MAX_SPANS", 200000, 1, 50'000'000));
  c.max_logs = static_cast<size_t>(r.Int("SINK_MAX_LOGS", 200000, 1, 50'000'000));
  c.max_age = std::chrono::seconds(r.Int("SINK_MAX_AGE_SECONDS", 3600, 1, 30L * 24 * 3600));
  c.max_bytes = static_cast<size_t>(
      r.Int("SINK_MAX_BYTES", 256L * 1024 * 1024, int64_t{1024} * 1024, 64L * 1024 * 1024 * 1024));
  c.max_body_bytes = static_cast<size_t>(
      r.Int("SINK_MAX_BODY_BYTES", 8L * 1024 * 1024, 1024, 1024L * 1024 * 1024));
  if (auto old = env.Get("SINK_CORS_ORIGIN"); old && !old->empty()) {
    r.AddProblem("SINK_CORS_ORIGIN was replaced by SINK_CORS_ORIGINS (a comma-separated list)");
  }
  if (auto origins = env.Get("SINK_CORS_ORIGINS"); origins && !origins->empty()) {
    c.cors_origins.clear();
    for (std::string& o : core::SplitComma(*origins)) {
      const bool scheme = o.rfind("http://", 0) == 0 || o.rfind("https://", 0) == 0;
      if (o != "*" &&
          (!scheme || o.back() == '/' || o.find_first_of(" \t\r\n,") != std::string::npos)) {
        r.AddProblem("SINK_CORS_ORIGINS entry \"" + o +
                     "\" is not an origin (scheme://host[:port], or *)");
      }
      c.cors_origins.push_back(std::move(o));
    }
  }
  // Span limits: the OpenTelemetry variables, with the general ones as fallback.
  const int64_t count_default = r.Int("OTEL_ATTRIBUTE_COUNT_LIMIT", 128, 0, 100'000);
  const int64_t length_default = r.Int("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", 65536, 0, 1 << 30);
  SpanLimits& l = c.span_limits;
  l.attribute_count =
      static_cast<size_t>(r.Int("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", count_default, 0, 100'000));
  l.attribute_value_length = static_cast<size_t>(
      r.Int("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", length_default, 0, 1 << 30));
  l.event_count = static_cast<size_t>(r.Int("OTEL_SPAN_EVENT_COUNT_LIMIT", 128, 0, 100'000));
  l.link_count = static_cast<size_t>(r.Int("OTEL_SPAN_LINK_COUNT_LIMIT", 128, 0, 100'000));
  l.event_attribute_count =
      static_cast<size_t>(r.Int("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", 128, 0, 100'000));
  l.link_attribute_count =
      static_cast<size_t>(r.Int("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", 128, 0, 100'000));
  l.log_attribute_count =
      static_cast<size_t>(r.Int("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", count_default, 0, 100'000));
  l.log_attribute_value_length = static_cast<size_t>(
      r.Int("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", length_default, 0, 1 << 30));
  c.service_graph_wait =
      std::chrono::seconds(r.Int("SINK_SERVICE_GRAPH_WAIT_SECONDS", 10, 1, 3600));
  c.service_graph_max_items =
      static_cast<size_t>(r.Int("SINK_SERVICE_GRAPH_MAX_ITEMS", 10000, 1, 10'000'000));
  c.max_series_per_family =
      static_cast<size_t>(r.Int("SINK_MAX_SERIES_PER_FAMILY", 2000, 10, 1'000'000));
  c.forward_endpoint = r.Url("SINK_FORWARD_OTLP_ENDPOINT", "");
  if (!c.forward_endpoint.empty() && c.forward_endpoint.rfind("http", 0) != 0) {
    r.AddProblem("SINK_FORWARD_OTLP_ENDPOINT must be an http:// or https:// URL");
  }
  while (!c.forward_endpoint.empty() && c.forward_endpoint.back() == '/') {
    c.forward_endpoint.pop_back();
  }
  c.forward_queue_size = static_cast<size_t>(r.Int("SINK_FORWARD_QUEUE_SIZE", 1000, 1, 1'000'000));
  auto status = r.Finish();
  if (!status.ok()) return status;
  return c;
}

}  // namespace chat::sink

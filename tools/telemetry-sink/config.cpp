#include "config.hpp"

#include <string>

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
  c.max_body_bytes = static_cast<size_t>(
      r.Int("SINK_MAX_BODY_BYTES", 8L * 1024 * 1024, 1024, 1024L * 1024 * 1024));
  c.cors_origin = r.String("SINK_CORS_ORIGIN", c.cors_origin);
  if (c.cors_origin.find_first_of("\r\n") != std::string::npos) {
    r.AddProblem("SINK_CORS_ORIGIN must be a single header value");
  }
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

// Runs the real telemetry-sink binary for end-to-end tests: SINK_PORT=0, the bound port read from
// its first stdout line ({"event":"listening","port":N}), and small helpers over its JSON query
// API. The process is stopped with SIGTERM in Stop() or the destructor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "chat/core/result.hpp"

namespace chat::testing {

// Where CMake puts the binary; CHAT_BINARY_DIR is defined for every chat::testing user.
inline std::string DefaultSinkBinary() {
#ifdef CHAT_BINARY_DIR
  return CHAT_BINARY_DIR "/tools/telemetry-sink/telemetry-sink";
#else
  return "telemetry-sink";
#endif
}

struct SinkProcessOptions {
  std::string binary = DefaultSinkBinary();
  std::map<std::string, std::string> env;  // extra SINK_* settings (SINK_PORT is always 0)
  std::chrono::milliseconds start_timeout{10000};
};

class SinkProcess {
 public:
  SinkProcess() = default;
  ~SinkProcess();
  SinkProcess(const SinkProcess&) = delete;
  SinkProcess& operator=(const SinkProcess&) = delete;

  // Starts the binary and waits for its listening line.
  core::Status Start(const SinkProcessOptions& options = {});
  // SIGTERM, then waits (up to `timeout`, else SIGKILL); returns the exit code (-1 if killed or
  // not running).
  int Stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // "http://127.0.0.1:<port>" — what services use as OTEL_EXPORTER_OTLP_ENDPOINT.
  std::string BaseUrl() const;

  // GET /api/traces/{id}: the trace JSON, NotFound on 404.
  core::Result<nlohmann::json> GetTrace(const std::string& trace_id) const;
  // GET /api/traces?<query> ("service=x&status=error").
  core::Result<nlohmann::json> SearchTraces(const std::string& query = "") const;
  // GET /api/logs?<query> ("trace_id=...&level=INFO").
  core::Result<nlohmann::json> Logs(const std::string& query = "") const;
  // GET /metrics (Prometheus text, or OpenMetrics when asked).
  core::Result<std::string> Metrics(bool openmetrics = false) const;
  // Polls GetTrace until `predicate` accepts the trace or `timeout` passes; returns the last
  // trace seen (NotFound / DeadlineExceeded otherwise).
  core::Result<nlohmann::json> WaitForTrace(
      const std::string& trace_id, const std::function<bool(const nlohmann::json&)>& predicate,
      std::chrono::milliseconds timeout) const;

  struct HttpResult {
    long status = 0;
    std::string body;
    std::string content_type;
  };
  // Plain HTTP to the sink (GET when `body` is empty and method is GET).
  core::Result<HttpResult> Http(const std::string& method, const std::string& path,
                                const std::string& body = "",
                                const std::map<std::string, std::string>& headers = {}) const;

 private:
  core::Result<nlohmann::json> GetJson(const std::string& path) const;

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  int stdout_fd_ = -1;
};

}  // namespace chat::testing

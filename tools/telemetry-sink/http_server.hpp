// HTTP front of the telemetry sink (cpp-httplib): OTLP/HTTP receiver with CORS, the JSON query
// API, /metrics, health endpoints and the explorer page. CORS answers only the origins of
// SINK_CORS_ORIGINS (the web client's, by default): any other page in the user's browser can
// neither read traces and logs nor post spans (issue 11 §8). Owns the listener thread and a
// housekeeping thread (age eviction, service-graph expiry once a second).
//
// Every route runs on the shared HttpRouter (server label "telemetry-sink"): body limits, the
// internal-error body of a throwing handler, one log line per request (an OTLP rejection is the
// WARN "otlp request rejected"; a refused query is DEBUG, the explorer and tests poll for traces
// that have not arrived yet). Untraced (ServerOptions::trace = false), as before the router: the
// sink has no tracer, and a span per OTLP ingest exported into the sink itself would loop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "chat/core/result.hpp"
#include "chat/telemetry/sdk/http_listener.hpp"
#include "chat/telemetry/sdk/http_router.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "sink.hpp"

namespace httplib {
class Server;
}

namespace chat::sink {

// The explorer page served at "/" (ui.cpp).
extern const char* const kExplorerHtml;

class SinkServer {
 public:
  explicit SinkServer(Sink& sink);
  ~SinkServer();
  SinkServer(const SinkServer&) = delete;
  SinkServer& operator=(const SinkServer&) = delete;

  // Binds host:port (port 0 = any free port) and starts serving; returns the bound port.
  core::Result<uint16_t> Start();
  // Stops accepting, finishes in-flight requests, joins the threads. Idempotent.
  void Stop();

 private:
  void Routes();

  Sink& sink_;
  telemetry::Logger logger_;        // JSON lines on stderr, service telemetry-sink; no OTLP export
  telemetry::Telemetry telemetry_;  // no tracer; metrics in the sink's self registry
  std::unique_ptr<httplib::Server> server_;
  // Only the OTLP routes take a body, and gzip, which the sink inflates with its own bound.
  std::unique_ptr<telemetry::sdk::HttpRouter> router_;
  telemetry::sdk::HttpListener listener_;
  std::thread housekeeper_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> ready_{false};
};

}  // namespace chat::sink

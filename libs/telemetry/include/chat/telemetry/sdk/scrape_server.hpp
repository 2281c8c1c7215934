// ScrapeServer: the HTTP endpoint of a standalone exporter (tools/nats-exporter,
// tools/pg-exporter) — GET /metrics answers with what the exporter's scrape callback returns
// (Prometheus text 0.0.4, produced per request), /healthz with "ok", and / with a short landing
// text when one is given. Services use AdminServer instead (their own registry, /readyz). The
// accept loop runs on an HttpListener, so Start/Stop avoid cpp-httplib 0.11's races. The routes
// run on the HttpRouter (server label: the exporter's name; no spans, the exporters have no
// tracer): request bodies and Content-Encoding are refused unread, a throwing scrape answers the
// internal-error body and logs one ERROR line; the refusal counter is appended to the exporter's
// own /metrics text.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "chat/core/status.hpp"
#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/sdk/http_listener.hpp"
#include "chat/telemetry/sdk/http_router.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace httplib {
class Server;
}

namespace chat::telemetry::sdk {

struct ScrapeServerOptions {
  std::string name;                // the exporter's name, in error messages and refusal logs
  std::string host = "127.0.0.1";  // loopback unless configured
  int port = 0;                    // 0: the kernel picks a free port; read it back with port()
  std::string landing;             // body of GET /; empty: no / route
};

class ScrapeServer {
 public:
  // Called on the server thread for every GET /metrics.
  using Scrape = std::function<std::string()>;

  ScrapeServer(ScrapeServerOptions options, Scrape scrape);
  ~ScrapeServer();  // Stop()
  ScrapeServer(const ScrapeServer&) = delete;
  ScrapeServer& operator=(const ScrapeServer&) = delete;

  // kUnavailable when the address cannot be bound (no SO_REUSEPORT: a second exporter on the
  // same port fails), kFailedPrecondition when already started.
  core::Status Start();
  // Stops accepting, finishes the in-flight request and joins the thread. Idempotent.
  void Stop();
  int port() const { return bound_port_.load(); }

 private:
  void Routes();

  ScrapeServerOptions options_;
  Scrape scrape_;
  // http_server_rejected_requests_total{server=<name>}, appended to every /metrics answer.
  MetricRegistry own_metrics_;
  Logger logger_;  // JSON lines on stderr, service <name>
  Telemetry telemetry_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<HttpRouter> router_;  // no route takes a body
  HttpListener listener_;
  bool started_ = false;
  std::atomic<int> bound_port_{0};
};

}  // namespace chat::telemetry::sdk

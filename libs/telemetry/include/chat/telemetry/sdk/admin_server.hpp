// The admin HTTP listener every service embeds: /metrics (OpenMetrics or Prometheus text, chosen
// by the Accept header), /healthz (liveness: 200 while the process serves) and /readyz (200 only
// when every registered readiness check passes, else 503 naming the failing checks).
// It runs on its own thread, separate from the NATS callbacks, so a scrape never waits on a
// handler. Owned by main (runtime::ServiceMain); tests start one on port 0. The routes run on the
// HttpRouter (server label "admin"): request bodies and Content-Encoding are refused before they
// are read, a throwing readiness check answers the internal-error body, and each request has one
// log line (DEBUG when served or not ready, so a scrape or probe is silent at INFO). No spans: a
// span per scrape or kubelet poll would only be noise in the traces.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chat/core/status.hpp"
#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/sdk/http_listener.hpp"
#include "chat/telemetry/sdk/http_router.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace httplib {
class Server;
}

namespace chat::telemetry::sdk {

struct AdminServerOptions {
  // Loopback unless configured (OTEL_EXPORTER_PROMETHEUS_HOST): /metrics and /readyz describe
  // the process and are for the local scraper; a deployment that scrapes over the network
  // (compose, k8s) sets the host explicitly.
  std::string host = "127.0.0.1";
  int port = 0;  // 0: the kernel picks a free port; read it back with AdminServer::port()
  Logger* logger = nullptr;  // refused requests are logged here (null: JSON lines on stderr)
};

// Content types of the two exposition formats.
inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// True when an Accept header asks for OpenMetrics (Prometheus sends
// "application/openmetrics-text;version=1.0.0,...;q=0.5,text/plain;version=0.0.4;q=...").
bool AcceptsOpenMetrics(std::string_view accept_header);

class AdminServer {
 public:
  // A readiness check returns OK when its dependency is usable; the message of a failing
  // status appears in the /readyz body, so it must hold no secrets.
  using ReadinessCheck = std::function<core::Status()>;

  // `registry` must outlive the server.
  AdminServer(MetricRegistry& registry, AdminServerOptions options = {});
  ~AdminServer();  // Stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Thread-safe; may be called before or after Start(). Checks run on the server thread for
  // every /readyz request, in registration order, so they must be quick and non-blocking.
  void AddReadinessCheck(std::string name, ReadinessCheck check);

  // Binds and starts serving. Returns kUnavailable when the address cannot be bound (port in
  // use, bad host) and kFailedPrecondition when already started; never throws or aborts.
  core::Status Start();
  // Stops accepting, finishes the in-flight request and joins the thread. Idempotent.
  void Stop();

  // The bound port (the picked one when options.port was 0); 0 before a successful Start().
  int port() const { return bound_port_.load(); }

 private:
  struct NamedCheck {
    std::string name;
    ReadinessCheck check;
  };

  void Routes();

  MetricRegistry& registry_;
  AdminServerOptions options_;
  std::unique_ptr<Logger> own_logger_;  // when options.logger is null
  Telemetry telemetry_;                 // no tracer: the routes are untraced
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<HttpRouter> router_;  // no route takes a body
  HttpListener listener_;
  bool started_ = false;
  std::atomic<int> bound_port_{0};
  std::mutex checks_mu_;
  std::vector<NamedCheck> checks_;
};

}  // namespace chat::telemetry::sdk

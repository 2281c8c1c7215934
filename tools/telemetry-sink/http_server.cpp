#include "http_server.hpp"

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include "chat/core/clock.hpp"
#include "chat/telemetry/sdk/admin_server.hpp"

namespace chat::sink {
namespace {

namespace sdk = telemetry::sdk;

void Send(httplib::Response& res, const HttpReply& reply) {
  res.status = reply.status;
  res.set_content(reply.body, reply.content_type);
}

// A query answer; a refused query (bad id or parameters, unknown trace) logs at DEBUG.
void SendQuery(sdk::HttpExchange& ex, const HttpReply& reply) {
  Send(ex.res(), reply);
  if (reply.status >= 400 && reply.status < 500) {
    ex.Debug("sink query refused", {{"http.response.status_code", reply.status}});
  }
}

std::optional<OtlpSignal> SignalForPath(const std::string& path) {
  if (path == "/v1/traces") return OtlpSignal::kTraces;
  if (path == "/v1/logs") return OtlpSignal::kLogs;
  if (path == "/v1/metrics") return OtlpSignal::kMetrics;
  return std::nullopt;
}

// The guard's reasons as sink_rejected_requests_total reasons.
std::string_view SinkReason(std::string_view guard_reason) {
  namespace sdk = telemetry::sdk;
  if (guard_reason == sdk::kRefusedTooLarge) return "too_large";
  if (guard_reason == sdk::kRefusedEncoding) return "unsupported_encoding";
  if (guard_reason == sdk::kRefusedMediaType) return "unsupported_media_type";
  return "malformed";
}

}  // namespace

// Every process of a stack keeps one keep-alive exporter connection open here, and cpp-httplib
// serves one connection per pool thread (8 by default, 5 s idle keep-alive): a short-lived
// client (chat-cli) then queued behind the services' idle connections past its 3 s exit flush
// and lost its spans. A pool wider than a local stack's processes, and idle connections closed
// after 1 s, keep a new exporter from waiting.
constexpr size_t kServerThreads = 48;

SinkServer::SinkServer(Sink& sink)
    : sink_(sink),
      logger_("telemetry-sink", telemetry::LogLevel::kInfo, nullptr, core::SystemClock::Instance()),
      server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server_->set_keep_alive_timeout(1);
  telemetry_.logger = &logger_;
  telemetry_.metrics = &sink.self_registry();
  sdk::HttpRouter::ServerOptions options;
  options.server_label = "telemetry-sink";
  options.trace = false;  // never trace the sink's own requests into itself
  router_ = std::make_unique<sdk::HttpRouter>(*server_, telemetry_, core::SystemClock::Instance(),
                                              std::move(options));
  Routes();
}

SinkServer::~SinkServer() { Stop(); }

void SinkServer::Routes() {
  httplib::Server& svr = *server_;
  sdk::HttpRouter& router = *router_;
  const SinkConfig& cfg = sink_.config();

  // Refusals of OTLP requests are also counted per signal, as the sink's own are.
  router.guard().set_observer([this](const httplib::Request& req, std::string_view reason) {
    if (auto signal = SignalForPath(req.path); signal && req.method == "POST") {
      sink_.CountRejected(*signal, SinkReason(reason));
    }
  });
  router.Install([this](const httplib::Request& req, httplib::Response& res) {
    // A page of another origin may not post spans (the browser sends Origin on every POST;
    // services and collectors send none). Refused before the body is read.
    if (req.method != "POST" || !req.has_header("Origin")) return false;
    auto signal = SignalForPath(req.path);
    if (!signal) return false;
    std::string origin = req.get_header_value("Origin");
    if (sink_.OriginAllowed(origin)) return false;
    HttpReply reply = sink_.RejectOrigin(*signal, origin);
    sdk::HttpBodyGuard::AnswerAndClose(res, reply.status, reply.body, reply.content_type);
    return true;
  });

  // CORS: the allowed origins only, echoed (with Vary: Origin); nothing for any other page.
  // Post-routing, so refusals of the guard and 404s carry it too.
  svr.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    std::string origin = req.get_header_value("Origin");
    if (!sink_.OriginAllowed(origin)) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Expose-Headers", "Content-Type");
  });

  router.Options(R"(/.*)", "*", [this](sdk::HttpExchange& ex) {
    if (!sink_.OriginAllowed(ex.req().get_header_value("Origin"))) {
      ex.res().status = 403;
      ex.res().set_content(
          sdk::HttpErrorBody(core::ErrorCode::kPermissionDenied, "origin not allowed"),
          "application/json");
      return;
    }
    ex.res().status = 204;
    ex.res().set_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS");
    ex.res().set_header("Access-Control-Allow-Headers",
                        "Content-Type, Content-Encoding, traceparent, tracestate");
    ex.res().set_header("Access-Control-Max-Age", "86400");
  });

  auto otlp = [this](OtlpSignal signal) {
    return [this, signal](sdk::HttpExchange& ex) {
      HttpReply reply =
          sink_.HandleOtlp(signal, ex.req().get_header_value("Content-Type"),
                           sdk::HttpBodyGuard::OriginalContentEncoding(ex.req()), ex.req().body);
      if (!reply.rejected_reason.empty()) {
        // The request's one line: the reason is a bounded enum, the detail is our own
        // decoder's text (never the body).
        ex.Warn("otlp request rejected", {{"signal", std::string(OtlpSignalName(signal))},
                                          {"reason", reply.rejected_reason},
                                          {"detail", reply.rejected_detail},
                                          {"http.response.status_code", reply.status}});
      }
      Send(ex.res(), reply);
    };
  };
  // The raw (possibly gzip) body is bounded by SINK_MAX_BODY_BYTES while it is read, chunked
  // or not; HandleOtlp inflates it with the same bound.
  sdk::HttpRouter::RouteOptions otlp_route;
  otlp_route.body = sdk::BodyPolicy{cfg.max_body_bytes, /*accept_gzip=*/true};
  router.Post("/v1/traces", "/v1/traces", otlp(OtlpSignal::kTraces), otlp_route);
  router.Post("/v1/logs", "/v1/logs", otlp(OtlpSignal::kLogs), otlp_route);
  router.Post("/v1/metrics", "/v1/metrics", otlp(OtlpSignal::kMetrics), otlp_route);

  router.Get(R"(/api/traces/([^/]+))", "/api/traces/{trace_id}", [this](sdk::HttpExchange& ex) {
    SendQuery(ex, sink_.GetTrace(ex.req().matches[1].str()));
  });
  router.Get("/api/traces", "/api/traces",
             [this](sdk::HttpExchange& ex) { SendQuery(ex, sink_.SearchTraces(ex.req().params)); });
  router.Get("/api/logs", "/api/logs",
             [this](sdk::HttpExchange& ex) { SendQuery(ex, sink_.SearchLogs(ex.req().params)); });
  router.Get("/api/services", "/api/services",
             [this](sdk::HttpExchange& ex) { Send(ex.res(), sink_.Services()); });
  router.Get("/metrics", "/metrics", [this](sdk::HttpExchange& ex) {
    Send(ex.res(), sink_.Metrics(sdk::AcceptsOpenMetrics(ex.req().get_header_value("Accept"))));
  });
  router.Get("/healthz", "/healthz", [](sdk::HttpExchange& ex) {
    ex.res().set_content(R"({"status":"ok"})", "application/json");
  });
  router.Get("/readyz", "/readyz", [this](sdk::HttpExchange& ex) {
    bool ready = ready_.load();
    ex.res().status = ready ? 200 : 503;
    ex.res().set_content(ready ? R"({"status":"ready"})" : R"({"status":"starting"})",
                         "application/json");
    if (!ready) ex.Debug("sink not ready");  // a probe state, not a server failure
  });
  router.Get("/", "/", [](sdk::HttpExchange& ex) {
    ex.res().set_content(kExplorerHtml, "text/html; charset=utf-8");
  });
}

core::Result<uint16_t> SinkServer::Start() {
  const SinkConfig& cfg = sink_.config();
  int port = 0;
  if (cfg.port == 0) {
    port = server_->bind_to_any_port(cfg.host);
  } else if (server_->bind_to_port(cfg.host, cfg.port)) {
    port = cfg.port;
  } else {
    port = -1;
  }
  if (port <= 0) {
    return core::Unavailable("cannot listen on " + cfg.host + ":" + std::to_string(cfg.port));
  }
  housekeeper_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; })) {
      lock.unlock();
      sink_.Housekeeping();
      lock.lock();
    }
  });
  if (core::Status s = listener_.Start(*server_, cfg.host, port); !s.ok()) {
    Stop();
    return s;
  }
  ready_ = true;
  return static_cast<uint16_t>(port);
}

void SinkServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  ready_ = false;
  listener_.Stop();
  if (housekeeper_.joinable()) housekeeper_.join();
}

}  // namespace chat::sink

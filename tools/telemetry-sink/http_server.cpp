#include "http_server.hpp"

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace chat::sink {
namespace {

void Send(httplib::Response& res, const HttpReply& reply) {
  res.status = reply.status;
  res.set_content(reply.body, reply.content_type.c_str());
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
      guard_("telemetry-sink", sink.self_registry(), nullptr),
      server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server_->set_keep_alive_timeout(1);
  Routes();
}

SinkServer::~SinkServer() { Stop(); }

void SinkServer::Routes() {
  httplib::Server& svr = *server_;
  const SinkConfig& cfg = sink_.config();

  // Refusals of OTLP requests are also counted per signal, as the sink's own are.
  guard_.set_observer([this](const httplib::Request& req, std::string_view reason) {
    if (auto signal = SignalForPath(req.path); signal && req.method == "POST") {
      sink_.CountRejected(*signal, SinkReason(reason));
    }
  });
  guard_.Install(svr, [this](const httplib::Request& req, httplib::Response& res) {
    // A page of another origin may not post spans (the browser sends Origin on every POST;
    // services and collectors send none). Refused before the body is read.
    if (req.method != "POST" || !req.has_header("Origin")) return false;
    auto signal = SignalForPath(req.path);
    if (!signal) return false;
    std::string origin = req.get_header_value("Origin");
    if (sink_.OriginAllowed(origin)) return false;
    HttpReply reply = sink_.RejectOrigin(*signal, origin);
    telemetry::sdk::HttpBodyGuard::AnswerAndClose(res, reply.status, reply.body,
                                                  reply.content_type);
    return true;
  });

  // CORS: the allowed origins only, echoed (with Vary: Origin); nothing for any other page.
  svr.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    std::string origin = req.get_header_value("Origin");
    if (!sink_.OriginAllowed(origin)) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Expose-Headers", "Content-Type");
  });

  svr.Options(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    if (!sink_.OriginAllowed(req.get_header_value("Origin"))) {
      res.status = 403;
      res.set_content(R"({"error":{"code":"permission_denied","message":"origin not allowed"}})",
                      "application/json");
      return;
    }
    res.status = 204;
    res.set_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS");
    res.set_header("Access-Control-Allow-Headers",
                   "Content-Type, Content-Encoding, traceparent, tracestate");
    res.set_header("Access-Control-Max-Age", "86400");
  });

  auto otlp = [this](OtlpSignal signal) {
    return [this, signal](const httplib::Request& req, httplib::Response& res) {
      Send(res, sink_.HandleOtlp(signal, req.get_header_value("Content-Type"),
                                 telemetry::sdk::HttpBodyGuard::OriginalContentEncoding(req),
                                 req.body));
    };
  };
  // The raw (possibly gzip) body is bounded by SINK_MAX_BODY_BYTES while it is read, chunked
  // or not; HandleOtlp inflates it with the same bound.
  const telemetry::sdk::BodyPolicy otlp_policy{cfg.max_body_bytes, /*accept_gzip=*/true};
  guard_.Post(svr, "/v1/traces", otlp_policy, otlp(OtlpSignal::kTraces));
  guard_.Post(svr, "/v1/logs", otlp_policy, otlp(OtlpSignal::kLogs));
  guard_.Post(svr, "/v1/metrics", otlp_policy, otlp(OtlpSignal::kMetrics));

  svr.Get(R"(/api/traces/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    Send(res, sink_.GetTrace(req.matches[1].str()));
  });
  svr.Get("/api/traces", [this](const httplib::Request& req, httplib::Response& res) {
    Send(res, sink_.SearchTraces(req.params));
  });
  svr.Get("/api/logs", [this](const httplib::Request& req, httplib::Response& res) {
    Send(res, sink_.SearchLogs(req.params));
  });
  svr.Get("/api/services", [this](const httplib::Request&, httplib::Response& res) {
    Send(res, sink_.Services());
  });
  svr.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    bool om = req.get_header_value("Accept").find("application/openmetrics-text") !=
              std::string::npos;
    Send(res, sink_.Metrics(om));
  });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  svr.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    bool ready = ready_.load();
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "{\"status\":\"ready\"}" : "{\"status\":\"starting\"}",
                    "application/json");
  });
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kExplorerHtml, "text/html; charset=utf-8");
  });
}

core::Result<uint16_t> SinkServer::Start() {
  const SinkConfig& cfg = sink_.config();
  int port = 0;
  if (cfg.port == 0) {
    port = server_->bind_to_any_port(cfg.host.c_str());
  } else if (server_->bind_to_port(cfg.host.c_str(), cfg.port)) {
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

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

// cpp-httplib inflates gzip request bodies itself, with no bound on the inflated size. We take
// the header away before the body is read so the sink inflates with sdk::Gunzip and its limit.
// Routing hands the handler a const Request, but the object itself is a mutable local of the
// connection loop, so writing through const_cast is defined behaviour.
constexpr const char* kOriginalEncoding = "X-Sink-Content-Encoding";

}  // namespace

// Every process of a stack keeps one keep-alive exporter connection open here, and cpp-httplib
// serves one connection per pool thread (8 by default, 5 s idle keep-alive): a short-lived
// client (chat-cli) then queued behind the services' idle connections past its 3 s exit flush
// and lost its spans. A pool wider than a local stack's processes, and idle connections closed
// after 1 s, keep a new exporter from waiting.
constexpr size_t kServerThreads = 48;

SinkServer::SinkServer(Sink& sink) : sink_(sink), server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server_->set_keep_alive_timeout(1);
  Routes();
}

SinkServer::~SinkServer() { Stop(); }

void SinkServer::Routes() {
  httplib::Server& svr = *server_;
  const SinkConfig& cfg = sink_.config();
  svr.set_payload_max_length(cfg.max_body_bytes);
  svr.set_default_headers({{"Access-Control-Allow-Origin", cfg.cors_origin},
                           {"Access-Control-Expose-Headers", "Content-Type"}});

  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "POST") return httplib::Server::HandlerResponse::Unhandled;
    auto signal = SignalForPath(req.path);
    if (!signal) return httplib::Server::HandlerResponse::Unhandled;
    auto& headers = const_cast<httplib::Request&>(req).headers;  // see kOriginalEncoding
    auto enc = headers.find("Content-Encoding");
    if (enc != headers.end()) {
      std::string value = enc->second;
      headers.erase(enc);
      headers.emplace(kOriginalEncoding, std::move(value));
    }
    if (req.has_header("Content-Length")) {
      const std::string& text = req.get_header_value("Content-Length");
      char* end = nullptr;
      unsigned long long length = std::strtoull(text.c_str(), &end, 10);
      if (end != text.c_str() && length > sink_.config().max_body_bytes) {
        Send(res, sink_.RejectTooLarge(*signal, static_cast<size_t>(length)));
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  svr.Options(R"(/.*)", [](const httplib::Request&, httplib::Response& res) {
    res.status = 204;
    res.set_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS");
    res.set_header("Access-Control-Allow-Headers",
                   "Content-Type, Content-Encoding, traceparent, tracestate");
    res.set_header("Access-Control-Max-Age", "86400");
  });

  auto otlp = [this](OtlpSignal signal) {
    return [this, signal](const httplib::Request& req, httplib::Response& res) {
      Send(res, sink_.HandleOtlp(signal, req.get_header_value("Content-Type"),
                                 req.get_header_value(kOriginalEncoding), req.body));
    };
  };
  svr.Post("/v1/traces", otlp(OtlpSignal::kTraces));
  svr.Post("/v1/logs", otlp(OtlpSignal::kLogs));
  svr.Post("/v1/metrics", otlp(OtlpSignal::kMetrics));

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

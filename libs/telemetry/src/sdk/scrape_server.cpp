// Scrape server of the standalone exporters: /metrics from a callback, /healthz, optional /.
#include "chat/telemetry/sdk/scrape_server.hpp"

#include <httplib.h>

#include <string_view>
#include <utility>

#include "chat/telemetry/sdk/admin_server.hpp"

namespace chat::telemetry::sdk {

ScrapeServer::ScrapeServer(ScrapeServerOptions options, Scrape scrape)
    : options_(std::move(options)),
      scrape_(std::move(scrape)),
      guard_(options_.name.empty() ? std::string("scrape") : options_.name, own_metrics_, nullptr) {}

ScrapeServer::~ScrapeServer() { Stop(); }

core::Status ScrapeServer::Start() {
  if (server_) return core::FailedPrecondition(options_.name + ": already started");
  auto server = std::make_unique<httplib::Server>();
  guard_.Install(*server);
  server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::string text = scrape_();
    if (!text.empty() && text.back() != '\n') text.push_back('\n');
    // Only the refusal counter: the exporter's own text may already carry the registry
    // self-metric (otel_sdk_metric_series_dropped_total), and a family must appear once.
    const std::string own = own_metrics_.Expose(ExpositionFormat::kPrometheusText);
    for (size_t pos = 0; pos < own.size();) {
      size_t end = own.find('\n', pos);
      if (end == std::string::npos) end = own.size();
      std::string_view line(own.data() + pos, end - pos);
      if (line.find("http_server_rejected_requests_total") != std::string_view::npos) {
        text.append(line);
        text.push_back('\n');
      }
      pos = end + 1;
    }
    res.set_content(std::move(text), std::string(kPrometheusTextContentType).c_str());
  });
  server->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  if (!options_.landing.empty()) {
    server->Get("/", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(options_.landing, "text/plain; charset=utf-8");
    });
  }
  CHAT_ASSIGN_OR_RETURN(int port, BindExclusive(*server, options_.host, options_.port,
                                                options_.name));
  httplib::Server* raw = server.get();
  server_ = std::move(server);
  bound_port_.store(port);
  if (core::Status s = listener_.Start(*raw, options_.host, port); !s.ok()) {
    Stop();
    return core::Internal(options_.name + ": listener thread did not start");
  }
  return core::Status::Ok();
}

void ScrapeServer::Stop() {
  if (!server_) return;
  listener_.Stop();
  server_.reset();
  bound_port_.store(0);
}

}  // namespace chat::telemetry::sdk

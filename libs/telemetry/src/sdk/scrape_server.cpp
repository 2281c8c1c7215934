// Scrape server of the standalone exporters: /metrics from a callback, /healthz, optional /.
#include "chat/telemetry/sdk/scrape_server.hpp"

#include <httplib.h>

#include <string_view>
#include <utility>

#include "chat/core/clock.hpp"
#include "chat/telemetry/sdk/admin_server.hpp"

namespace chat::telemetry::sdk {

namespace {

std::string Label(const ScrapeServerOptions& options) {
  return options.name.empty() ? std::string("scrape") : options.name;
}

}  // namespace

ScrapeServer::ScrapeServer(ScrapeServerOptions options, Scrape scrape)
    : options_(std::move(options)),
      scrape_(std::move(scrape)),
      logger_(Label(options_), LogLevel::kInfo, nullptr, core::SystemClock::Instance()),
      server_(std::make_unique<httplib::Server>()) {
  telemetry_.logger = &logger_;
  telemetry_.metrics = &own_metrics_;
  HttpRouter::ServerOptions router_options;
  router_options.server_label = Label(options_);
  router_options.trace = false;
  router_ = std::make_unique<HttpRouter>(*server_, telemetry_, core::SystemClock::Instance(),
                                         std::move(router_options));
  Routes();
}

ScrapeServer::~ScrapeServer() { Stop(); }

void ScrapeServer::Routes() {
  router_->Install();
  router_->Get("/metrics", "/metrics", [this](HttpExchange& ex) {
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
    ex.res().set_content(text, std::string(kPrometheusTextContentType));
  });
  router_->Get("/healthz", "/healthz",
               [](HttpExchange& ex) { ex.res().set_content("ok\n", "text/plain; charset=utf-8"); });
  if (!options_.landing.empty()) {
    router_->Get("/", "/", [this](HttpExchange& ex) {
      ex.res().set_content(options_.landing, "text/plain; charset=utf-8");
    });
  }
}

core::Status ScrapeServer::Start() {
  if (started_) return core::FailedPrecondition(options_.name + ": already started");
  CHAT_ASSIGN_OR_RETURN(int port,
                        BindExclusive(*server_, options_.host, options_.port, options_.name));
  started_ = true;
  bound_port_.store(port);
  if (core::Status s = listener_.Start(*server_, options_.host, port); !s.ok()) {
    Stop();
    return core::Internal(options_.name + ": listener thread did not start");
  }
  return core::Status::Ok();
}

void ScrapeServer::Stop() {
  if (!started_) return;
  listener_.Stop();
  bound_port_.store(0);
}

}  // namespace chat::telemetry::sdk

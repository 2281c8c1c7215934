// Admin HTTP server: cpp-httplib on a dedicated thread, serving /metrics, /healthz, /readyz.
#include "chat/telemetry/sdk/admin_server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "chat/core/clock.hpp"

namespace chat::telemetry::sdk {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A media range is refused with q=0 (RFC 9110 §12.4.2); any other q counts as accepted.
bool HasZeroQuality(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      std::string_view q = Trim(param.substr(2));
      bool zero = !q.empty();
      for (char c : q) {
        if (c != '0' && c != '.') zero = false;
      }
      return zero;
    }
  }
  return false;
}

}  // namespace

bool AcceptsOpenMetrics(std::string_view accept_header) {
  while (!accept_header.empty()) {
    size_t comma = accept_header.find(',');
    std::string_view range = accept_header.substr(0, comma);
    accept_header =
        comma == std::string_view::npos ? std::string_view{} : accept_header.substr(comma + 1);
    size_t semi = range.find(';');
    std::string_view type = Trim(range.substr(0, semi));
    std::string_view params =
        semi == std::string_view::npos ? std::string_view{} : range.substr(semi + 1);
    if (EqualsIgnoreCase(type, "application/openmetrics-text") && !HasZeroQuality(params)) {
      return true;
    }
  }
  return false;
}

AdminServer::AdminServer(MetricRegistry& registry, AdminServerOptions options)
    : registry_(registry), options_(std::move(options)) {
  if (options_.logger == nullptr) {
    // Refusals and failures as JSON lines on stderr, service "admin" (no OTLP export).
    own_logger_ =
        std::make_unique<Logger>("admin", LogLevel::kInfo, nullptr, core::SystemClock::Instance());
  }
  telemetry_.logger = options_.logger != nullptr ? options_.logger : own_logger_.get();
  telemetry_.metrics = &registry_;
  server_ = std::make_unique<httplib::Server>();
  HttpRouter::ServerOptions router_options;
  router_options.server_label = "admin";
  router_options.trace = false;
  router_ = std::make_unique<HttpRouter>(*server_, telemetry_, core::SystemClock::Instance(),
                                         std::move(router_options));
  Routes();
}

AdminServer::~AdminServer() { Stop(); }

void AdminServer::AddReadinessCheck(std::string name, ReadinessCheck check) {
  std::lock_guard lock(checks_mu_);
  checks_.push_back({std::move(name), std::move(check)});
}

void AdminServer::Routes() {
  router_->Install();
  router_->Get("/metrics", "/metrics", [this](HttpExchange& ex) {
    const bool om = AcceptsOpenMetrics(ex.req().get_header_value("Accept"));
    std::string body =
        registry_.Expose(om ? ExpositionFormat::kOpenMetrics : ExpositionFormat::kPrometheusText);
    ex.res().set_content(body,
                         std::string(om ? kOpenMetricsContentType : kPrometheusTextContentType));
  });
  router_->Get("/healthz", "/healthz",
               [](HttpExchange& ex) { ex.res().set_content("ok\n", "text/plain; charset=utf-8"); });
  router_->Get("/readyz", "/readyz", [this](HttpExchange& ex) {
    std::vector<NamedCheck> checks;
    {
      std::lock_guard lock(checks_mu_);
      checks = checks_;
    }
    nlohmann::json failing = nlohmann::json::array();
    std::string names;
    for (const NamedCheck& c : checks) {
      core::Status st = c.check();
      if (!st.ok()) {
        failing.push_back({{"name", c.name}, {"error", st.ToString()}});
        names += names.empty() ? c.name : "," + c.name;
      }
    }
    const bool ready = failing.empty();
    nlohmann::json body;
    body["status"] = ready ? "ready" : "not_ready";
    body["failing"] = std::move(failing);
    ex.res().status = ready ? 200 : 503;
    ex.res().set_content(body.dump(), "application/json");
    // Not ready is a state the probe reports, not a server failure: no ERROR line per poll.
    if (!ready) ex.Debug("service not ready", {{"chat.readiness.failing", names}});
  });
}

core::Status AdminServer::Start() {
  if (started_) return core::FailedPrecondition("admin server: already started");
  CHAT_ASSIGN_OR_RETURN(int port,
                        BindExclusive(*server_, options_.host, options_.port, "admin server"));
  started_ = true;
  bound_port_.store(port);
  if (core::Status s = listener_.Start(*server_, options_.host, port); !s.ok()) {
    Stop();
    return core::Internal("admin server: listener thread did not start");
  }
  return core::Status::Ok();
}

void AdminServer::Stop() {
  if (!started_) return;
  listener_.Stop();
  bound_port_.store(0);
}

}  // namespace chat::telemetry::sdk

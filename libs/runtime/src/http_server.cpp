// runtime::HttpServer over the SDK's route layer (HttpRouter), listener and exclusive bind.
#include "chat/runtime/http_server.hpp"

#include <httplib.h>

#include <atomic>
#include <utility>

#include "chat/telemetry/sdk/http_listener.hpp"
#include "chat/telemetry/sdk/http_router.hpp"

namespace chat::runtime {

namespace {

namespace sdk = telemetry::sdk;

class RouterExchange final : public HttpExchange {
 public:
  explicit RouterExchange(sdk::HttpExchange& ex) : ex_(ex) {}

  const std::string& method() const override { return ex_.req().method; }
  const std::string& path() const override { return ex_.req().path; }
  const std::string& body() const override { return ex_.req().body; }
  std::string Header(std::string_view name) const override {
    return ex_.req().get_header_value(std::string(name));
  }
  std::vector<std::string> HeaderValues(std::string_view name) const override {
    const std::string key(name);
    std::vector<std::string> out;
    for (size_t i = 0, n = ex_.req().get_header_value_count(key); i < n; ++i) {
      out.push_back(ex_.req().get_header_value(key, i));
    }
    return out;
  }
  const std::string& remote_address() const override { return ex_.req().remote_addr; }

  void SetStatus(int status) override { ex_.res().status = status; }
  int status() const override { return ex_.res().status; }
  void SetBody(std::string body, std::string_view content_type) override {
    ex_.res().set_content(body, std::string(content_type));
  }
  void SetHeader(std::string_view name, std::string_view value) override {
    ex_.res().set_header(std::string(name), std::string(value));
  }

  telemetry::Span& span() override { return ex_.span(); }
  const telemetry::SpanContext& ctx() const override { return ex_.ctx(); }
  double ElapsedSeconds() const override { return ex_.ElapsedSeconds(); }
  void Debug(std::string_view msg, std::vector<telemetry::Attribute> fields) override {
    ex_.Debug(msg, std::move(fields));
  }
  void Info(std::string_view msg, std::vector<telemetry::Attribute> fields) override {
    ex_.Info(msg, std::move(fields));
  }
  void Warn(std::string_view msg, std::vector<telemetry::Attribute> fields) override {
    ex_.Warn(msg, std::move(fields));
  }
  void Error(std::string_view msg, std::vector<telemetry::Attribute> fields) override {
    ex_.Error(msg, std::move(fields));
  }
  void Fail(std::string error_type, std::string exception_message, std::string exception_type,
            std::string description) override {
    ex_.Fail(std::move(error_type), std::move(exception_message), std::move(exception_type),
             std::move(description));
  }
  bool threw() const override { return ex_.threw(); }

 private:
  sdk::HttpExchange& ex_;
};

sdk::HttpRouter::Handler Adapt(HttpServer::Handler handler) {
  return [handler = std::move(handler)](sdk::HttpExchange& ex) {
    RouterExchange exchange(ex);
    handler(exchange);
  };
}

sdk::HttpRouter::RouteOptions Adapt(HttpRouteOptions options) {
  sdk::HttpRouter::RouteOptions out;
  out.body = sdk::BodyPolicy{options.max_body_bytes, /*accept_gzip=*/false};
  out.trace = options.trace;
  out.span_attributes = std::move(options.span_attributes);
  if (options.finish) out.finish = Adapt(std::move(options.finish));
  return out;
}

sdk::HttpRouter::ServerOptions RouterOptions(const HttpServerOptions& options) {
  sdk::HttpRouter::ServerOptions out;
  out.server_label = options.server_label;
  return out;
}

}  // namespace

std::string HttpErrorBody(core::ErrorCode code, std::string_view message) {
  return sdk::HttpErrorBody(code, message);
}

struct HttpServer::Impl {
  Impl(const telemetry::Telemetry& telemetry, const core::Clock& clock, HttpServerOptions o)
      : options(std::move(o)), router(server, telemetry, clock, RouterOptions(options)) {
    router.Install();
  }

  HttpServerOptions options;
  httplib::Server server;
  sdk::HttpRouter router;
  sdk::HttpListener listener;
  std::atomic<int> port{0};
  bool started = false;
};

HttpServer::HttpServer(const telemetry::Telemetry& telemetry, const core::Clock& clock,
                       HttpServerOptions options)
    : impl_(std::make_unique<Impl>(telemetry, clock, std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Get(const std::string& pattern, const std::string& route, Handler handler,
                     HttpRouteOptions options) {
  impl_->router.Get(pattern, route, Adapt(std::move(handler)), Adapt(std::move(options)));
}

void HttpServer::Post(const std::string& pattern, const std::string& route, Handler handler,
                      HttpRouteOptions options) {
  impl_->router.Post(pattern, route, Adapt(std::move(handler)), Adapt(std::move(options)));
}

void HttpServer::Options(const std::string& pattern, const std::string& route, Handler handler,
                         HttpRouteOptions options) {
  impl_->router.Options(pattern, route, Adapt(std::move(handler)), Adapt(std::move(options)));
}

core::Status HttpServer::Start() {
  if (impl_->started) {
    return core::FailedPrecondition(impl_->options.server_label + ": already started");
  }
  const std::string who = impl_->options.server_label + " http server";
  CHAT_ASSIGN_OR_RETURN(
      int port, sdk::BindExclusive(impl_->server, impl_->options.host, impl_->options.port, who));
  impl_->started = true;
  impl_->port.store(port);
  if (core::Status s = impl_->listener.Start(impl_->server, impl_->options.host, port); !s.ok()) {
    Stop();
    return core::Unavailable(who + ": listener thread did not start");
  }
  return core::Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_->started) return;
  impl_->listener.Stop();
  impl_->port.store(0);
}

int HttpServer::port() const { return impl_->port.load(); }

}  // namespace chat::runtime

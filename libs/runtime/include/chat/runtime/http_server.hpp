// runtime::HttpServer: the HTTP listener a service embeds (auth-service's credential API), on the
// repository's one HTTP route layer. A handler keeps only its business logic; per route the layer
// owns (docs/observability.md §1.2, §4.1, §4.4):
// * the SERVER span `METHOD {http.route}` (http.request.method, http.route, url.path,
//   http.response.status_code), parented on the request's traceparent; ERROR only for 5xx. Routes
//   polled by machines (/healthz, /readyz) set HttpRouteOptions::trace = false: no span;
// * the body limit: any body or Content-Encoding on a route that takes none, and a body above
//   max_bytes (chunked or not), is refused before the handler runs (413/415/411/400/501 with
//   {"error":{"code","message"}}), counted in http_server_rejected_requests_total{server,reason}
//   and logged once;
// * one log line per request: the handler's own (HttpExchange::Debug/Info/Warn/Error), else
//   "http request refused" (WARN, 4xx), "http request failed" (ERROR, 5xx) or "http request
//   served" (DEBUG);
// * one exception catch: a throwing handler answers 500 with
//   {"error":{"code":"internal","message":"Internal error."}}, never the exception text.
// The accept loop runs on its own thread; Start binds without SO_REUSEPORT, so a second process on
// the same port is an error rather than a silent share.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/status.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::runtime {

// {"error":{"code":"<ErrorCodeName(code)>","message":...}}: the wire shape of contracts'
// ErrorReply, the body of every HTTP error answer.
std::string HttpErrorBody(core::ErrorCode code, std::string_view message);

// One request as its handler sees it: the request, the response it fills, the SERVER span and the
// outcome reporting. Valid only during the handler call (and the route's `finish`).
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;

  // ---- the request ----
  virtual const std::string& method() const = 0;
  virtual const std::string& path() const = 0;
  virtual const std::string& body() const = 0;
  // The first value of a header (case-insensitive name); "" when absent.
  virtual std::string Header(std::string_view name) const = 0;
  // Every value of a header, in order (a repeated header is several values).
  virtual std::vector<std::string> HeaderValues(std::string_view name) const = 0;
  virtual const std::string& remote_address() const = 0;  // the TCP peer

  // ---- the response (200 with an empty body unless set) ----
  virtual void SetStatus(int status) = 0;
  virtual int status() const = 0;
  virtual void SetBody(std::string body, std::string_view content_type) = 0;
  virtual void SetHeader(std::string_view name, std::string_view value) = 0;

  // ---- telemetry ----
  virtual telemetry::Span& span() = 0;
  virtual const telemetry::SpanContext& ctx() const = 0;
  // Seconds since the request was received (for a handler's own business histogram).
  virtual double ElapsedSeconds() const = 0;
  // The request's one log line, with the span's trace context; the layer then writes none.
  virtual void Debug(std::string_view msg, std::vector<telemetry::Attribute> fields = {}) = 0;
  virtual void Info(std::string_view msg, std::vector<telemetry::Attribute> fields = {}) = 0;
  virtual void Warn(std::string_view msg, std::vector<telemetry::Attribute> fields = {}) = 0;
  virtual void Error(std::string_view msg, std::vector<telemetry::Attribute> fields = {}) = 0;
  // What a 5xx answer records on the span; without it error.type is the status code.
  virtual void Fail(std::string error_type, std::string exception_message,
                    std::string exception_type = {}, std::string description = {}) = 0;
  // True in HttpRouteOptions::finish when the handler threw (the answer is the internal 500).
  virtual bool threw() const = 0;
};

struct HttpServerOptions {
  std::string server_label;  // `server` label of the refusal counter; chat.http.server in logs
  std::string host = "127.0.0.1";
  int port = 0;  // 0: the kernel picks a free port; read it back with HttpServer::port()
};

struct HttpRouteOptions {
  size_t max_body_bytes = 0;  // POST only: the largest body this route takes (no encodings)
  bool trace = true;          // false: no span (probes)
  std::vector<telemetry::Attribute> span_attributes;  // set at span start
  // Runs after the handler (and after the exception catch, see HttpExchange::threw()), before the
  // span is closed: headers every answer carries (CORS, Cache-Control).
  std::function<void(HttpExchange&)> finish;
};

class HttpServer {
 public:
  using Handler = std::function<void(HttpExchange&)>;

  // `telemetry` and `clock` must outlive the server. Nothing listens yet.
  HttpServer(const telemetry::Telemetry& telemetry, const core::Clock& clock,
             HttpServerOptions options);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes are registered before Start(). `pattern` is a regular expression over the path;
  // `route` the low-cardinality template (span name, http.route).
  void Get(const std::string& pattern, const std::string& route, Handler handler,
           HttpRouteOptions options = {});
  void Post(const std::string& pattern, const std::string& route, Handler handler,
            HttpRouteOptions options);
  void Options(const std::string& pattern, const std::string& route, Handler handler,
               HttpRouteOptions options = {});

  // Binds and serves on a background thread. kUnavailable when the address cannot be bound,
  // kFailedPrecondition when already started.
  core::Status Start();
  // Stops accepting, lets in-flight requests finish and joins the thread. Idempotent.
  void Stop();
  int port() const;  // the bound port; 0 before Start()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::runtime

// HttpRouter: the one route layer of the repository's cpp-httplib servers. A handler keeps only its
// business logic; per route the router owns (docs/observability.md §1.2, §4.1, §4.4):
// * the SERVER span `METHOD {http.route}` with http.request.method, http.route, url.path and
//   http.response.status_code, parented on the request's W3C context (ExtractHttpContext:
//   trace_context_invalid_total{reason} counts bad headers); status ERROR only for 5xx. A server
//   that must not trace itself (the telemetry sink: its spans would be exported into itself) sets
//   ServerOptions::trace = false, and routes polled by machines (/metrics, /healthz, /readyz)
//   set RouteOptions::trace = false: no span and no traceparent parsing;
// * optional RED metrics (HttpRedMetrics: a counter {route, code_class} and a duration histogram
//   {route}, registered by the server under the names it already exposes);
// * the body limit, through HttpBodyGuard (Install() sets the pre-routing check; POST routes read
//   their body through it);
// * one log line per outcome: the handler's own line when it wrote one through the exchange
//   (HttpExchange::Debug/Info/Warn/Error), else "http request refused" at WARN for 4xx, "http
//   request failed" at ERROR for 5xx, "http request served" at DEBUG otherwise;
// * one exception catch: a throwing handler answers 500 with the server's internal-error body
//   (default {"error":{"code":"internal","message":"Internal error."}}), never the exception text.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/status.hpp"
#include "chat/telemetry/sdk/http_body_guard.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::telemetry::sdk {

// {"error":{"code":"<ErrorCodeName(code)>","message":...}}: the wire shape of contracts'
// ErrorReply, for HTTP answers.
std::string HttpErrorBody(core::ErrorCode code, std::string_view message);

// "2xx" .. "5xx", the code_class label.
std::string_view HttpCodeClass(int status);

// What a handler sees: the request, the response it fills, the SERVER span, and the outcome
// reporting that the router turns into the one log line and the span status.
class HttpExchange {
 public:
  const httplib::Request& req() const { return req_; }
  httplib::Response& res() { return res_; }

  Span& span() { return span_; }
  const SpanContext& ctx() const { return span_.Context(); }
  // Seconds since the router received the request (for a handler's own business histogram).
  double ElapsedSeconds() const;

  // The outcome's log line, with the span's trace context; the router then writes no line.
  void Debug(std::string_view msg, std::vector<Attribute> fields = {});
  void Info(std::string_view msg, std::vector<Attribute> fields = {});
  void Warn(std::string_view msg, std::vector<Attribute> fields = {});
  void Error(std::string_view msg, std::vector<Attribute> fields = {});
  // True in RouteOptions::finish when the handler threw (the answer is the internal 500).
  bool threw() const { return threw_; }
  // What a 5xx answer records on the span (RecordError); without it error.type is the status.
  void Fail(std::string error_type, std::string exception_message, std::string exception_type = {},
            std::string description = {});

 private:
  friend class HttpRouter;
  const httplib::Request& req_;
  httplib::Response& res_;
  struct Failure {
    std::string error_type, message, exception_type, description;
  };
  HttpExchange(const httplib::Request& r, httplib::Response& s, Span& span, Logger& logger,
               const core::Clock& clock, std::chrono::steady_clock::time_point start)
      : req_(r), res_(s), span_(span), logger_(logger), clock_(clock), start_(start) {}
  Span& span_;
  Logger& logger_;
  const core::Clock& clock_;
  std::chrono::steady_clock::time_point start_;
  bool logged_ = false;
  bool threw_ = false;
  std::optional<Failure> failure_;
};

// The server's RED instruments, registered by the server under its own (literal, catalogued)
// names: `requests` labelled {route, code_class}, `duration` (seconds) labelled {route}. The
// router creates every route's series at zero.
struct HttpRedMetrics {
  Counter requests;
  Histogram duration;
};

// Per-route options (outside HttpRouter so that `= {}` default arguments compile on gcc 12).
struct HttpRouteOptions {
  BodyPolicy body;  // POST only: the guard's limit for this route
  // Runs after the handler, and after the exception catch (HttpExchange::threw()), before the
  // span and metrics are closed: headers every answer carries (CORS, Cache-Control).
  std::function<void(HttpExchange&)> finish;
  std::vector<Attribute> span_attributes;  // extra attributes set at span start
  bool trace = true;                       // false: no span for this route (probes and scrapes)
};

class HttpRouter {
 public:
  using Handler = std::function<void(HttpExchange&)>;

  struct ServerOptions {
    std::string server_label;  // the guard's `server` label and the log's chat.http.server
    // Request count and duration per route; none → the server counts its own outcomes.
    std::optional<HttpRedMetrics> red;
    // The 500 body when a handler throws; default HttpErrorBody(kInternal, "Internal error.").
    std::string internal_error_body;
    std::string internal_error_content_type = "application/json";
    // false: no route makes a span or reads traceparent, and trace_context_invalid_total is not
    // registered (the telemetry sink, the admin and scrape servers).
    bool trace = true;
  };

  using RouteOptions = HttpRouteOptions;

  HttpRouter(httplib::Server& server, const Telemetry& telemetry, const core::Clock& clock,
             ServerOptions options);
  ~HttpRouter();
  HttpRouter(const HttpRouter&) = delete;
  HttpRouter& operator=(const HttpRouter&) = delete;

  // Installs the body guard's pre-routing check (before the first route).
  void Install(HttpBodyGuard::PreRouting next = {});

  // `pattern` is cpp-httplib's regex; `route` the low-cardinality template (span name, label).
  void Get(const std::string& pattern, const std::string& route, Handler handler,
           RouteOptions options = {});
  void Post(const std::string& pattern, const std::string& route, Handler handler,
            RouteOptions options);
  void Options(const std::string& pattern, const std::string& route, Handler handler,
               RouteOptions options = {});

  HttpBodyGuard& guard() { return guard_; }

 private:
  std::function<void(const httplib::Request&, httplib::Response&)> Wrap(std::string method,
                                                                        std::string route,
                                                                        Handler handler,
                                                                        RouteOptions options);

  httplib::Server& server_;
  const Telemetry& telemetry_;
  Logger& logger_;
  const core::Clock& clock_;
  ServerOptions options_;
  HttpBodyGuard guard_;
  Counter context_invalid_;
};

}  // namespace chat::telemetry::sdk

// The route layer of every cpp-httplib server; see http_router.hpp for what it owns.
#include "chat/telemetry/sdk/http_router.hpp"

#include <httplib.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "chat/telemetry/sdk/http_listener.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::telemetry::sdk {

namespace semconv = telemetry::semconv;

std::string HttpErrorBody(core::ErrorCode code, std::string_view message) {
  return nlohmann::json{{"error", {{"code", core::ErrorCodeName(code)}, {"message", message}}}}
      .dump();
}

std::string_view HttpCodeClass(int status) {
  if (status >= 500) return "5xx";
  if (status >= 400) return "4xx";
  if (status >= 300) return "3xx";
  return "2xx";
}

// ---- HttpExchange ----

double HttpExchange::ElapsedSeconds() const {
  return std::chrono::duration<double>(clock_.SteadyNow() - start_).count();
}

void HttpExchange::Debug(std::string_view msg, std::vector<Attribute> fields) {
  logged_ = true;
  logger_.Debug(span_.Context(), msg, std::move(fields));
}

void HttpExchange::Info(std::string_view msg, std::vector<Attribute> fields) {
  logged_ = true;
  logger_.Info(span_.Context(), msg, std::move(fields));
}

void HttpExchange::Warn(std::string_view msg, std::vector<Attribute> fields) {
  logged_ = true;
  logger_.Warn(span_.Context(), msg, std::move(fields));
}

void HttpExchange::Error(std::string_view msg, std::vector<Attribute> fields) {
  logged_ = true;
  logger_.Error(span_.Context(), msg, std::move(fields));
}

void HttpExchange::Fail(std::string error_type, std::string exception_message,
                        std::string exception_type, std::string description) {
  failure_ = Failure{std::move(error_type), std::move(exception_message), std::move(exception_type),
                     std::move(description)};
}

// ---- HttpRouter ----

HttpRouter::HttpRouter(httplib::Server& server, const Telemetry& telemetry,
                       const core::Clock& clock, ServerOptions options)
    : server_(server),
      telemetry_(telemetry),
      logger_(*telemetry.logger),
      clock_(clock),
      options_(std::move(options)),
      guard_(options_.server_label, *telemetry.metrics, telemetry.logger) {
  if (options_.trace) {
    context_invalid_ = telemetry.metrics->AddCounter(
        "trace_context_invalid_total", "Inbound traceparent headers that failed validation.",
        {"reason"});
    for (int i = 0; i < 4; ++i) {
      context_invalid_.With({InvalidContextReasonName(static_cast<InvalidContextReason>(i))});
    }
  }
  if (options_.internal_error_body.empty()) {
    options_.internal_error_body = HttpErrorBody(core::ErrorCode::kInternal, "Internal error.");
  }
}

HttpRouter::~HttpRouter() = default;

void HttpRouter::Install(HttpBodyGuard::PreRouting next) {
  guard_.Install(server_, std::move(next));
}

std::function<void(const httplib::Request&, httplib::Response&)> HttpRouter::Wrap(
    std::string method, std::string route, Handler handler, RouteOptions options) {
  if (options_.red) {
    for (std::string_view cls : {"2xx", "3xx", "4xx", "5xx"}) {
      options_.red->requests.With({route, cls});
    }
    options_.red->duration.With({route});
  }
  return [this, method = std::move(method), route = std::move(route), handler = std::move(handler),
          options = std::move(options)](const httplib::Request& req, httplib::Response& res) {
    const auto start = clock_.SteadyNow();
    Span span;  // non-recording, invalid context: the untraced routes' log lines carry no ids
    if (options_.trace && options.trace) {
      SpanStartOptions opts;
      opts.kind = SpanKind::kServer;
      opts.parent = ExtractHttpContext(req, context_invalid_, logger_);
      opts.attributes = {{semconv::kHttpRequestMethod, method},
                         {semconv::kHttpRoute, route},
                         {"url.path", req.path}};
      for (const auto& a : options.span_attributes) opts.attributes.push_back(a);
      span = telemetry_.tracer.StartSpan(method + " " + route, std::move(opts));
    }
    HttpExchange ex(req, res, span, logger_, clock_, start);
    try {
      handler(ex);
    } catch (const std::exception& e) {
      // Handlers do not throw by design; this is the last line, so a bug is a 500, not a crash.
      res = httplib::Response();
      res.status = 500;
      res.set_content(options_.internal_error_body, options_.internal_error_content_type);
      ex.failure_ = HttpExchange::Failure{"internal", e.what(), "exception", "handler threw"};
      ex.logged_ = false;  // the handler's line (if any) did not describe this outcome
      ex.threw_ = true;
    } catch (...) {
      res = httplib::Response();
      res.status = 500;
      res.set_content(options_.internal_error_body, options_.internal_error_content_type);
      ex.failure_ =
          HttpExchange::Failure{"internal", "unknown exception", "exception", "handler threw"};
      ex.logged_ = false;
      ex.threw_ = true;
    }
    if (res.status == -1) res.status = 200;  // httplib's "unset"; it would send 200
    if (options.finish) options.finish(ex);

    const int status = res.status;
    span.SetAttribute(semconv::kHttpResponseStatusCode, status);
    if (status >= 500) {
      if (ex.failure_) {
        span.RecordError(ex.failure_->error_type, ex.failure_->message, ex.failure_->exception_type,
                         ex.failure_->description);
      } else {
        span.RecordError(std::to_string(status), "server error", "http", "server error");
      }
    }
    if (!ex.logged_) {
      std::vector<Attribute> fields = {{"chat.http.server", options_.server_label},
                                       {semconv::kHttpRequestMethod, method},
                                       {semconv::kHttpRoute, route},
                                       {semconv::kHttpResponseStatusCode, status}};
      if (status >= 500) {
        fields.push_back(
            {semconv::kErrorType, ex.failure_ ? ex.failure_->error_type : std::to_string(status)});
        if (ex.failure_) fields.push_back({semconv::kExceptionMessage, ex.failure_->message});
        logger_.Error(span.Context(), "http request failed", std::move(fields));
      } else if (status >= 400) {
        fields.push_back({"client.address", req.remote_addr});
        logger_.Warn(span.Context(), "http request refused", std::move(fields));
      } else {
        logger_.Debug(span.Context(), "http request served", std::move(fields));
      }
    }
    if (options_.red) {
      options_.red->requests.With({route, HttpCodeClass(status)}).Add(1, &span.Context());
      options_.red->duration.With({route}).Record(ex.ElapsedSeconds(), &span.Context());
    }
  };
}

void HttpRouter::Get(const std::string& pattern, const std::string& route, Handler handler,
                     RouteOptions options) {
  server_.Get(pattern, Wrap("GET", route, std::move(handler), std::move(options)));
}

void HttpRouter::Post(const std::string& pattern, const std::string& route, Handler handler,
                      RouteOptions options) {
  BodyPolicy policy = options.body;
  guard_.Post(server_, pattern, policy,
              Wrap("POST", route, std::move(handler), std::move(options)));
}

void HttpRouter::Options(const std::string& pattern, const std::string& route, Handler handler,
                         RouteOptions options) {
  server_.Options(pattern, Wrap("OPTIONS", route, std::move(handler), std::move(options)));
}

}  // namespace chat::telemetry::sdk

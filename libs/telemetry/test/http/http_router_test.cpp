// HttpRouter: per outcome (2xx, 4xx, 5xx, a throwing handler) the SERVER span, the RED metrics, the
// one log line and the answer; W3C context from the request headers; the body guard.
#include "chat/telemetry/sdk/http_router.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "chat/telemetry/sdk/http_listener.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class HttpRouterTest : public ::testing::Test {
 protected:
  void Start(HttpRouter::ServerOptions options) {
    router_ = std::make_unique<HttpRouter>(server_, tel_.telemetry(), core::SystemClock::Instance(),
                                           std::move(options));
    router_->Install();
    router_->Get("/ok/(\\d+)", "/ok/{id}",
                 [](HttpExchange& ex) { ex.res().set_content("fine", "text/plain"); });
    router_->Get("/missing", "/missing", [](HttpExchange& ex) {
      ex.res().status = 404;
      ex.res().set_content(HttpErrorBody(core::ErrorCode::kNotFound, "No such thing."),
                           "application/json");
    });
    router_->Get("/down", "/down", [](HttpExchange& ex) {
      ex.res().status = 503;
      ex.Fail("dependency_down", "the dependency is down", "dep", "dependency down");
      ex.Error("dependency down; request failed", {{"chat.test", "yes"}});
    });
    router_->Get("/throw", "/throw", [](HttpExchange& ex) -> void {
      ex.res().set_content("partial", "text/plain");
      throw std::runtime_error("secret internals /etc/passwd");
    });
    HttpRouter::RouteOptions post;
    post.body = BodyPolicy{16, false};
    post.finish = [](HttpExchange& ex) { ex.res().set_header("Cache-Control", "no-store"); };
    router_->Post(
        "/echo", "/echo",
        [](HttpExchange& ex) {
          ex.Info("echoed", {{"chat.bytes", static_cast<int64_t>(ex.req().body.size())}});
          ex.res().set_content(ex.req().body, "text/plain");
        },
        std::move(post));
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    ASSERT_TRUE(listener_.Start(server_, "127.0.0.1", port_).ok());
  }
  void TearDown() override { listener_.Stop(); }

  httplib::Client Client() const { return httplib::Client("127.0.0.1", port_); }

  SpanData WaitSpan(const std::string& name) {
    EXPECT_TRUE(chat::testing::WaitFor([&] { return tel_.FindSpan(name).has_value(); }, 5s))
        << name;
    return tel_.FindSpan(name).value_or(SpanData{});
  }
  std::vector<std::string> LinesWith(const std::string& needle) const {
    std::vector<std::string> out;
    for (const auto& l : tel_.LogLines()) {
      if (l.find(needle) != std::string::npos) out.push_back(l);
    }
    return out;
  }
  double Requests(const std::string& route, const std::string& cls) {
    return tel_.metrics()
        .AddCounter("test_requests_total", "", {"route", "code_class"})
        .With({route, cls})
        .Value();
  }
  uint64_t Durations(const std::string& route) {
    return tel_.metrics()
        .AddHistogram("test_request_duration_seconds", "", kBucketsSlow, {"route"})
        .With({route})
        .Count();
  }

  HttpRouter::ServerOptions WithRed() {
    HttpRouter::ServerOptions o;
    o.server_label = "test";
    o.red = HttpRedMetrics{
        tel_.metrics().AddCounter("test_requests_total", "", {"route", "code_class"}),
        tel_.metrics().AddHistogram("test_request_duration_seconds", "", kBucketsSlow, {"route"})};
    return o;
  }

  InMemoryTelemetry tel_;
  httplib::Server server_;
  std::unique_ptr<HttpRouter> router_;
  HttpListener listener_;
  int port_ = 0;
};

TEST_F(HttpRouterTest, SuccessIsAnUnsetServerSpanWithRouteAttributesAndNoWarning) {
  Start(WithRed());
  EXPECT_EQ(Requests("/ok/{id}", "2xx"), 0);  // zero-initialised per route and class
  auto r = Client().Get("/ok/42");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "fine");
  SpanData span = WaitSpan("GET /ok/{id}");
  EXPECT_EQ(span.kind, SpanKind::kServer);
  EXPECT_EQ(span.status_code, StatusCode::kUnset);
  EXPECT_EQ(StringAttribute(span, "http.request.method"), "GET");
  EXPECT_EQ(StringAttribute(span, "http.route"), "/ok/{id}");
  EXPECT_EQ(StringAttribute(span, "url.path"), "/ok/42");
  EXPECT_EQ(IntAttribute(span, "http.response.status_code"), 200);
  EXPECT_EQ(Requests("/ok/{id}", "2xx"), 1);
  EXPECT_EQ(Durations("/ok/{id}"), 1u);
  EXPECT_TRUE(LinesWith("\"WARN\"").empty());
  EXPECT_TRUE(LinesWith("\"ERROR\"").empty());
}

TEST_F(HttpRouterTest, InboundTraceparentIsTheParent) {
  Start(WithRed());
  const std::string tid = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto r = Client().Get("/ok/1", {{"traceparent", "00-" + tid + "-00f067aa0ba902b7-01"}});
  ASSERT_TRUE(r);
  SpanData span = WaitSpan("GET /ok/{id}");
  EXPECT_EQ(span.trace_id.Hex(), tid);
  EXPECT_EQ(span.parent_span_id.Hex(), "00f067aa0ba902b7");

  auto bad = Client().Get("/ok/2", {{"traceparent", "00-" + tid + "-0000000000000000-01"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 200);  // never refused for bad context
  EXPECT_EQ(tel_.metrics()
                .AddCounter("trace_context_invalid_total", "", {"reason"})
                .With({"zero_id"})
                .Value(),
            1);
}

TEST_F(HttpRouterTest, ClientErrorIsAWarningNotASpanError) {
  Start(WithRed());
  auto r = Client().Get("/missing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "not_found");
  SpanData span = WaitSpan("GET /missing");
  EXPECT_EQ(span.status_code, StatusCode::kUnset);
  EXPECT_EQ(IntAttribute(span, "http.response.status_code"), 404);
  EXPECT_EQ(Requests("/missing", "4xx"), 1);
  auto warns = LinesWith("http request refused");
  ASSERT_EQ(warns.size(), 1u);
  EXPECT_NE(warns[0].find("\"WARN\""), std::string::npos) << warns[0];
  EXPECT_NE(warns[0].find(span.trace_id.Hex()), std::string::npos) << warns[0];
  EXPECT_TRUE(LinesWith("\"ERROR\"").empty());
}

TEST_F(HttpRouterTest, ServerErrorIsOneErrorSpanOneCounterAndTheHandlersOneLogLine) {
  Start(WithRed());
  auto r = Client().Get("/down");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  SpanData span = WaitSpan("GET /down");
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(StringAttribute(span, "error.type"), "dependency_down");
  EXPECT_NE(FindEvent(span, "exception"), nullptr);
  EXPECT_EQ(Requests("/down", "5xx"), 1);
  auto errors = LinesWith("\"ERROR\"");
  // The handler's line only, not a second one from the router.
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("dependency down; request failed"), std::string::npos);
}

TEST_F(HttpRouterTest, AThrowingHandlerIsAnInternal500WithoutItsInternals) {
  Start(WithRed());
  auto r = Client().Get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, R"({"error":{"code":"internal","message":"Internal error."}})");
  EXPECT_EQ(r->body.find("passwd"), std::string::npos);
  SpanData span = WaitSpan("GET /throw");
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(StringAttribute(span, "error.type"), "internal");
  EXPECT_EQ(Requests("/throw", "5xx"), 1);
  auto errors = LinesWith("http request failed");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("\"ERROR\""), std::string::npos);

  // The server keeps serving.
  auto ok = Client().Get("/ok/1");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpRouterTest, PostBodiesGoThroughTheGuardAndFinishRunsOnEveryAnswer) {
  HttpRouter::ServerOptions o;
  o.server_label = "test";  // no RED instruments: no request metrics at all
  Start(o);
  auto r = Client().Post("/echo", "hello", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  WaitSpan("POST /echo");
  EXPECT_EQ(LinesWith("echoed").size(), 1u);
  auto names = tel_.metrics().FamilyNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), "test_requests_total"), 0);

  auto big = Client().Post("/echo", std::string(64, 'x'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(tel_.metrics()
                .AddCounter("http_server_rejected_requests_total", "", {"server", "reason"})
                .With({"test", "too_large"})
                .Value(),
            1);
}

TEST_F(HttpRouterTest, AnUntracedServerMakesNoSpanAndReadsNoTraceparent) {
  HttpRouter::ServerOptions o = WithRed();
  o.trace = false;  // the telemetry sink, the admin and scrape servers
  Start(o);
  auto names = tel_.metrics().FamilyNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), "trace_context_invalid_total"), 0);
  // A bad traceparent is not even parsed.
  auto r = Client().Get("/ok/7", {{"traceparent", "00-zz-zz-01"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto missing = Client().Get("/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  // The metrics and the log line stay; the spans ended before the answers were written.
  EXPECT_EQ(Requests("/ok/{id}", "2xx"), 1);
  EXPECT_EQ(Requests("/missing", "4xx"), 1);
  EXPECT_EQ(tel_.SpanCount(), 0u);
  auto refused = LinesWith("http request refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].find("trace_id"), std::string::npos) << refused[0];
}

TEST_F(HttpRouterTest, AnUntracedRouteBesideTracedOnes) {
  HttpRouter::ServerOptions o;
  o.server_label = "test";
  router_ = std::make_unique<HttpRouter>(server_, tel_.telemetry(), core::SystemClock::Instance(),
                                         std::move(o));
  router_->Install();
  HttpRouter::RouteOptions untraced;
  untraced.trace = false;
  router_->Get(
      "/healthz", "/healthz",
      [](HttpExchange& ex) {
        ex.res().status = 503;
        ex.Debug("not ready");  // the outcome's line, at DEBUG: no ERROR per probe
      },
      untraced);
  router_->Get("/traced", "/traced",
               [](HttpExchange& ex) { ex.res().set_content("t", "text/plain"); });
  port_ = server_.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port_, 0);
  ASSERT_TRUE(listener_.Start(server_, "127.0.0.1", port_).ok());

  auto probe = Client().Get("/healthz");
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->status, 503);
  auto traced = Client().Get("/traced");
  ASSERT_TRUE(traced);
  WaitSpan("GET /traced");
  EXPECT_TRUE(tel_.FindSpans("GET /healthz").empty());
  EXPECT_TRUE(LinesWith("\"ERROR\"").empty());
  EXPECT_TRUE(LinesWith("http request failed").empty());
}

}  // namespace
}  // namespace chat::telemetry::sdk

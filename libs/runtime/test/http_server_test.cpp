// runtime::HttpServer and runtime::CallHttp end to end on loopback: the route layer's SERVER span
// continues the caller's CLIENT span, repeated headers reach the handler, the body limit refuses
// with the error body and the refusal counter, a throwing handler is the internal 500, and an
// untraced probe makes no span.
#include "chat/runtime/http_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "chat/runtime/http_client.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::runtime {
namespace {

using namespace std::chrono_literals;
using telemetry::sdk::InMemoryTelemetry;

class RuntimeHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(tel_.telemetry(), core::SystemClock::Instance(),
                                           HttpServerOptions{"test", "127.0.0.1", 0});
    server_->Get("/echo/([a-z]+)", "/echo/{word}", [](HttpExchange& ex) {
      std::string joined;
      for (const auto& v : ex.HeaderValues("X-Repeat")) joined += v + ";";
      ex.SetHeader("X-Joined", joined);
      ex.SetBody(ex.path() + " " + ex.Header("x-single"), "text/plain");
    });
    HttpRouteOptions post;
    post.max_body_bytes = 8;
    post.finish = [](HttpExchange& ex) { ex.SetHeader("Cache-Control", "no-store"); };
    server_->Post(
        "/small", "/small",
        [](HttpExchange& ex) {
          ex.Info("small body", {{"chat.bytes", static_cast<int64_t>(ex.body().size())}});
          ex.SetStatus(201);
          ex.SetBody(ex.body(), "text/plain");
        },
        post);
    server_->Get("/throw", "/throw", [](HttpExchange&) { throw std::runtime_error("internals"); });
    HttpRouteOptions probe;
    probe.trace = false;
    server_->Get(
        "/healthz", "/healthz", [](HttpExchange& ex) { ex.SetBody("ok\n", "text/plain"); }, probe);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  core::Result<HttpCallResult> Call(const HttpCall& call) {
    return CallHttp(call, tel_.telemetry(), telemetry::SpanContext{});
  }

  InMemoryTelemetry tel_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(RuntimeHttpServerTest, ServerSpanContinuesTheClientSpanAndHeadersReachTheHandler) {
  HttpCall call;
  call.url = Url("/echo/hello");
  call.send_traceparent = true;
  call.peer_service = "test";
  call.headers = {"X-Repeat: a", "X-Repeat: b", "X-Single: one"};
  auto r = Call(call);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "/echo/hello one");
  ASSERT_TRUE(
      chat::testing::WaitFor([&] { return tel_.FindSpan("GET /echo/{word}").has_value(); }, 5s));
  auto server = tel_.FindSpan("GET /echo/{word}");
  ASSERT_TRUE(server);
  EXPECT_EQ(server->kind, telemetry::SpanKind::kServer);
  EXPECT_EQ(telemetry::sdk::StringAttribute(*server, "http.route"), "/echo/{word}");
  // The CLIENT span of CallHttp is the parent (same trace).
  bool parent_found = false;
  for (const auto& s : tel_.Spans()) {
    if (s.kind == telemetry::SpanKind::kClient) {
      EXPECT_EQ(s.trace_id, server->trace_id);
      parent_found = s.span_id == server->parent_span_id;
    }
  }
  EXPECT_TRUE(parent_found);
}

TEST_F(RuntimeHttpServerTest, BodyAboveTheLimitIsRefusedWithTheErrorBodyAndCounted) {
  HttpCall ok;
  ok.method = "POST";
  ok.url = Url("/small");
  ok.body = "tiny";
  ok.content_type = "text/plain";
  auto small = Call(ok);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->status, 201);
  EXPECT_EQ(small->body, "tiny");

  HttpCall big = ok;
  big.body = std::string(64, 'x');
  auto refused = Call(big);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 413);
  auto body = nlohmann::json::parse(refused->body, nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << refused->body;
  EXPECT_EQ(body["error"]["code"], "resource_exhausted");
  EXPECT_EQ(tel_.metrics()
                .AddCounter("http_server_rejected_requests_total", "", {"server", "reason"})
                .With({"test", "too_large"})
                .Value(),
            1);
}

TEST_F(RuntimeHttpServerTest, AThrowingHandlerIsTheInternalErrorBody) {
  HttpCall call;
  call.url = Url("/throw");
  auto r = Call(call);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, HttpErrorBody(core::ErrorCode::kInternal, "Internal error."));
  EXPECT_EQ(r->body.find("internals"), std::string::npos);
}

TEST_F(RuntimeHttpServerTest, AnUntracedProbeMakesNoSpan) {
  HttpCall call;
  call.url = Url("/healthz");
  auto r = Call(call);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  // Only CallHttp's CLIENT span (same name: `GET {url.template}`), no SERVER span.
  for (const auto& span : tel_.FindSpans("GET /healthz")) {
    EXPECT_EQ(span.kind, telemetry::SpanKind::kClient);
  }
  EXPECT_EQ(tel_.FindSpans("GET /healthz").size(), 1u);
}

TEST(RuntimeHttpServerStartTest, APortInUseIsUnavailableAndStartTwiceFails) {
  InMemoryTelemetry tel;
  HttpServer first(tel.telemetry(), core::SystemClock::Instance(), {"first", "127.0.0.1", 0});
  ASSERT_TRUE(first.Start().ok());
  EXPECT_EQ(first.Start().code(), core::ErrorCode::kFailedPrecondition);
  HttpServer second(tel.telemetry(), core::SystemClock::Instance(),
                    {"second", "127.0.0.1", first.port()});
  EXPECT_EQ(second.Start().code(), core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace chat::runtime

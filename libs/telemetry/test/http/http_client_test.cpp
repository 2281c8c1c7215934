// sdk::PerformHttp against a real in-test HTTP server (cpp-httplib on a random port): the CLIENT
// span's name, attribute set H and parentage, traceparent injection only when asked, HTTP errors
// and transport errors on the span; ParseUrl's templating and credential stripping.
#include "chat/telemetry/sdk/http_client.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace std::chrono_literals;

// Answers GET /realms/{any}/thing with 200 and POST /fail with 503; remembers the last request.
class Peer {
 public:
  Peer() {
    server_.Get(R"(/realms/([^/]+)/thing)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  Remember(req);
                  res.set_content(R"({"ok":true})", "application/json");
                });
    server_.Post("/fail", [this](const httplib::Request& req, httplib::Response& res) {
      Remember(req);
      res.status = 503;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    EXPECT_TRUE(chat::testing::WaitFor([&] { return server_.is_running(); }, 5s));
  }
  ~Peer() {
    server_.stop();
    thread_.join();
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  httplib::Request last() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  void Remember(const httplib::Request& req) {
    std::lock_guard lock(mu_);
    last_ = req;
  }
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  httplib::Request last_;
};

std::string Str(const SpanData& span, std::string_view key) {
  const AttributeValue* v = FindAttribute(span, key);
  return v != nullptr && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v)
                                                                 : "<absent>";
}

int64_t Int(const SpanData& span, std::string_view key) {
  const AttributeValue* v = FindAttribute(span, key);
  return v != nullptr && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v) : -1;
}

TEST(HttpClient, GetIsOneClientSpanWithAttributeSetHAndTraceparent) {
  Peer peer;
  InMemoryTelemetry t;
  SpanContext parent;
  {
    Span root = t.tracer().StartSpan("login", SpanKind::kInternal, {});
    parent = root.Context();
    HttpRequest req;
    req.url = peer.url("/realms/nats-chat/thing?secret=1");
    req.peer_service = "idp";
    req.send_traceparent = true;
    auto r = PerformHttp(req, t.telemetry(), root.Context());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"ok":true})");
  }
  auto span = t.FindSpan("GET /realms/{realm}/thing");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, SpanKind::kClient);
  EXPECT_EQ(span->trace_id, parent.trace_id);
  EXPECT_EQ(span->parent_span_id, parent.span_id);
  EXPECT_EQ(span->status_code, StatusCode::kUnset);
  EXPECT_EQ(Str(*span, semconv::kHttpRequestMethod), "GET");
  EXPECT_EQ(Str(*span, semconv::kUrlFull), peer.url("/realms/nats-chat/thing"));
  EXPECT_EQ(Str(*span, semconv::kUrlTemplate), "/realms/{realm}/thing");
  EXPECT_EQ(Str(*span, semconv::kServerAddress), "127.0.0.1");
  EXPECT_EQ(Int(*span, semconv::kServerPort), peer.port());
  EXPECT_EQ(Str(*span, semconv::kPeerService), "idp");
  EXPECT_EQ(Int(*span, semconv::kHttpResponseStatusCode), 200);
  // The traceparent names the CLIENT span itself, so the server's span becomes its child.
  auto sent = ParseTraceparent(peer.last().get_header_value("traceparent"));
  ASSERT_TRUE(sent.context.has_value());
  EXPECT_EQ(sent.context->trace_id, span->trace_id);
  EXPECT_EQ(sent.context->span_id, span->span_id);
  EXPECT_EQ(peer.last().get_header_value("Accept"), "application/json");
}

TEST(HttpClient, PostWithoutTraceparentAndHttpErrorMarksTheSpan) {
  Peer peer;
  InMemoryTelemetry t;
  HttpRequest req;
  req.method = "POST";
  req.url = peer.url("/fail");
  req.body = "a=1";
  req.content_type = "application/x-www-form-urlencoded";
  req.headers = {"X-Test: yes"};
  req.failure_description = "IdP request failed";
  req.status_message_prefix = "IdP answered ";
  auto r = PerformHttp(req, t.telemetry(), SpanContext{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);  // a status is an answer, not a transport failure
  EXPECT_EQ(peer.last().body, "a=1");
  EXPECT_EQ(peer.last().get_header_value("X-Test"), "yes");
  EXPECT_EQ(peer.last().get_header_value("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_FALSE(peer.last().has_header("traceparent"));
  auto span = t.FindSpan("POST /fail");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->status_code, StatusCode::kError);
  EXPECT_EQ(span->status_message, "IdP request failed");
  EXPECT_EQ(Str(*span, semconv::kErrorType), "503");
  EXPECT_EQ(Str(*span, semconv::kPeerService), "<absent>");
  ASSERT_FALSE(span->events.empty());
  const AttributeValue* msg = FindAttribute(span->events[0].attributes, semconv::kExceptionMessage);
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(std::get<std::string>(*msg), "IdP answered HTTP 503");
}

TEST(HttpClient, RefusedConnectionIsUnavailableWithConnectionError) {
  InMemoryTelemetry t;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(chat::testing::FreePort()) + "/x";
  req.timeout = 2s;
  auto r = PerformHttp(req, t.telemetry(), SpanContext{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), core::ErrorCode::kUnavailable);
  auto span = t.FindSpan("GET /x");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->status_code, StatusCode::kError);
  EXPECT_EQ(span->status_message, "HTTP request failed");
  EXPECT_EQ(Str(*span, semconv::kErrorType), "connection_error");
}

TEST(HttpClient, NonHttpUrlIsInvalidArgumentWithoutSpan) {
  InMemoryTelemetry t;
  HttpRequest req;
  req.url = "ftp://x/y";
  auto r = PerformHttp(req, t.telemetry(), SpanContext{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(t.SpanCount(), 0u);
}

TEST(HttpClient, UrlTemplatesHideTheRealmAndUrlsDropQueryAndCredentials) {
  auto p = ParseUrl(
      "https://user:pw@idp.example:8443/realms/nats-chat/protocol/openid-connect/certs?x=1");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->host, "idp.example");
  EXPECT_EQ(p->port, 8443);
  EXPECT_EQ(p->full, "https://idp.example:8443/realms/nats-chat/protocol/openid-connect/certs");
  EXPECT_EQ(p->tmpl, "/realms/{realm}/protocol/openid-connect/certs");
  auto d = ParseUrl("http://idp/.well-known/openid-configuration");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->tmpl, "/.well-known/openid-configuration");
  auto v6 = ParseUrl("http://[::1]:9430/auth/v1/credentials");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9430);
  auto nats = ParseUrl("nats://127.0.0.1:4222");
  ASSERT_TRUE(nats.has_value());
  EXPECT_EQ(nats->host, "127.0.0.1");
  EXPECT_EQ(nats->path, "/");
  EXPECT_FALSE(ParseUrl("idp.example/x").has_value());
  EXPECT_FALSE(ParseUrl("http://idp:99999999/x").has_value());
  EXPECT_FALSE(ParseUrl("http:///x").has_value());
}

}  // namespace
}  // namespace chat::telemetry::sdk

// Dispatcher against a real nats-server: identity rules of docs/adr/0001, decoding, replies,
// RED metrics (zero-initialised), the failure counter, span status and the one log line.
#include "chat/runtime/dispatcher.hpp"

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <variant>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/sdk/sampler.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/wait_for.hpp"

namespace {

using namespace std::chrono_literals;
namespace natsx = chat::natsx;
namespace tel = chat::telemetry;
namespace sdk = chat::telemetry::sdk;
namespace contracts = chat::contracts;
namespace subjects = chat::contracts::subjects;
using chat::core::ErrorCode;
using chat::core::Result;
using chat::core::Status;
using chat::runtime::Dispatcher;
using chat::runtime::Identity;
using chat::runtime::RequestContext;
using chat::runtime::RouteMetrics;

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = chat::testing::NatsServer::Create({.jetstream = false});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    service_conn_ = Connect("service", "", &tel_);
    ASSERT_NE(service_conn_, nullptr);
    dispatcher_ = std::make_unique<Dispatcher>(*service_conn_, chat::core::SystemClock::Instance());
    requests_ = tel_.metrics().AddCounter("room_requests_total", "t", {"action", "result"});
    duration_ = tel_.metrics().AddHistogram("room_request_duration_seconds", "t", tel::kBucketsNats,
                                            {"action"});
    create_metrics_ =
        RouteMetrics{&requests_, &duration_, {"create"}, {"ok", "denied", "not_found", "error"}};
  }
  void TearDown() override {
    if (dispatcher_) dispatcher_->Drain(2s);
    dispatcher_.reset();
  }

  std::unique_ptr<natsx::Connection> Connect(const std::string& name, const std::string& inbox,
                                             sdk::InMemoryTelemetry* telemetry = nullptr) {
    natsx::ConnectionOptions o;
    o.urls = {server_->url()};
    o.name = name;
    o.inbox_prefix = inbox;
    auto c = natsx::Connection::Connect(
        o, telemetry != nullptr ? telemetry->telemetry() : client_tel_.telemetry());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  void ServeCreate() {
    auto st = dispatcher_->Serve<contracts::RoomCreateRequest>(
        subjects::kRoomCreate, {.metrics = &create_metrics_},
        [this](const contracts::RoomCreateRequest& req,
               RequestContext& ctx) -> Result<contracts::RoomInfo> {
          calls_++;
          seen_user_ = std::string(ctx.user());
          seen_body_user_ = req.user;
          if (req.name == "boom") throw std::runtime_error("kaboom");
          if (req.name == "taken") return chat::core::AlreadyExists("room already exists");
          if (req.name == "broken") return chat::core::Unavailable("database unavailable");
          contracts::RoomInfo info;
          info.name = req.name;
          info.display_name = req.name;
          info.creator = req.user;
          return info;
        });
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_TRUE(service_conn_->Flush(2s).ok());
  }

  double Count(std::string_view result) { return requests_.With({"create", result}).Value(); }
  // The dispatcher replies first and counts after (the reply is part of the measured time), so a
  // counter read right after the reply can still be one behind: these wait, with a deadline.
  void ExpectCountReaches(std::string_view result, double want) {
    EXPECT_TRUE(chat::testing::WaitFor([&] { return Count(result) == want; }, 5s))
        << result << ": " << Count(result) << " != " << want;
  }
  void ExpectFailuresReach(std::string_view tmpl, std::string_view code, double want) {
    EXPECT_TRUE(chat::testing::WaitFor([&] { return Failures(tmpl, code) == want; }, 5s))
        << tmpl << " " << code << ": " << Failures(tmpl, code) << " != " << want;
  }
  double Failures(std::string_view tmpl, std::string_view code) {
    return tel_.metrics()
        .AddCounter("chat_handler_failures_total", "", {"template", "code"})
        .With({tmpl, code})
        .Value();
  }
  bool HasLogLine(std::string_view level, std::string_view msg) {
    for (const auto& line : tel_.LogLines()) {
      if (line.find(R"("level":")" + std::string(level) + "\"") != std::string::npos &&
          line.find(R"("msg":")" + std::string(msg) + "\"") != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  static sdk::InMemoryTelemetryOptions ServiceTelemetryOptions() {
    sdk::InMemoryTelemetryOptions o;
    o.sampler = sdk::MakeParentBasedSampler(sdk::MakeAlwaysOnSampler());  // the SDK's default
    return o;
  }
  // The service's telemetry.
  sdk::InMemoryTelemetry tel_{ServiceTelemetryOptions(), chat::core::SystemClock::Instance()};
  sdk::InMemoryTelemetry client_tel_;  // the caller's (kept apart so span lookups are clear)
  std::unique_ptr<chat::testing::NatsServer> server_;
  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<Dispatcher> dispatcher_;
  tel::Counter requests_;
  tel::Histogram duration_;
  RouteMetrics create_metrics_;
  // Routes keep a pointer to their metrics until the dispatcher is gone (TearDown), so a test's
  // route metrics live in the fixture, not on the test's stack (TSan saw a handler thread read
  // them after the test body had returned).
  RouteMetrics heartbeat_metrics_;
  RouteMetrics list_metrics_;
  RouteMetrics join_metrics_;
  RouteMetrics app_metrics_;
  std::atomic<int> calls_{0};
  std::string seen_user_, seen_body_user_;
};

TEST(DispatcherStatic, InboxOwnerAcceptsOnlyPerUserInboxes) {
  EXPECT_EQ(Dispatcher::InboxOwner("_INBOX.alice.abc123"), "alice");
  EXPECT_EQ(Dispatcher::InboxOwner("_INBOX.alice.abc.def"), "alice");
  EXPECT_FALSE(Dispatcher::InboxOwner("_INBOX.alice"));
  EXPECT_FALSE(Dispatcher::InboxOwner("_INBOX.alice."));
  EXPECT_FALSE(Dispatcher::InboxOwner("_INBOX..x"));
  EXPECT_FALSE(Dispatcher::InboxOwner("deliver.alice.notify.general"));
  EXPECT_FALSE(Dispatcher::InboxOwner(""));
  EXPECT_FALSE(Dispatcher::InboxOwner("_INBOX.*.x"));
}

TEST(DispatcherStatic, ResultLabelFallsBackToAllowedValues) {
  std::vector<std::string> room = {"ok", "denied", "not_found", "error"};
  EXPECT_EQ(Dispatcher::ResultLabel(Status(), room), "ok");
  EXPECT_EQ(Dispatcher::ResultLabel(chat::core::InvalidArgument("x"), room), "denied");
  EXPECT_EQ(Dispatcher::ResultLabel(chat::core::NotFound("x"), room), "not_found");
  EXPECT_EQ(Dispatcher::ResultLabel(chat::core::Unavailable("x"), room), "error");
  std::vector<std::string> poll = {"ok", "denied", "invalid", "error"};
  EXPECT_EQ(Dispatcher::ResultLabel(chat::core::InvalidArgument("x"), poll), "invalid");
  std::vector<std::string> plain = {"ok", "error"};
  EXPECT_EQ(Dispatcher::ResultLabel(chat::core::PermissionDenied("x"), plain), "error");
}

TEST_F(DispatcherTest, ServeDecodesFillsUserRepliesAndCounts) {
  ServeCreate();
  // Zero-initialised before any request (observability §6.1).
  EXPECT_EQ(Count("ok"), 0);
  EXPECT_EQ(Count("error"), 0);
  EXPECT_EQ(Failures("room.create.{user}", "internal"), 0);

  auto alice = Connect("alice-client", "_INBOX.alice");
  auto reply = alice->Request(subjects::kRoomCreate, {"alice"}, R"({"name":"team-a"})", 2s,
                              tel::SpanContext{});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto info = contracts::FromReply<contracts::RoomInfo>(reply->payload());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->name, "team-a");
  EXPECT_EQ(info->creator, "alice");
  EXPECT_EQ(seen_user_, "alice");
  EXPECT_EQ(seen_body_user_, "alice");  // filled from the subject
  ExpectCountReaches("ok", 1);
  EXPECT_EQ(duration_.With({"create"}).Count(), 1U);

  ASSERT_TRUE(chat::testing::WaitFor(
      [&] { return tel_.FindSpan("process room.create.{user}").has_value(); }, 5s));
  auto span = *tel_.FindSpan("process room.create.{user}");
  EXPECT_EQ(span.kind, tel::SpanKind::kServer);
  EXPECT_EQ(span.status_code, tel::StatusCode::kUnset);
  EXPECT_EQ(sdk::StringAttribute(span, contracts::attr::kUser).value_or(""), "alice");
  // The common attributes come from the dispatcher, not the handler: the handler above sets none.
  EXPECT_EQ(sdk::StringAttribute(span, contracts::attr::kReplyResult).value_or(""), "ok");
  EXPECT_FALSE(sdk::StringAttribute(span, contracts::attr::kRoom).has_value());  // no {room}
}

// One route serving several actions labels each request with its subject's action, and any
// other token with the fallback: a client-chosen token never becomes a label value.
TEST_F(DispatcherTest, SubjectLabelTakesListedValuesAndFallsBackForOthers) {
  auto app_requests = tel_.metrics().AddCounter("kb_requests_total", "t", {"action", "result"});
  auto app_duration = tel_.metrics().AddHistogram("kb_request_duration_seconds", "t",
                                                  tel::kBucketsNats, {"action"});
  app_metrics_ = RouteMetrics{&app_requests, &app_duration, {}, {"ok", "invalid", "error"}};
  app_metrics_.subject_label = RouteMetrics::SubjectLabel{"action", {"list", "create"}};
  auto st = dispatcher_->Serve<chat::runtime::RawPayload>(
      subjects::kAppKbRequest, {.metrics = &app_metrics_},
      [](const chat::runtime::RawPayload&, RequestContext& ctx) -> Result<chat::runtime::RawReply> {
        if (ctx.Arg("action") == "create") return chat::core::InvalidArgument("no title");
        return chat::runtime::RawReply{"{}"};
      });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(service_conn_->Flush(2s).ok());
  for (std::string_view action : {"list", "create", "unknown"}) {
    for (std::string_view result : {"ok", "invalid", "error"}) {
      EXPECT_EQ(app_requests.With({action, result}).Value(), 0) << action << " " << result;
    }
  }

  auto alice = Connect("alice-client", "_INBOX.alice");
  for (std::string_view action : {"list", "create", "drop-tables", "list"}) {
    auto reply =
        alice->Request(subjects::kAppKbRequest, {"general", action, "alice"}, "{}", 2s, {});
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  }
  auto count = [&](std::string_view action, std::string_view result) {
    return app_requests.With({action, result}).Value();
  };
  EXPECT_TRUE(chat::testing::WaitFor([&] { return count("list", "ok") == 2; }, 5s));
  EXPECT_TRUE(chat::testing::WaitFor([&] { return count("create", "invalid") == 1; }, 5s));
  EXPECT_TRUE(chat::testing::WaitFor([&] { return count("unknown", "ok") == 1; }, 5s));
  EXPECT_EQ(app_duration.With({"list"}).Count(), 2U);
  EXPECT_EQ(app_duration.With({"unknown"}).Count(), 1U);
}

TEST_F(DispatcherTest, BodyUserThatDisagreesIsRefused) {
  ServeCreate();
  auto alice = Connect("alice-client", "_INBOX.alice");
  auto reply = alice->Request(subjects::kRoomCreate, {"alice"}, R"({"name":"team-a","user":"bob"})",
                              2s, tel::SpanContext{});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto info = contracts::FromReply<contracts::RoomInfo>(reply->payload());
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(calls_.load(), 0);
  ExpectCountReaches("denied", 1);  // invalid maps to the route's "denied"
  ExpectFailuresReach("room.create.{user}", "invalid_argument", 1);
  EXPECT_TRUE(chat::testing::WaitFor([&] { return HasLogLine("WARN", "request rejected"); }, 5s));
}

TEST_F(DispatcherTest, MalformedJsonIsInvalidArgument) {
  ServeCreate();
  auto alice = Connect("alice-client", "_INBOX.alice");
  for (std::string_view body : {"{not json", "[1,2]", R"({"name":42})"}) {
    auto reply = alice->Request(subjects::kRoomCreate, {"alice"}, body, 2s, tel::SpanContext{});
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    auto err = contracts::FromJson<contracts::ErrorReply>(reply->payload());
    ASSERT_TRUE(err.ok()) << reply->payload();
    EXPECT_EQ(err->code, ErrorCode::kInvalidArgument) << body;
    EXPECT_FALSE(err->message.empty());
  }
  EXPECT_EQ(calls_.load(), 0);
  ExpectFailuresReach("room.create.{user}", "invalid_argument", 3);
}

TEST_F(DispatcherTest, HandlerErrorsBecomeErrorRepliesErrorSpansAndOneLog) {
  ServeCreate();
  auto alice = Connect("alice-client", "_INBOX.alice");
  auto reply = alice->Request(subjects::kRoomCreate, {"alice"}, R"({"name":"broken"})", 2s,
                              tel::SpanContext{});
  ASSERT_TRUE(reply.ok());
  auto err = contracts::FromJson<contracts::ErrorReply>(reply->payload());
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->code, ErrorCode::kUnavailable);
  ExpectCountReaches("error", 1);
  ExpectFailuresReach("room.create.{user}", "unavailable", 1);
  ASSERT_TRUE(chat::testing::WaitFor([&] { return HasLogLine("ERROR", "request failed"); }, 5s));
  // The log line is written inside the span; the span reaches the exporter when it ends, after.
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] { return tel_.FindSpan("process room.create.{user}").has_value(); }, 5s));
  auto span = *tel_.FindSpan("process room.create.{user}");
  EXPECT_EQ(span.status_code, tel::StatusCode::kError);
  // The ERROR log line carries the span's trace id (observability §1.2).
  bool found = false;
  for (const auto& line : tel_.LogLines()) {
    if (line.find("request failed") != std::string::npos &&
        line.find(span.trace_id.Hex()) != std::string::npos) {
      found = true;
    }
  }
  EXPECT_TRUE(found);

  reply = alice->Request(subjects::kRoomCreate, {"alice"}, R"({"name":"taken"})", 2s,
                         tel::SpanContext{});
  ASSERT_TRUE(reply.ok());
  err = contracts::FromJson<contracts::ErrorReply>(reply->payload());
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->code, ErrorCode::kAlreadyExists);
  ExpectCountReaches("denied", 1);
}

TEST_F(DispatcherTest, ThrowingHandlerAnswersInternal) {
  ServeCreate();
  auto alice = Connect("alice-client", "_INBOX.alice");
  auto reply = alice->Request(subjects::kRoomCreate, {"alice"}, R"({"name":"boom"})", 2s,
                              tel::SpanContext{});
  ASSERT_TRUE(reply.ok());
  auto err = contracts::FromJson<contracts::ErrorReply>(reply->payload());
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->code, ErrorCode::kInternal);
  EXPECT_EQ(err->message.find("kaboom"), std::string::npos);  // no internals leak to clients
  ExpectFailuresReach("room.create.{user}", "internal", 1);
}

// The process span of the index-th room.create request (one delivery thread: they end in order).
std::optional<tel::SpanData> SpanOfRequest(sdk::InMemoryTelemetry& t, std::size_t index) {
  std::vector<tel::SpanData> found;
  for (auto& s : t.Spans()) {
    if (s.name == "process room.create.{user}") found.push_back(std::move(s));
  }
  if (found.size() <= index) return std::nullopt;
  return found[index];
}

// observability §1.3: a refusal is a business result (like an HTTP 4xx on a server span), so
// HighErrorRate — which counts ERROR entry spans — must not see it; a fault of the service must.
TEST_F(DispatcherTest, RefusalsLeaveTheSpanUnsetWithTheirResultAndFaultsSetError) {
  ServeCreate();
  auto alice = Connect("alice-client", "_INBOX.alice");
  // In this order: already_exists, invalid_argument (body user), unavailable, internal (throws).
  for (std::string_view body : {R"({"name":"taken"})", R"({"name":"x","user":"bob"})",
                                R"({"name":"broken"})", R"({"name":"boom"})"}) {
    auto reply = alice->Request(subjects::kRoomCreate, {"alice"}, body, 2s, tel::SpanContext{});
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_TRUE(contracts::IsErrorReply(reply->payload())) << reply->payload();
  }
  ASSERT_TRUE(chat::testing::WaitFor([&] { return SpanOfRequest(tel_, 3).has_value(); }, 5s));

  struct Want {
    std::string_view reply_result, code;
    bool error;
  };
  const Want want[] = {{"denied", "already_exists", false},
                       {"invalid", "invalid_argument", false},
                       {"error", "unavailable", true},
                       {"error", "internal", true}};
  for (std::size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(want[i].code);
    auto span = *SpanOfRequest(tel_, i);
    EXPECT_EQ(span.kind, tel::SpanKind::kServer);
    EXPECT_EQ(sdk::StringAttribute(span, contracts::attr::kReplyResult).value_or(""),
              want[i].reply_result);
    if (want[i].error) {
      EXPECT_EQ(span.status_code, tel::StatusCode::kError);
      EXPECT_EQ(sdk::StringAttribute(span, "error.type").value_or(""), want[i].code);
      EXPECT_NE(sdk::FindEvent(span, "exception"), nullptr);
      EXPECT_EQ(sdk::FindEvent(span, "rejected"), nullptr);
    } else {
      EXPECT_EQ(span.status_code, tel::StatusCode::kUnset);
      EXPECT_EQ(sdk::StringAttribute(span, "error.type").value_or(""), want[i].code);
      EXPECT_EQ(sdk::FindEvent(span, "exception"), nullptr);
      const tel::SpanEvent* rejected = sdk::FindEvent(span, "rejected");
      ASSERT_NE(rejected, nullptr);
      const auto* reason = sdk::FindAttribute(rejected->attributes, contracts::attr::kReason);
      ASSERT_NE(reason, nullptr);
      EXPECT_EQ(std::get<std::string>(*reason), want[i].code);
    }
  }
  // Still counted and logged as what they are.
  ExpectFailuresReach("room.create.{user}", "already_exists", 1);
  ExpectFailuresReach("room.create.{user}", "internal", 1);
  EXPECT_TRUE(chat::testing::WaitFor([&] { return HasLogLine("WARN", "request rejected"); }, 5s));
  EXPECT_TRUE(chat::testing::WaitFor([&] { return HasLogLine("ERROR", "request failed"); }, 5s));
}

TEST_F(DispatcherTest, SubjectUserRoutesAnswerOnlyTheUsersOwnInbox) {
  ServeCreate();
  // alice publishes on her own subject but asks for the reply to go to bob's inbox.
  auto bob = Connect("bob-client", "_INBOX.bob");
  std::atomic<int> bob_got{0};
  auto sub = bob->Subscribe({.templates = {chat::core::SubjectTemplate{"_INBOX.bob.{id}"}}},
                            [&](const natsx::Message&, natsx::MessageContext&) {
                              bob_got++;
                              return Status();
                            });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(bob->Flush(2s).ok());
  auto alice = Connect("alice-client", "_INBOX.alice");
  ASSERT_EQ(natsConnection_PublishRequestString(alice->native(), "room.create.alice",
                                                "_INBOX.bob.forged", R"({"name":"x"})"),
            NATS_OK);
  ASSERT_TRUE(alice->Flush(2s).ok());
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] { return Failures("room.create.{user}", "permission_denied") == 1; }, 5s));
  EXPECT_EQ(calls_.load(), 0);
  // A ping through bob's connection proves the forged reply would have arrived by now.
  ASSERT_TRUE(bob->Flush(2s).ok());
  EXPECT_EQ(bob_got.load(), 0);
}

TEST_F(DispatcherTest, ReplyInboxRoutesTakeTheUserFromTheInbox) {
  list_metrics_ =
      RouteMetrics{&requests_, nullptr, {"list"}, {"ok", "denied", "not_found", "error"}};
  auto st = dispatcher_->Serve<contracts::RoomListRequest>(
      subjects::kRoomList, {.metrics = &list_metrics_},
      [&](const contracts::RoomListRequest& req,
          RequestContext& ctx) -> Result<contracts::RoomListReply> {
        seen_user_ = std::string(ctx.user());
        seen_body_user_ = req.user;
        return contracts::RoomListReply{};
      });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(service_conn_->Flush(2s).ok());

  auto bob = Connect("bob-client", "_INBOX.bob");
  auto reply = bob->Request(subjects::kRoomList, {}, "", 2s, tel::SpanContext{});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(seen_user_, "bob");
  EXPECT_EQ(seen_body_user_, "bob");

  // Naming someone else in the body does not make the request theirs.
  reply = bob->Request(subjects::kRoomList, {}, R"({"user":"alice"})", 2s, tel::SpanContext{});
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(contracts::IsErrorReply(reply->payload()));

  // A reply subject without the "_INBOX.<owner>.<rest>" shape is refused outright. (Which owner
  // a client may use is pinned by its JWT: a user may subscribe only to _INBOX.{user}.>.)
  ASSERT_EQ(natsConnection_PublishRequestString(bob->native(), "room.list", "_INBOX.nobody", ""),
            NATS_OK);
  ASSERT_TRUE(bob->Flush(2s).ok());
  ASSERT_TRUE(
      chat::testing::WaitFor([&] { return Failures("room.list", "permission_denied") == 1; }, 5s));
}

TEST_F(DispatcherTest, ConsumeRejectKeepsSpanUnsetAndLogsWarn) {
  join_metrics_ = RouteMetrics{&requests_, nullptr, {"join"}, {"ok", "noop", "denied", "error"}};
  chat::testing::Latch done;
  auto st = dispatcher_->Consume<contracts::RoomMembershipRequest>(
      subjects::kRoomJoin, {.metrics = &join_metrics_},
      [&](const contracts::RoomMembershipRequest& req, RequestContext& ctx) -> Status {
        if (ctx.Arg("room") == "secret") {
          ctx.Reject("access_denied");
        } else if (req.user_id == "alice") {
          ctx.SetResult("noop");
        }
        done.Set();
        return Status();
      });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(service_conn_->Flush(2s).ok());

  auto alice = Connect("alice-client", "_INBOX.alice");
  ASSERT_TRUE(
      alice->Publish(subjects::kRoomJoin, {"secret", "alice"}, "{}", tel::SpanContext{}).ok());
  ASSERT_TRUE(done.Wait(5s));
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] {
        return requests_.With({"join", "denied"}).Value() == 1;
      },
      5s));
  ASSERT_TRUE(chat::testing::WaitFor([&] { return HasLogLine("WARN", "message rejected"); }, 5s));
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] { return tel_.FindSpan("process room.join.{room}.{user}").has_value(); }, 5s));
  auto span = *tel_.FindSpan("process room.join.{room}.{user}");
  EXPECT_EQ(span.kind, tel::SpanKind::kConsumer);
  EXPECT_EQ(span.status_code, tel::StatusCode::kUnset);
  // chat.room from the subject's {room}, chat.user from its {user}; no reply, no reply result.
  EXPECT_EQ(sdk::StringAttribute(span, contracts::attr::kRoom).value_or(""), "secret");
  EXPECT_EQ(sdk::StringAttribute(span, contracts::attr::kUser).value_or(""), "alice");
  EXPECT_FALSE(sdk::StringAttribute(span, contracts::attr::kReplyResult).has_value());
  bool has_event = false;
  for (const auto& e : span.events) has_event |= e.name == "rejected";
  EXPECT_TRUE(has_event);
  EXPECT_EQ(Failures("room.join.{room}.{user}", "invalid_argument"), 0);

  // An undecodable event from a user (the subject's {user}) is that user's malformed request:
  // counted and refused, but not an error of the service (observability §1.3).
  tel_.Clear();
  ASSERT_TRUE(
      alice->Publish(subjects::kRoomJoin, {"general", "alice"}, "{nope", tel::SpanContext{}).ok());
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] { return Failures("room.join.{room}.{user}", "invalid_argument") == 1; }, 5s));
  EXPECT_EQ(requests_.With({"join", "denied"}).Value(), 2);  // invalid → the route's "denied"
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] { return tel_.FindSpan("process room.join.{room}.{user}").has_value(); }, 5s));
  EXPECT_EQ(tel_.FindSpan("process room.join.{room}.{user}")->status_code, tel::StatusCode::kUnset);
}

TEST_F(DispatcherTest, UndecodableEventOnAServiceSubjectIsAnError) {
  // room.changed is published by services only: garbage there is a peer's fault (§4.4).
  auto st = dispatcher_->Consume<contracts::RoomChanged>(
      subjects::kRoomChanged, {},
      [](const contracts::RoomChanged&, RequestContext&) { return Status(); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(service_conn_->Flush(2s).ok());
  auto peer = Connect("peer", "");
  ASSERT_TRUE(peer->Publish(subjects::kRoomChanged, {"general"}, "{nope", tel::SpanContext{}).ok());
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] { return tel_.FindSpan("process room.changed.{room}").has_value(); }, 5s));
  auto span = *tel_.FindSpan("process room.changed.{room}");
  EXPECT_EQ(span.status_code, tel::StatusCode::kError);
  EXPECT_EQ(sdk::StringAttribute(span, "error.type").value_or(""), "invalid_argument");
  EXPECT_TRUE(chat::testing::WaitFor([&] { return HasLogLine("ERROR", "request failed"); }, 5s));
}

TEST_F(DispatcherTest, UntracedRoutesRecordNoSpansButStillCount) {
  heartbeat_metrics_ = RouteMetrics{&requests_, nullptr, {"heartbeat"}, {"ok", "error"}};
  chat::testing::Latch done;
  bool child_recording = true;
  auto st = dispatcher_->Consume<chat::runtime::RawPayload>(
      subjects::kPresenceHeartbeat, {.metrics = &heartbeat_metrics_, .traced = false},
      [&](const chat::runtime::RawPayload&, RequestContext& ctx) -> Status {
        auto child = ctx.StartSpan("put PRESENCE_CONN", tel::SpanKind::kClient);
        child_recording = child.IsRecording() || ctx.span().IsRecording();
        EXPECT_TRUE(ctx.span_context().IsValid());
        EXPECT_FALSE(ctx.span_context().IsSampled());
        done.Set();
        return Status();
      });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(service_conn_->Flush(2s).ok());
  auto alice = Connect("alice-client", "_INBOX.alice");
  auto root = client_tel_.tracer().StartSpan("tab", tel::SpanKind::kInternal, tel::SpanContext{});
  ASSERT_TRUE(alice->Publish(subjects::kPresenceHeartbeat, {"alice"}, "{}", root.Context()).ok());
  ASSERT_TRUE(done.Wait(5s));
  EXPECT_FALSE(child_recording);
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] {
        return requests_.With({"heartbeat", "ok"}).Value() == 1;
      },
      5s));
  EXPECT_FALSE(tel_.FindSpan("process presence.heartbeat.{user}").has_value());
  EXPECT_FALSE(tel_.FindSpan("put PRESENCE_CONN").has_value());
}

TEST_F(DispatcherTest, ConcurrencyNeedsAQueueGroup) {
  auto st = dispatcher_->Consume<chat::runtime::RawPayload>(
      subjects::kRoomChanged, {.concurrency = 3},
      [](const chat::runtime::RawPayload&, RequestContext&) { return Status(); });
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(dispatcher_->Routes().empty());
}

// ---- routes follow the subject catalogue ----

Status ConsumeRaw(Dispatcher& d, const chat::core::SubjectTemplate& tmpl,
                  const chat::runtime::RouteOptions& options = {}) {
  return d.Consume<chat::runtime::RawPayload>(
      tmpl, options, [](const chat::runtime::RawPayload&, RequestContext&) { return Status(); });
}

TEST_F(DispatcherTest, QueueGroupAndIdentityComeFromTheCatalogue) {
  ServeCreate();
  ASSERT_TRUE(ConsumeRaw(*dispatcher_, subjects::kChatRoom,
                         {.more_templates = {subjects::kChatThread}, .concurrency = 2})
                  .ok());
  ASSERT_TRUE(ConsumeRaw(*dispatcher_, subjects::kRoomChanged).ok());
  auto routes = dispatcher_->Routes();
  ASSERT_EQ(routes.size(), 4U);
  EXPECT_EQ(routes[0].template_text, "room.create.{user}");
  EXPECT_TRUE(routes[0].serve);
  EXPECT_EQ(routes[0].queue_group, "room-workers");
  EXPECT_EQ(routes[0].identity, Identity::kSubjectUser);
  EXPECT_EQ(routes[0].concurrency, 1);
  EXPECT_EQ(routes[1].template_text, "chat.{room}");
  EXPECT_EQ(routes[2].template_text, "chat.{room}.thread.{thread_id}");
  EXPECT_FALSE(routes[2].serve);
  EXPECT_EQ(routes[2].queue_group, "fanout-workers");
  EXPECT_EQ(routes[2].identity, Identity::kNone);
  EXPECT_EQ(routes[2].concurrency, 2);
  EXPECT_EQ(routes[3].queue_group, "");  // every instance sees every delta
}

TEST_F(DispatcherTest, ATemplateWithoutACatalogueRowIsRefused) {
  const chat::core::SubjectTemplate unknown{"room.rename.{room}.{user}"};
  Status st = ConsumeRaw(*dispatcher_, unknown);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("not in the subject catalogue"), std::string::npos) << st.ToString();
  // Also as an extra template of a known one.
  st = ConsumeRaw(*dispatcher_, subjects::kChatRoom, {.more_templates = {unknown}});
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(dispatcher_->Routes().empty());
}

TEST_F(DispatcherTest, APayloadTypeOtherThanTheCataloguesIsRefused) {
  EXPECT_EQ(chat::runtime::internal::TypeName<contracts::RoomCreateRequest>(), "RoomCreateRequest");
  // room.create carries a RoomCreateRequest, not a RoomListRequest.
  auto st = dispatcher_->Serve<contracts::RoomListRequest>(
      subjects::kRoomCreate, {},
      [](const contracts::RoomListRequest&, RequestContext&) -> Result<contracts::RoomInfo> {
        return contracts::RoomInfo{};
      });
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("RoomListRequest"), std::string::npos) << st.ToString();
  // An ignored body stands for the catalogue's "Empty" only.
  st = dispatcher_->Serve<chat::runtime::IgnoredBody>(
      subjects::kRoomCreate, {},
      [](const chat::runtime::IgnoredBody&, RequestContext&) -> Result<contracts::RoomInfo> {
        return contracts::RoomInfo{};
      });
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(dispatcher_->Routes().empty());
}

TEST_F(DispatcherTest, ServeAndConsumeFollowTheCataloguePattern) {
  // room.create is a request: an event route on it would never reply.
  EXPECT_EQ(ConsumeRaw(*dispatcher_, subjects::kRoomCreate).code(), ErrorCode::kInvalidArgument);
  auto st = dispatcher_->Serve<chat::runtime::RawPayload>(
      subjects::kRoomJoin, {},
      [](const chat::runtime::RawPayload&, RequestContext&) -> Result<contracts::OkReply> {
        return contracts::OkReply{};
      });
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
}

TEST_F(DispatcherTest, ConcurrencyOnlyWhereTheCatalogueLetsTheDeploymentChoose) {
  // room.join is ordered per instance (Concurrency::kOne).
  EXPECT_EQ(ConsumeRaw(*dispatcher_, subjects::kRoomJoin, {.concurrency = 2}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ConsumeRaw(*dispatcher_, subjects::kAppEvent, {.concurrency = -1}).code(),
            ErrorCode::kInvalidArgument);
  // Extra templates must share the first one's queue group, identity and concurrency class:
  // chat.{room} (no user) cannot ride on the ingest route (subject user).
  EXPECT_EQ(
      ConsumeRaw(*dispatcher_, subjects::kDeliverSend, {.more_templates = {subjects::kChatRoom}})
          .code(),
      ErrorCode::kInvalidArgument);
  EXPECT_TRUE(dispatcher_->Routes().empty());
}

}  // namespace

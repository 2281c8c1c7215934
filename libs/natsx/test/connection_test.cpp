#include <ios>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "chat/telemetry/semconv.hpp"
#include "fixture.hpp"

namespace natsx_test {
namespace {

namespace semconv = chat::telemetry::semconv;
using chat::core::ErrorCode;
using chat::core::Status;
using chat::testing::Latch;
using chat::testing::WaitFor;
using tel::SpanKind;
using tel::StatusCode;

constexpr chat::core::SubjectTemplate kSend{"deliver.{user}.send.{room}"};
constexpr chat::core::SubjectTemplate kRoom{"chat.{room}"};
constexpr chat::core::SubjectTemplate kThread{"chat.{room}.thread.{thread_id}"};
constexpr chat::core::SubjectTemplate kStray{"chat.{room}.other.{x}"};
constexpr chat::core::SubjectTemplate kCreate{"chat.room.create"};
constexpr chat::core::SubjectTemplate kEvents{"events.{kind}"};

constexpr const char* kValidTp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

void ExpectM(const tel::SpanData& s, std::string_view op_name, std::string_view op_type,
             std::string_view dest, std::string_view tmpl, int64_t size) {
  EXPECT_EQ(Str(s, semconv::kMessagingSystem), "nats");
  EXPECT_EQ(Str(s, semconv::kMessagingOperationName), op_name);
  EXPECT_EQ(Str(s, semconv::kMessagingOperationType), op_type);
  EXPECT_EQ(Str(s, semconv::kMessagingDestinationName), dest);
  EXPECT_EQ(Str(s, semconv::kMessagingDestinationTemplate), tmpl);
  EXPECT_EQ(Int(s, semconv::kMessagingMessageBodySize), size);
  EXPECT_EQ(Str(s, semconv::kMessagingClientId), "natsx-test");
}

TEST_F(NatsxTest, PublishSubscribeConsumerIsChildOfProducer) {
  Latch got;
  std::string room, user, payload;
  auto sub = conn_->Subscribe({.templates = {kSend}},
                              [&](const natsx::Message& m, natsx::MessageContext&) {
                                room = std::string(m.Arg("room").value_or(""));
                                user = std::string(m.Arg("user").value_or(""));
                                payload = std::string(m.payload());
                                EXPECT_EQ(m.subject_template()->text(), kSend.text());
                                got.Set();
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(conn_->Flush(2s).ok());

  auto root = tel_.tracer().StartSpan("click_send", SpanKind::kInternal, tel::SpanContext{});
  ASSERT_TRUE(conn_->Publish(kSend, {"alice", "general"}, "hello", root.Context()).ok());
  ASSERT_TRUE(got.Wait(5s));
  EXPECT_EQ(room, "general");
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(payload, "hello");

  auto producer = WaitSpan("publish deliver.{user}.send.{room}");
  auto consumer = WaitSpan("process deliver.{user}.send.{room}");
  ASSERT_TRUE(producer && consumer);
  EXPECT_EQ(producer->kind, SpanKind::kProducer);
  EXPECT_EQ(consumer->kind, SpanKind::kConsumer);
  EXPECT_EQ(producer->trace_id, root.Context().trace_id);
  EXPECT_EQ(producer->parent_span_id, root.Context().span_id);
  EXPECT_EQ(consumer->trace_id, producer->trace_id);
  EXPECT_EQ(consumer->parent_span_id, producer->span_id);
  ExpectM(*producer, "publish", "send", "deliver.alice.send.general", "deliver.{user}.send.{room}",
          5);
  ExpectM(*consumer, "process", "process", "deliver.alice.send.general",
          "deliver.{user}.send.{room}", 5);
  EXPECT_EQ(Str(*producer, semconv::kServerAddress), "127.0.0.1");
  EXPECT_EQ(Int(*producer, semconv::kServerPort), server_->port());
  EXPECT_EQ(producer->status_code, StatusCode::kUnset);
  EXPECT_EQ(consumer->status_code, StatusCode::kUnset);
  // No span name carries a concrete value.
  for (const auto& s : tel_.Spans()) {
    EXPECT_EQ(s.name.find("alice"), std::string::npos) << s.name;
    EXPECT_EQ(s.name.find("general"), std::string::npos) << s.name;
  }
}

TEST_F(NatsxTest, PublishWithoutParentStartsRootAndInjectsItsOwnContext) {
  Latch got;
  std::string tp;
  auto sub = conn_->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message& m, natsx::MessageContext&) {
                                tp = std::string(m.Header("traceparent").value_or(""));
                                got.Set();
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  // Extra headers named like trace headers are ignored: natsx alone writes them.
  ASSERT_TRUE(conn_
                  ->Publish(kEvents, {"x"}, "{}", tel::SpanContext{},
                            {{"traceparent", kValidTp}, {"x-app", "1"}})
                  .ok());
  ASSERT_TRUE(got.Wait(5s));
  auto producer = WaitSpan("publish events.{kind}");
  ASSERT_TRUE(producer);
  EXPECT_FALSE(producer->parent_span_id.IsValid());
  tel::SpanContext pc;
  pc.trace_id = producer->trace_id;
  pc.span_id = producer->span_id;
  pc.trace_flags = tel::kTraceFlagSampled;
  EXPECT_EQ(tp, tel::FormatTraceparent(pc));
}

TEST_F(NatsxTest, PublishInContextInjectsTheCallersContextWithoutASpan) {
  Latch got;
  std::string tp;
  auto sub = conn_->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message& m, natsx::MessageContext&) {
                                tp = std::string(m.Header("traceparent").value_or(""));
                                got.Set();
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  tel::Span stream =
      tel_.telemetry().tracer.StartSpan("stream", tel::SpanKind::kInternal, tel::SpanContext{});
  ASSERT_TRUE(conn_->PublishInContext(kEvents, {"x"}, "{}", stream.Context()).ok());
  ASSERT_TRUE(got.Wait(5s));
  EXPECT_EQ(tp, tel::FormatTraceparent(stream.Context()));
  stream.End();
  EXPECT_FALSE(tel_.FindSpan("publish events.{kind}").has_value());
  EXPECT_EQ(conn_->PublishInContext(kEvents, {"a.b"}, "{}", stream.Context()).code(),
            chat::core::ErrorCode::kInvalidArgument);
}

TEST_F(NatsxTest, OneSubscriptionServesSeveralTemplates) {
  std::atomic<int> n{0};
  auto sub = conn_->Subscribe({.templates = {kRoom, kThread}, .pattern = "chat.>"},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                ++n;
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  ASSERT_TRUE(conn_->Publish(kRoom, {"general"}, "a", {}).ok());
  ASSERT_TRUE(conn_->Publish(kThread, {"general", "general-1700"}, "b", {}).ok());
  ASSERT_TRUE(conn_->Publish(kStray, {"general", "y"}, "c", {}).ok());
  ASSERT_TRUE(conn_->Publish(kRoom, {"random"}, "d", {}).ok());
  ASSERT_TRUE(WaitFor([&] { return n.load() == 3; }, 5s));
  ASSERT_TRUE(WaitSpan("process chat.{room}", 2));
  auto thread = WaitSpan("process chat.{room}.thread.{thread_id}");
  ASSERT_TRUE(thread);
  EXPECT_EQ(Str(*thread, semconv::kMessagingDestinationName), "chat.general.thread.general-1700");
  // The stray subject matched no template: counted, no process span, no crash.
  EXPECT_TRUE(tel_.FindSpans("process chat.{room}.other.{x}").empty());
  EXPECT_EQ(CounterValue("natsx_messages_rejected_total", {"no_template"}, {"reason"}), 1);
}

TEST_F(NatsxTest, QueueGroupIsRecorded) {
  Latch got;
  auto sub = conn_->Subscribe({.templates = {kRoom}, .queue_group = "persist"},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                got.Set();
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  ASSERT_TRUE(conn_->Publish(kRoom, {"general"}, "x", {}).ok());
  ASSERT_TRUE(got.Wait(5s));
  auto s = WaitSpan("process chat.{room}");
  ASSERT_TRUE(s);
  EXPECT_EQ(Str(*s, semconv::kMessagingConsumerGroupName), "persist");
}

TEST_F(NatsxTest, RequestReplyServerIsChildOfClient) {
  auto sub = conn_->Subscribe(
      {.templates = {kCreate}, .queue_group = "room", .kind = natsx::ProcessKind::kServer},
      [&](const natsx::Message& m, natsx::MessageContext& ctx) {
        auto child = ctx.StartSpan("room.insert");
        return ctx.Respond(std::string("re:") + std::string(m.payload()));
      });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  auto reply = conn_->Request(kCreate, {}, "ping", 5s, {});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->payload(), "re:ping");
  EXPECT_FALSE(reply->Header("traceparent").has_value());  // replies carry no trace headers

  auto client = WaitSpan("request chat.room.create");
  auto server = WaitSpan("process chat.room.create");
  auto child = WaitSpan("room.insert");
  ASSERT_TRUE(client && server && child);
  EXPECT_EQ(client->kind, SpanKind::kClient);
  EXPECT_EQ(server->kind, SpanKind::kServer);
  EXPECT_EQ(server->parent_span_id, client->span_id);
  EXPECT_EQ(server->trace_id, client->trace_id);
  EXPECT_EQ(child->parent_span_id, server->span_id);
  ExpectM(*client, "request", "send", "chat.room.create", "chat.room.create", 4);
  EXPECT_EQ(Str(*server, semconv::kMessagingOperationType), "process");
  EXPECT_EQ(client->status_code, StatusCode::kUnset);
}

TEST_F(NatsxTest, RequestTimeoutIsDeadlineExceededAndError) {
  auto sub = conn_->Subscribe({.templates = {kCreate}, .kind = natsx::ProcessKind::kServer},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                return Status::Ok();  // never replies
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  auto reply = conn_->Request(kCreate, {}, "ping", 200ms, {});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kDeadlineExceeded);
  auto client = WaitSpan("request chat.room.create");
  ASSERT_TRUE(client);
  EXPECT_EQ(client->status_code, StatusCode::kError);
  EXPECT_EQ(Str(*client, semconv::kErrorType), "timeout");
  EXPECT_NE(sdk::FindEvent(*client, "exception"), nullptr);
}

TEST_F(NatsxTest, NoRespondersIsUnavailableAndError) {
  auto reply = conn_->Request(kCreate, {}, "ping", 2s, {});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kUnavailable);
  auto client = WaitSpan("request chat.room.create");
  ASSERT_TRUE(client);
  EXPECT_EQ(client->status_code, StatusCode::kError);
  EXPECT_EQ(Str(*client, semconv::kErrorType), "no_responders");
}

TEST_F(NatsxTest, InvalidArgumentsAreRejectedBeforeSending) {
  auto st = conn_->Publish(kSend, {"alice", "a.b"}, "x", {});
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  auto r = conn_->Request(kSend, {"alice"}, "x", 1s, {});
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(NatsxTest, InvalidTraceparentStartsNewRootAndIsCounted) {
  // Series exist at zero before anything happened (§6.1).
  for (auto reason : {"malformed", "multiple", "zero_id", "bad_version"}) {
    EXPECT_EQ(CounterValue("trace_context_invalid_total", {reason}, {"reason"}), 0) << reason;
  }
  std::atomic<int> n{0};
  auto sub = conn_->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                ++n;
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  RawPublish("events.a", "1", {{"traceparent", "garbage"}});
  RawPublish("events.b", "2",
             {{"traceparent", "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01"}});
  RawPublish("events.c", "3", {{"traceparent", kValidTp}, {"traceparent", kValidTp}});
  RawPublish("events.d", "4",
             {{"traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01"}});
  RawPublish("events.e", "5",
             {{"traceparent", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}});
  ASSERT_TRUE(WaitFor([&] { return n.load() == 5; }, 5s));  // still processed
  auto spans = WaitSpan("process events.{kind}", 5);
  ASSERT_TRUE(spans);
  for (const auto& s : tel_.FindSpans("process events.{kind}")) {
    EXPECT_FALSE(s.parent_span_id.IsValid()) << Str(s, semconv::kMessagingDestinationName);
    EXPECT_NE(s.trace_id.Hex(), "0af7651916cd43dd8448eb211c80319c");
  }
  EXPECT_EQ(CounterValue("trace_context_invalid_total", {"malformed"}, {"reason"}), 2);
  EXPECT_EQ(CounterValue("trace_context_invalid_total", {"multiple"}, {"reason"}), 1);
  EXPECT_EQ(CounterValue("trace_context_invalid_total", {"zero_id"}, {"reason"}), 1);
  EXPECT_EQ(CounterValue("trace_context_invalid_total", {"bad_version"}, {"reason"}), 1);
  // Logged at DEBUG only.
  size_t debug_lines = 0;
  for (const auto& r : tel_.LogRecords()) {
    if (r.body == "invalid inbound trace context ignored") {
      EXPECT_EQ(r.level, tel::LogLevel::kDebug);
      ++debug_lines;
    }
  }
  EXPECT_EQ(debug_lines, 5u);
}

TEST_F(NatsxTest, UppercaseHeaderKeyIsAccepted) {
  Latch got;
  auto sub = conn_->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                got.Set();
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  RawPublish("events.a", "1", {{"Traceparent", kValidTp}, {"TraceState", "vendor=abc"}});
  ASSERT_TRUE(got.Wait(5s));
  auto s = WaitSpan("process events.{kind}");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->trace_id.Hex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(s->parent_span_id.Hex(), "b7ad6b7169203331");
  EXPECT_EQ(s->trace_state, "vendor=abc");
}

TEST_F(NatsxTest, XraceparentFallbackIsUsedAndCounted) {
  EXPECT_EQ(CounterValue("natsx_traceparent_fallback_total", {}, {}), 0);
  Latch got;
  auto sub = conn_->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                got.Set();
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  RawPublish("events.a", "1", {{"Xraceparent", kValidTp}});
  ASSERT_TRUE(got.Wait(5s));
  auto s = WaitSpan("process events.{kind}");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->parent_span_id.Hex(), "b7ad6b7169203331");
  EXPECT_EQ(CounterValue("natsx_traceparent_fallback_total", {}, {}), 1);
}

TEST_F(NatsxTest, HandlerErrorMarksProcessSpanError) {
  std::atomic<int> n{0};
  auto sub = conn_->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message& m, natsx::MessageContext& ctx) {
                                ++n;
                                if (m.Arg("kind") == "bad") {
                                  return chat::core::FailedPrecondition("room is archived");
                                }
                                // A business rejection: annotate, return OK.
                                ctx.span().SetAttribute("chat.ingest.result", "rate_limited");
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"bad"}, "x", {}).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"limited"}, "x", {}).ok());
  ASSERT_TRUE(WaitSpan("process events.{kind}", 2));
  auto spans = tel_.FindSpans("process events.{kind}");
  EXPECT_EQ(spans[0].status_code, StatusCode::kError);
  EXPECT_EQ(Str(spans[0], semconv::kErrorType), "failed_precondition");
  EXPECT_NE(sdk::FindEvent(spans[0], "exception"), nullptr);
  EXPECT_EQ(spans[1].status_code, StatusCode::kUnset);
  EXPECT_EQ(Str(spans[1], "chat.ingest.result"), "rate_limited");
}

TEST_F(NatsxTest, HandlerExceptionIsContained) {
  std::atomic<int> n{0};
  auto sub = conn_->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message& m, natsx::MessageContext&) -> Status {
                                ++n;
                                if (m.Arg("kind") == "boom") throw std::runtime_error("boom");
                                if (m.Arg("kind") == "int") throw 42;
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"boom"}, "x", {}).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"int"}, "x", {}).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"fine"}, "x", {}).ok());
  ASSERT_TRUE(WaitSpan("process events.{kind}", 3));  // the process survived
  auto spans = tel_.FindSpans("process events.{kind}");
  EXPECT_EQ(spans[0].status_code, StatusCode::kError);
  EXPECT_EQ(Str(spans[0], semconv::kErrorType), "internal");
  const auto* ev = sdk::FindEvent(spans[0], "exception");
  ASSERT_NE(ev, nullptr);
  EXPECT_EQ(spans[1].status_code, StatusCode::kError);
  EXPECT_EQ(spans[2].status_code, StatusCode::kUnset);
  EXPECT_EQ(CounterValue("natsx_handler_exceptions_total", {}, {}), 2);
  size_t errors = 0;
  for (const auto& r : tel_.LogRecords()) {
    if (r.level == tel::LogLevel::kError) {
      ++errors;
      EXPECT_TRUE(r.trace_id.IsValid());  // carries the span's trace id
    }
  }
  EXPECT_EQ(errors, 2u);
}

TEST_F(NatsxTest, OversizedPayloadIsRejected) {
  auto small = Connect("natsx-test", {.max_inbound_payload_bytes = 16});
  ASSERT_NE(small, nullptr);
  std::atomic<int> n{0};
  auto sub = small->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                ++n;
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(small->Flush(2s).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"big"}, std::string(100, 'x'), {}).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"small"}, "tiny", {}).ok());
  auto s = WaitSpan("process events.{kind}");  // delivery is in order: big was seen first
  ASSERT_TRUE(s);
  EXPECT_EQ(Str(*s, semconv::kMessagingDestinationName), "events.small");
  EXPECT_EQ(n.load(), 1);
  EXPECT_EQ(CounterValue("natsx_messages_rejected_total", {"oversized"}, {"reason"}), 1);
}

// An exception thrown by natsx's delivery code around the handler (here: the log line of an
// oversized message, written to an output that fails the way a closed stderr with exceptions
// enabled does) was swallowed by an empty catch. It is counted and logged, and the subscription
// keeps delivering.
TEST_F(NatsxTest, ExceptionOutsideTheHandlerIsCountedAndLogged) {
  std::mutex lines_mu;
  std::vector<std::string> lines;
  tel::Logger logger("natsx-test", tel::LogLevel::kDebug, nullptr,
                     chat::core::SystemClock::Instance(), [&](std::string_view line) {
                       if (line.find("payload too large") != std::string_view::npos) {
                         throw std::ios_base::failure("write to the log output failed");
                       }
                       std::lock_guard lock(lines_mu);
                       lines.emplace_back(line);
                     });
  tel::MetricRegistry registry;
  tel::Telemetry telemetry{tel::Tracer{}, &logger, &registry};
  natsx::ConnectionOptions o;
  o.urls = {server_->url()};
  o.name = "failing-log";
  o.max_inbound_payload_bytes = 16;
  auto conn = natsx::Connection::Connect(o, telemetry);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  std::atomic<int> n{0};
  auto sub = (*conn)->Subscribe({.templates = {kEvents}},
                                [&](const natsx::Message&, natsx::MessageContext&) {
                                  ++n;
                                  return Status::Ok();
                                });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE((*conn)->Flush(2s).ok());
  auto counter = registry.AddCounter("natsx_dispatch_exceptions_total", "");
  EXPECT_EQ(counter.Default().Value(), 0);  // zero-initialised (§6.1)

  ASSERT_TRUE(conn_->Publish(kEvents, {"big"}, std::string(100, 'x'), {}).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"small"}, "tiny", {}).ok());
  ASSERT_TRUE(WaitFor([&] { return n.load() == 1; }, 5s)) << "the subscription stopped delivering";
  EXPECT_EQ(counter.Default().Value(), 1);
  std::lock_guard lock(lines_mu);
  bool logged = false;
  for (const auto& line : lines) {
    if (line.find(R"("level":"ERROR")") != std::string::npos &&
        line.find("nats message delivery threw") != std::string::npos &&
        line.find("write to the log output failed") != std::string::npos) {
      logged = true;
    }
  }
  EXPECT_TRUE(logged);
  sub->reset();
}

TEST_F(NatsxTest, ConnectedGaugeFlipsAndReconnectsAreCounted) {
  EXPECT_EQ(GaugeValue("nats_client_connected"), 1);
  EXPECT_EQ(CounterValue("nats_client_reconnects_total", {}, {}), 0);
  for (auto type : {"slow_consumer", "permission", "other"}) {
    EXPECT_EQ(CounterValue("nats_client_errors_total", {type}, {"type"}), 0) << type;
  }
  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(WaitFor([&] { return GaugeValue("nats_client_connected") == 0; }, 10s));
  EXPECT_FALSE(conn_->IsConnected());
  ASSERT_TRUE(server_->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return GaugeValue("nats_client_connected") == 1; }, 15s));
  EXPECT_EQ(CounterValue("nats_client_reconnects_total", {}, {}), 1);
  // Traffic flows again after the reconnect.
  Latch got;
  auto sub = conn_->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                got.Set();
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"after"}, "x", {}).ok());
  EXPECT_TRUE(got.Wait(5s));
  bool warned = false;
  for (const auto& r : tel_.LogRecords()) {
    if (r.body == "nats disconnected") warned = r.level == tel::LogLevel::kWarn;
  }
  EXPECT_TRUE(warned);
}

TEST_F(NatsxTest, DrainClosesTheConnection) {
  std::atomic<int> n{0};
  auto sub = conn_->Subscribe({.templates = {kEvents}},
                              [&](const natsx::Message&, natsx::MessageContext& ctx) {
                                ++n;
                                // A message without reply subject cannot be answered.
                                EXPECT_EQ(ctx.Respond("x").code(), ErrorCode::kFailedPrecondition);
                                EXPECT_EQ(ctx.Ack().code(), ErrorCode::kFailedPrecondition);
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"last"}, "x", {}).ok());
  ASSERT_TRUE(WaitFor([&] { return n.load() == 1; }, 5s));
  ASSERT_TRUE(conn_->Drain(5s).ok());
  EXPECT_EQ(GaugeValue("nats_client_connected"), 0);
  EXPECT_FALSE(conn_->IsConnected());
  // Our own close is not a fault: no disconnect warning.
  for (const auto& r : tel_.LogRecords()) EXPECT_NE(r.body, "nats disconnected");
  sub->reset();  // destroying a subscription of a drained connection returns promptly
  EXPECT_EQ(conn_->Publish(kEvents, {"late"}, "x", {}).code(), ErrorCode::kUnavailable);
}

TEST_F(NatsxTest, SlowConsumerIsCounted) {
  chat::testing::Latch release;
  std::atomic<int> n{0};
  auto sub = conn_->Subscribe({.templates = {kEvents}, .pending_msgs_limit = 5},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                if (n++ == 0) release.Wait(10s);
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(conn_->Publish(kEvents, {"slow"}, "x", {}).ok());
  bool counted = WaitFor(
      [&] { return CounterValue("nats_client_errors_total", {"slow_consumer"}, {"type"}) >= 1; },
      10s);
  release.Set();
  EXPECT_TRUE(counted);
}

TEST_F(NatsxTest, WorkerPoolHandlesOtherMessagesWhileOneHandlerWaits) {
  // One subscription, three handler threads: a message stuck in its handler must not hold up
  // the ones behind it (with one thread, or one of several queue subscriptions picked at random
  // by the server, they would wait for it).
  chat::testing::Latch release;
  std::atomic<int> others{0};
  std::atomic<int> handled{0};
  auto sub = conn_->Subscribe({.templates = {kEvents}, .queue_group = "pool", .workers = 3},
                              [&](const natsx::Message& msg, natsx::MessageContext&) {
                                if (msg.payload() == "stuck") {
                                  release.Wait(10s);
                                } else {
                                  ++others;
                                }
                                ++handled;
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(conn_->Flush(2s).ok());
  ASSERT_TRUE(conn_->Publish(kEvents, {"pool"}, "stuck", {}).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(conn_->Publish(kEvents, {"pool"}, "next", {}).ok());
  EXPECT_TRUE(WaitFor([&] { return others.load() == 20; }, 10s)) << others.load();
  EXPECT_EQ(handled.load(), 20);  // the stuck one is still running
  release.Set();
  ASSERT_TRUE((*sub)->Drain(5s).ok());
  EXPECT_EQ(handled.load(), 21);
  EXPECT_EQ((*sub)->delivered(), 21u);
}

TEST_F(NatsxTest, ClosingAFullPoolReturnsAndDropsWhatWaits) {
  // Both workers stuck, two messages queued, the delivery thread waiting for room with more
  // behind it: closing must wake that thread (else libnats never reports the subscription
  // complete) and let the running handlers finish; what still waits may be dropped.
  chat::testing::Latch release;
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  auto sub = conn_->Subscribe({.templates = {kEvents}, .queue_group = "pool", .workers = 2},
                              [&](const natsx::Message&, natsx::MessageContext&) {
                                ++started;
                                release.Wait(10s);
                                ++finished;
                                return Status::Ok();
                              });
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(conn_->Flush(2s).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(conn_->Publish(kEvents, {"pool"}, "x", {}).ok());
  ASSERT_TRUE(WaitFor([&] { return started.load() == 2; }, 10s));
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    sub->reset();
    closed = true;
  });
  release.Set();
  EXPECT_TRUE(WaitFor([&] { return closed.load(); }, 10s));
  closer.join();
  EXPECT_EQ(started.load(), finished.load());  // no handler cut short, none left running
}

TEST_F(NatsxTest, WorkerPoolNeedsAWorker) {
  auto sub =
      conn_->Subscribe({.templates = {kEvents}, .workers = 0},
                       [](const natsx::Message&, natsx::MessageContext&) { return Status::Ok(); });
  EXPECT_EQ(sub.status().code(), ErrorCode::kInvalidArgument);
}

class NatsxAuthTest : public NatsxTest {
 protected:
  chat::testing::NatsServer::Options ServerOptions() override {
    return {.jetstream = false, .extra_args = {"--auth", "s3cret-token"}};
  }
  void SetUp() override {
    auto s = chat::testing::NatsServer::Create(ServerOptions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
};

TEST_F(NatsxAuthTest, TokenCredentials) {
  natsx::ConnectionOptions bad{.urls = {server_->url()},
                               .name = "bad",
                               .credentials = natsx::Credentials::FromToken("wrong"),
                               .allow_reconnect = false};
  auto c = natsx::Connection::Connect(bad, tel_.telemetry());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kUnauthenticated);
  natsx::ConnectionOptions good{.urls = {server_->url()},
                                .name = "good",
                                .credentials = natsx::Credentials::FromToken("s3cret-token")};
  auto g = natsx::Connection::Connect(good, tel_.telemetry());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE((*g)->IsConnected());
  for (const auto& line : tel_.LogLines()) EXPECT_EQ(line.find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace natsx_test

namespace natsx_test {
namespace {

TEST_F(NatsxTest, LinkInboundMakesTheRecipientARootLinkedToTheProducer) {
  chat::testing::Latch got;
  natsx::SubscribeOptions so;
  so.templates = {chat::core::SubjectTemplate{"room.notify.{room}"}};
  so.link_inbound = true;
  auto sub = conn_->Subscribe(so, [&](const natsx::Message&, natsx::MessageContext&) {
    got.Set();
    return chat::core::Status::Ok();
  });
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(conn_->Flush(2s).ok());
  auto root = tel_.tracer().StartSpan("fanout", tel::SpanKind::kInternal, tel::SpanContext{});
  ASSERT_TRUE(conn_
                  ->Publish(chat::core::SubjectTemplate{"room.notify.{room}"}, {"general"}, "{}",
                            root.Context())
                  .ok());
  ASSERT_TRUE(got.Wait(5s));
  auto producer = WaitSpan("publish room.notify.{room}");
  auto consumer = WaitSpan("process room.notify.{room}");
  ASSERT_TRUE(producer && consumer);
  EXPECT_FALSE(consumer->parent_span_id.IsValid()) << "a new root, not a child";
  EXPECT_NE(consumer->trace_id, producer->trace_id);
  ASSERT_EQ(consumer->links.size(), 1u);
  EXPECT_EQ(consumer->links[0].context.span_id, producer->span_id);
  EXPECT_EQ(consumer->links[0].context.trace_id, producer->trace_id);
  ASSERT_EQ(consumer->links[0].attributes.size(), 1u);
  EXPECT_EQ(consumer->links[0].attributes[0].key, chat::telemetry::semconv::kChatLinkReason);
}

}  // namespace
}  // namespace natsx_test

// runtime::NatsBus / NatsJetStream / NatsKeyValue against a real nats-server with JetStream: the
// runtime interfaces services use carry natsx's behaviour through unchanged — a publish is a
// PRODUCER span whose context reaches the consumer, KV results and codes (not_found,
// already_exists) and entry operations map one to one, KV calls are CLIENT spans, watches and
// ReadLiveKeys see only live keys, and Dispatcher/BatchConsumer accept the runtime types.
#include "chat/runtime/nats_bus.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/kv.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/wait_for.hpp"

namespace {

using namespace std::chrono_literals;
namespace natsx = chat::natsx;
namespace runtime = chat::runtime;
namespace tel = chat::telemetry;
using chat::core::ErrorCode;

class NatsBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = chat::testing::NatsServer::Create();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    natsx::ConnectionOptions o;
    o.urls = {server_->url()};
    o.name = "bus-test";
    auto c = natsx::Connection::Connect(o, tel_.telemetry());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conn_ = std::move(*c);
    bus_ = std::make_unique<runtime::NatsBus>(*conn_);
    auto js = bus_->OpenJetStream({});
    ASSERT_TRUE(js.ok()) << js.status().ToString();
    js_ = std::move(*js);
  }

  std::optional<tel::SpanData> WaitSpan(std::string_view name) {
    if (!chat::testing::WaitFor([&] { return tel_.FindSpan(name).has_value(); }, 5s)) {
      return std::nullopt;
    }
    return tel_.FindSpan(name);
  }

  tel::sdk::InMemoryTelemetry tel_;
  std::unique_ptr<chat::testing::NatsServer> server_;
  std::unique_ptr<natsx::Connection> conn_;
  std::unique_ptr<runtime::NatsBus> bus_;
  std::unique_ptr<runtime::JetStream> js_;
};

TEST_F(NatsBusTest, PublishIsAProducerSpanWhoseContextReachesTheConsumer) {
  const chat::core::SubjectTemplate tmpl{"room.notify.{room}"};
  chat::testing::Latch got;
  natsx::SubscribeOptions so;
  so.templates = {tmpl};
  auto sub = conn_->Subscribe(so, [&](const natsx::Message&, natsx::MessageContext&) {
    got.Set();
    return chat::core::Status::Ok();
  });
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(bus_->Flush(2s).ok());
  EXPECT_TRUE(bus_->IsConnected());

  auto root = tel_.tracer().StartSpan("work", tel::SpanKind::kInternal, tel::SpanContext{});
  ASSERT_TRUE(bus_->Publish(tmpl, {"general"}, "{}", root.Context()).ok());
  ASSERT_TRUE(got.Wait(5s));
  auto producer = WaitSpan("publish room.notify.{room}");
  auto consumer = WaitSpan("process room.notify.{room}");
  ASSERT_TRUE(producer && consumer);
  EXPECT_EQ(producer->kind, tel::SpanKind::kProducer);
  EXPECT_EQ(producer->parent_span_id, root.Context().span_id);
  EXPECT_EQ(consumer->trace_id, producer->trace_id);
  EXPECT_EQ(consumer->parent_span_id, producer->span_id);
  // Bad args are refused as natsx refuses them.
  EXPECT_EQ(bus_->Publish(tmpl, {}, "{}", {}).code(), ErrorCode::kInvalidArgument);
}

TEST_F(NatsBusTest, KeyValueKeepsNatsxResultsCodesAndSpans) {
  runtime::KeyValueConfig config;
  config.bucket = "T_BUS";
  config.memory_storage = true;
  auto kv = js_->CreateKeyValue(config);
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  runtime::KeyValue& bucket = **kv;
  EXPECT_EQ(bucket.bucket(), "T_BUS");

  auto put = bucket.Put("a.x", "1", {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto got = bucket.Get("a.x", {});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key, "a.x");
  EXPECT_EQ(got->value, "1");
  EXPECT_EQ(got->revision, *put);
  EXPECT_EQ(got->operation, runtime::KvEntry::Operation::kPut);
  EXPECT_GT(got->created_unix_nano, 0);

  EXPECT_EQ(bucket.Create("a.x", "2", {}).status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(bucket.Update("a.x", "2", *put + 10, {}).status().code(), ErrorCode::kAlreadyExists);
  auto updated = bucket.Update("a.x", "2", *put, {});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_GT(*updated, *put);
  ASSERT_TRUE(bucket.Create("b.y", "3", {}).ok());
  ASSERT_TRUE(bucket.Delete("b.y", {}).ok());
  EXPECT_EQ(bucket.Get("b.y", {}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(bucket.Get("never", {}).status().code(), ErrorCode::kNotFound);

  auto get_span = WaitSpan("get T_BUS");
  ASSERT_TRUE(get_span.has_value());
  EXPECT_EQ(get_span->kind, tel::SpanKind::kClient);

  // A watch with history sees the delete as a delete, then the end of the initial values.
  auto watcher = bucket.Watch("", {}, /*include_history=*/true);
  ASSERT_TRUE(watcher.ok()) << watcher.status().ToString();
  std::vector<runtime::KvEntry::Operation> ops;
  while (true) {
    bool timed_out = false;
    auto next = (*watcher)->Next(5s, &timed_out);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    ASSERT_FALSE(timed_out);
    if (!next->has_value()) break;
    if ((*next)->key == "b.y") ops.push_back((*next)->operation);
  }
  (*watcher)->Stop();
  ASSERT_FALSE(ops.empty());
  EXPECT_EQ(ops.back(), runtime::KvEntry::Operation::kDelete);

  // Only live keys reach a key reader.
  std::vector<std::string> keys;
  ASSERT_TRUE(
      runtime::LiveKeys(bucket, {})([&](std::string_view k) { keys.emplace_back(k); }).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"a.x"}));

  // Bind reaches the same bucket; a missing one is an error.
  auto bound = js_->BindKeyValue("T_BUS");
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  auto again = (*bound)->Get("a.x", {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->value, "2");
  EXPECT_FALSE(js_->BindKeyValue("T_MISSING").ok());
}

TEST_F(NatsBusTest, StreamsConsumersAndDispatcherOverTheBus) {
  runtime::StreamConfig sc;
  sc.name = "T_BUS_STREAM";
  sc.subjects = {"tbus.>"};
  sc.memory_storage = true;
  ASSERT_TRUE(js_->AddOrUpdateStream(sc).ok());
  runtime::ConsumerConfig cc;
  cc.stream = sc.name;
  cc.durable = "t-bus";
  ASSERT_TRUE(js_->AddOrUpdateConsumer(cc).ok());
  // The natsx objects behind the runtime handles are the ones runtime built.
  EXPECT_EQ(&runtime::NativeConnection(*bus_), conn_.get());
  auto* nats_js = dynamic_cast<runtime::NatsJetStream*>(js_.get());
  ASSERT_NE(nats_js, nullptr);
  EXPECT_EQ(&runtime::NativeJetStream(*js_), &nats_js->native());

  runtime::Dispatcher dispatcher(*bus_, chat::core::SystemClock::Instance());
  EXPECT_EQ(&dispatcher.connection(), conn_.get());
  EXPECT_TRUE(dispatcher.Routes().empty());
}

TEST_F(NatsBusTest, ReconnectListenersRegisterThroughTheBus) {
  uint64_t id = bus_->AddReconnectListener([] {});
  EXPECT_NE(id, 0u);
  bus_->RemoveReconnectListener(id);
  EXPECT_EQ(&bus_->telemetry(), &conn_->telemetry());
}

}  // namespace

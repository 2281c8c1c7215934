// BatchConsumer against a real nats-server with JetStream: one handler call per batch with the
// decoded items, and per item the outcome the handler chose (ack, nak with its delay, term) with
// its span status and events, metrics and the one log line; undecodable payloads never reach
// the handler; a throwing handler keeps what it decided and NAKs the rest.
#include "chat/runtime/batch_consumer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "chat/contracts/messages.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/wait_for.hpp"

namespace {

using namespace std::chrono_literals;
namespace natsx = chat::natsx;
namespace tel = chat::telemetry;
namespace sdk = chat::telemetry::sdk;
namespace subjects = chat::contracts::subjects;
using chat::contracts::ChatMessage;
using chat::runtime::BatchConsumer;
using chat::runtime::BatchItem;
using chat::runtime::BatchMetrics;
using chat::runtime::BatchOptions;
using chat::runtime::BatchResult;
using Item = BatchItem<ChatMessage>;

constexpr const char* kStream = "TEST_BATCH";
constexpr const char* kDurable = "test-batch";

class BatchConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = chat::testing::NatsServer::Create();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    natsx::ConnectionOptions o;
    o.urls = {server_->url()};
    o.name = "batch-test";
    auto c = natsx::Connection::Connect(o, tel_.telemetry());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conn_ = std::move(*c);
    auto js = natsx::JetStream::Create(*conn_);
    ASSERT_TRUE(js.ok()) << js.status().ToString();
    js_ = std::move(*js);
    natsx::StreamConfig sc;
    sc.name = kStream;
    sc.subjects = {"chat.*"};
    sc.memory_storage = true;
    ASSERT_TRUE(js_->AddOrUpdateStream(sc).ok());
    natsx::ConsumerConfig cc;
    cc.stream = kStream;
    cc.durable = kDurable;
    ASSERT_TRUE(js_->AddOrUpdateConsumer(cc).ok());

    persisted_ = tel_.metrics().AddCounter("t_persisted_total", "t", {"action"});
    errors_ = tel_.metrics().AddCounter("t_errors_total", "t", {"action", "reason"});
    redeliveries_ = tel_.metrics().AddCounter("t_redeliveries_total", "t");
    duration_ =
        tel_.metrics().AddHistogram("t_duration_seconds", "t", tel::kBucketsNats, {"action"});
    metrics_.acked = {{"persisted", &persisted_, true}};
    metrics_.errors = &errors_;
    metrics_.redeliveries = &redeliveries_;
    metrics_.duration = &duration_;
  }
  void TearDown() override {
    if (consumer_) consumer_->Drain(5s);
    consumer_.reset();
  }

  BatchOptions Options() {
    BatchOptions o;
    o.batch_size = 10;
    o.fetch_timeout = 100ms;
    o.metrics = &metrics_;
    o.label_key = "chat.action";
    o.undecodable_label = [](std::string_view) { return std::string_view("edit"); };
    o.ack_log = "thing done";
    o.nak_log = "thing failed";
    o.term_log = "thing terminated";
    return o;
  }

  // Published before the consumer starts, so its first fetch takes them all in one batch.
  void Publish(const std::string& payload) {
    auto seq = js_->Publish(subjects::kChatRoom, {"general"}, payload, {});
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  }
  static std::string Msg(const std::string& text) {
    return R"({"user":"u","timestamp":1,"room":"general","text":")" + text + "\"}";
  }

  template <typename F>
  void Start(F handler) {
    auto c = BatchConsumer::Start<ChatMessage>(*js_, chat::core::SystemClock::Instance(), kStream,
                                               kDurable, {subjects::kChatRoom}, Options(),
                                               std::move(handler));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    consumer_ = std::move(*c);
  }

  // The process span of stream sequence `seq`, once it has ended.
  std::optional<tel::SpanData> ProcessSpan(int seq) {
    for (auto& s : tel_.Spans()) {
      if (s.name == "process chat.{room}" &&
          sdk::StringAttribute(s, tel::semconv::kMessagingMessageId) == std::to_string(seq)) {
        return s;
      }
    }
    return std::nullopt;
  }
  bool WaitSpans(int n) {
    return chat::testing::WaitFor(
        [&] {
          for (int i = 1; i <= n; ++i) {
            if (!ProcessSpan(i)) return false;
          }
          return true;
        },
        10s);
  }
  int LogCount(const std::string& msg) {
    int n = 0;
    for (const auto& line : tel_.LogLines()) {
      if (line.find("\"" + msg + "\"") != std::string::npos) ++n;
    }
    return n;
  }

  sdk::InMemoryTelemetry tel_;
  std::unique_ptr<chat::testing::NatsServer> server_;
  std::unique_ptr<natsx::Connection> conn_;
  std::unique_ptr<natsx::JetStream> js_;
  tel::Counter persisted_;
  tel::Counter errors_;
  tel::Counter redeliveries_;
  tel::Histogram duration_;
  BatchMetrics metrics_;
  std::unique_ptr<BatchConsumer> consumer_;
};

TEST_F(BatchConsumerTest, EachItemGetsTheOutcomeItsHandlerChose) {
  Publish(Msg("ack"));
  Publish(Msg("nak"));
  Publish(Msg("term"));
  Publish("not json");
  std::mutex mu;
  std::vector<std::vector<std::string>> calls;
  Start([&](std::vector<Item>& items) {
    std::vector<std::string> texts;
    for (Item& it : items) {
      texts.push_back(it.value.text);
      EXPECT_EQ(it.context.Arg("room"), "general");
      if (it.value.text == "ack") {
        it.result = BatchResult::Ack("send", "persisted", {{"chat.room", "general"}});
      } else if (it.value.text == "nak") {
        it.result = BatchResult::Nak("send", "db_error", chat::core::Unavailable("db down"), 60s);
      } else {
        it.result =
            BatchResult::Term("send", "invalid_payload", chat::core::InvalidArgument("wrong room"));
      }
    }
    std::lock_guard lock(mu);
    calls.push_back(std::move(texts));
  });
  ASSERT_TRUE(WaitSpans(4));
  {
    std::lock_guard lock(mu);
    // One call with the three decodable items; the undecodable one never reaches the handler.
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0], (std::vector<std::string>{"ack", "nak", "term"}));
  }
  auto ack = *ProcessSpan(1);
  auto nak = *ProcessSpan(2);
  auto term = *ProcessSpan(3);
  auto garbage = *ProcessSpan(4);
  for (const auto* s : {&ack, &nak, &term, &garbage}) {
    EXPECT_EQ(sdk::IntAttribute(*s, "chat.batch.size"), 4);
  }
  EXPECT_EQ(ack.status_code, tel::StatusCode::kUnset);
  EXPECT_NE(sdk::FindEvent(ack, "ack"), nullptr);
  EXPECT_EQ(sdk::StringAttribute(ack, "chat.action"), "send");
  EXPECT_EQ(nak.status_code, tel::StatusCode::kError);
  EXPECT_NE(sdk::FindEvent(nak, "nak"), nullptr);
  EXPECT_EQ(sdk::StringAttribute(nak, tel::semconv::kErrorType), "db_error");
  EXPECT_EQ(term.status_code, tel::StatusCode::kError);
  EXPECT_NE(sdk::FindEvent(term, "term"), nullptr);
  EXPECT_EQ(garbage.status_code, tel::StatusCode::kError);
  EXPECT_NE(sdk::FindEvent(garbage, "term"), nullptr);
  EXPECT_EQ(sdk::StringAttribute(garbage, tel::semconv::kErrorType), "invalid_payload");
  EXPECT_EQ(sdk::StringAttribute(garbage, "chat.action"), "edit");

  EXPECT_EQ(persisted_.With({"send"}).Value(), 1);
  EXPECT_EQ(duration_.With({"send"}).Count(), 1u);
  EXPECT_EQ(errors_.With({"send", "db_error"}).Value(), 1);
  EXPECT_EQ(errors_.With({"send", "invalid_payload"}).Value(), 1);
  EXPECT_EQ(errors_.With({"edit", "invalid_payload"}).Value(), 1);
  EXPECT_EQ(redeliveries_.Default().Value(), 0);
  EXPECT_TRUE(chat::testing::WaitFor([&] { return LogCount("thing terminated") == 2; }, 5s));
  EXPECT_EQ(LogCount("thing done"), 1);
  EXPECT_EQ(LogCount("thing failed"), 1);
}

TEST_F(BatchConsumerTest, AThrowingHandlerKeepsItsDecisionsAndNaksTheRest) {
  Publish(Msg("first"));
  Publish(Msg("second"));
  std::atomic<int> calls{0};
  Start([&](std::vector<Item>& items) {
    if (calls++ > 0) {
      // The redelivery of "second": acknowledge it so the test ends quietly.
      for (Item& it : items) it.result = BatchResult::Ack("send", "persisted");
      return;
    }
    items.front().result = BatchResult::Ack("send", "persisted");
    throw std::runtime_error("boom");
  });
  ASSERT_TRUE(WaitSpans(2));
  EXPECT_NE(sdk::FindEvent(*ProcessSpan(1), "ack"), nullptr);
  auto second = *ProcessSpan(2);
  EXPECT_NE(sdk::FindEvent(second, "nak"), nullptr);
  EXPECT_EQ(second.status_code, tel::StatusCode::kError);
  EXPECT_EQ(errors_.With({"edit", "internal"}).Value(), 1);  // no label chosen: the fallback
}

}  // namespace

// chat-peer: a small real service used by the foundation end-to-end tests. It runs under
// runtime::ServiceMain exactly like the chat services will (config, telemetry SDK exporting
// OTLP to the sink, admin server, NATS, signals, ordered shutdown), so the tests prove the whole
// path: process A's PRODUCER span → process B's CONSUMER span, request/reply, JetStream publish
// → durable consumer, a Postgres query under a span, and a log line carrying the trace id.
//
// CHAT_PEER_MODE=producer: for each of CHAT_PEER_COUNT rounds, under a root INTERNAL span
//   "e2e_round", publishes e2e.{room}, requests e2e.echo.{room} and JetStream-publishes
//   e2e.js.{room}; prints one JSON line per round with the trace ids, then {"event":"done"}.
//   With CHAT_PEER_RATE_SPANS > 0 it instead produces that many spans per second (load for the
//   exporter-down drill) until stopped, printing {"event":"spans","count":N} every second.
// CHAT_PEER_MODE=consumer: queue-subscribes to e2e.{room}, answers e2e.echo.{room}, and pulls
//   e2e.js.{room} from a durable consumer; for each message it logs "e2e message processed"
//   and, when CHAT_PEER_PG_DSN is set, runs one SELECT on messages as a child span.
// Both print {"event":"ready","metrics_port":N} once set up.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/pg/pool.hpp"
#include "chat/runtime/service_main.hpp"

namespace {

using chat::core::Result;
using chat::core::Status;
using chat::core::SubjectTemplate;
using chat::telemetry::SpanKind;

constexpr SubjectTemplate kRoomMsg("e2e.{room}");
constexpr SubjectTemplate kEcho("e2e.echo.{room}");
constexpr SubjectTemplate kJs("e2e.js.{room}");
constexpr const char* kStream = "E2E";
constexpr const char* kDurable = "e2e-worker";

const chat::pg::Statement kCountMessages{
    "e2e_count_messages", "SELECT count(*) FROM messages WHERE room = $1", "SELECT", "messages"};

void PrintLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

Status SetUpStream(chat::natsx::JetStream& js) {
  chat::natsx::StreamConfig stream;
  stream.name = kStream;
  stream.subjects = {"e2e.js.>"};
  CHAT_RETURN_IF_ERROR(js.AddOrUpdateStream(stream));
  chat::natsx::ConsumerConfig consumer;
  consumer.stream = kStream;
  consumer.durable = kDurable;
  consumer.ack_wait = std::chrono::seconds(5);
  return js.AddOrUpdateConsumer(consumer);
}

class Producer final : public chat::runtime::Service {
 public:
  explicit Producer(chat::runtime::ServiceContext& ctx) : ctx_(ctx) {}

  Status Start() {
    auto js = chat::natsx::JetStream::Create(ctx_.nats());
    if (!js.ok()) return js.status();
    js_ = std::move(js).value();
    CHAT_RETURN_IF_ERROR(SetUpStream(*js_));
    chat::core::EnvReader reader(ctx_.env());
    count_ = reader.Int("CHAT_PEER_COUNT", 3, 0, 1'000'000);
    rate_ = reader.Int("CHAT_PEER_RATE_SPANS", 0, 0, 10'000'000);
    room_ = reader.String("CHAT_PEER_ROOM", "general");
    CHAT_RETURN_IF_ERROR(reader.Finish());
    worker_ = std::thread([this] { rate_ > 0 ? Load() : Rounds(); });
    return Status::Ok();
  }

  void Drain(std::chrono::milliseconds) override {
    stop_ = true;
    if (worker_.joinable()) worker_.join();
  }
  ~Producer() override { Drain(std::chrono::milliseconds(0)); }
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

 private:
  void Rounds() {
    const auto& tracer = ctx_.telemetry().tracer;
    for (int64_t i = 0; i < count_ && !stop_; ++i) {
      auto root = tracer.StartSpan("e2e_round", SpanKind::kInternal, {});
      root.SetAttribute("chat.room", room_);
      const auto& parent = root.Context();
      std::string payload = "{\"round\":" + std::to_string(i) + "}";
      Status pub = ctx_.nats().Publish(kRoomMsg, {room_}, payload, parent);
      auto reply = ctx_.nats().Request(kEcho, {room_}, payload, std::chrono::seconds(5), parent);
      auto seq = js_->Publish(kJs, {room_}, payload, parent);
      std::string reply_text =
          reply.ok() ? std::string(reply->payload()) : reply.status().message();
      PrintLine(std::string(R"({"event":"round","trace_id":")") + root.Context().trace_id.Hex() +
                R"(","publish_ok":)" + (pub.ok() ? "true" : "false") +
                ",\"request_ok\":" + (reply.ok() ? "true" : "false") +
                ",\"js_ok\":" + (seq.ok() ? "true" : "false") + "}");
      ctx_.telemetry().logger->Info(root.Context(), "e2e round sent",
                                    {{"chat.room", room_}, {"chat.e2e.reply", reply_text}});
    }
    PrintLine(R"({"event":"done"})");
  }

  // Many short spans as fast as asked, for the exporter-down drill: chat keeps working while
  // telemetry cannot leave the process.
  void Load() {
    const auto& tracer = ctx_.telemetry().tracer;
    using Clock = std::chrono::steady_clock;
    auto next_report = Clock::now() + std::chrono::seconds(1);
    int64_t in_second = 0;
    int64_t total = 0;
    while (!stop_) {
      {
        auto span = tracer.StartSpan("e2e_load", SpanKind::kInternal, {});
        span.SetAttribute("chat.room", room_);
        span.SetAttribute("chat.e2e.n", total);
      }
      ++total;
      if (++in_second >= rate_) {
        std::this_thread::sleep_until(next_report);  // pacing of a load generator
      }
      if (Clock::now() >= next_report) {
        PrintLine(R"({"event":"spans","count":)" + std::to_string(total) + "}");
        next_report += std::chrono::seconds(1);
        in_second = 0;
      }
    }
  }

  chat::runtime::ServiceContext& ctx_;
  std::unique_ptr<chat::natsx::JetStream> js_;
  int64_t count_ = 0;
  int64_t rate_ = 0;
  std::string room_;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

class Consumer final : public chat::runtime::Service {
 public:
  explicit Consumer(chat::runtime::ServiceContext& ctx) : ctx_(ctx) {}

  Status Start() {
    chat::core::EnvReader reader(ctx_.env());
    std::string dsn = reader.String("CHAT_PEER_PG_DSN", "");
    CHAT_RETURN_IF_ERROR(reader.Finish());
    if (!dsn.empty()) {
      chat::pg::PoolOptions opts;
      opts.dsn = dsn;
      opts.size = 2;
      auto pool = chat::pg::Pool::Create(std::move(opts), ctx_.telemetry());
      if (!pool.ok()) return pool.status();
      pool_ = std::move(pool).value();
    }
    chat::natsx::SubscribeOptions sub;
    sub.templates = {kRoomMsg};
    sub.queue_group = "e2e-workers";
    auto s1 = ctx_.nats().Subscribe(
        sub, [this](const auto& msg, auto& mctx) { return Handle(msg, mctx); });
    if (!s1.ok()) return s1.status();
    subs_.push_back(std::move(s1).value());

    chat::natsx::SubscribeOptions echo;
    echo.templates = {kEcho};
    echo.kind = chat::natsx::ProcessKind::kServer;
    auto s2 = ctx_.nats().Subscribe(echo, [](const auto& msg, auto& mctx) {
      return mctx.Respond("echo:" + std::string(msg.payload()));
    });
    if (!s2.ok()) return s2.status();
    subs_.push_back(std::move(s2).value());

    auto js = chat::natsx::JetStream::Create(ctx_.nats());
    if (!js.ok()) return js.status();
    js_ = std::move(js).value();
    CHAT_RETURN_IF_ERROR(SetUpStream(*js_));
    auto consumer = js_->BindPullConsumer(kStream, kDurable, {kJs});
    if (!consumer.ok()) return consumer.status();
    consumer_ = std::move(consumer).value();
    worker_ = std::thread([this] {
      while (!stop_) {
        (void)consumer_->Fetch(16, std::chrono::milliseconds(200),
                               [this](const auto& m, auto& c) { return Handle(m, c); });
      }
    });
    return Status::Ok();
  }

  void Drain(std::chrono::milliseconds timeout) override {
    stop_ = true;
    if (worker_.joinable()) worker_.join();
    // A pull subscription left open keeps the connection's drain from completing: drop our
    // interest (the durable stays on the server) before ServiceMain drains the connection.
    consumer_.reset();
    for (auto& s : subs_) (void)s->Drain(timeout);
  }
  ~Consumer() override { Drain(std::chrono::milliseconds(1000)); }
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

 private:
  Status Handle(const chat::natsx::Message& msg, chat::natsx::MessageContext& mctx) {
    std::string room(msg.Arg("room").value_or(""));
    mctx.span().SetAttribute("chat.room", room);
    if (pool_) {
      auto rows = pool_->Execute(mctx.span_context(), kCountMessages, {room});
      if (!rows.ok()) return rows.status();
    }
    mctx.telemetry().logger->Info(mctx.span_context(), "e2e message processed",
                                  {{"chat.room", room}});
    return Status::Ok();
  }

  chat::runtime::ServiceContext& ctx_;
  std::unique_ptr<chat::pg::Pool> pool_;
  std::unique_ptr<chat::natsx::JetStream> js_;
  std::unique_ptr<chat::natsx::PullConsumer> consumer_;
  std::vector<std::unique_ptr<chat::natsx::Subscription>> subs_;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

template <typename T>
Result<std::unique_ptr<chat::runtime::Service>> StartPeer(chat::runtime::ServiceContext& ctx) {
  auto peer = std::make_unique<T>(ctx);
  CHAT_RETURN_IF_ERROR(peer->Start());
  PrintLine(R"({"event":"ready","metrics_port":)" + std::to_string(ctx.admin_port()) + "}");
  return std::unique_ptr<chat::runtime::Service>(std::move(peer));
}

}  // namespace

int main() {
  static const chat::core::ProcessEnv kEnv;
  const char* mode_env = std::getenv("CHAT_PEER_MODE");
  std::string mode = mode_env != nullptr ? mode_env : "";
  if (mode != "producer" && mode != "consumer") {
    std::fprintf(stderr, "config: CHAT_PEER_MODE \"%s\" is not one of producer, consumer\n",
                 mode.c_str());
    return 2;
  }
  chat::runtime::ServiceInfo info{"e2e-" + mode, 0};
  return chat::runtime::ServiceMain(info,
                                    mode == "producer" ? StartPeer<Producer> : StartPeer<Consumer>,
                                    kEnv, chat::core::SystemClock::Instance());
}

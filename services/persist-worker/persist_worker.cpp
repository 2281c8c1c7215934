#include "persist_worker.hpp"

#include <string>

#include "chat/contracts/subjects.hpp"

namespace chat::persist_worker {

namespace js_names = contracts::jetstream;
namespace subjects = contracts::subjects;

PersistWorker::PersistWorker(PersistConfig config, natsx::Connection& nats,
                             const telemetry::Telemetry& telemetry, const core::Clock& clock)
    : config_(std::move(config)),
      nats_(nats),
      telemetry_(telemetry),
      clock_(clock),
      metrics_(PersistMetrics::Create(*telemetry.metrics)) {}

PersistWorker::~PersistWorker() { Drain(std::chrono::seconds(10)); }

core::Result<std::unique_ptr<PersistWorker>> PersistWorker::Create(
    PersistConfig config, natsx::Connection& nats, const telemetry::Telemetry& telemetry,
    const core::Clock& clock) {
  std::unique_ptr<PersistWorker> w(new PersistWorker(std::move(config), nats, telemetry, clock));
  pg::PoolOptions po;
  po.dsn = w->config_.database_url;
  // One connection per fetch loop plus one spare for the single-message retry path.
  po.size = static_cast<size_t>(w->config_.workers) + 1;
  po.statement_timeout = w->config_.statement_timeout;
  po.application_name = "persist-worker";
  // Come back quickly after a database restart; failures in between are NAK'd anyway.
  po.reconnect_backoff_max = std::chrono::milliseconds(2000);
  CHAT_ASSIGN_OR_RETURN(w->pool_, pg::Pool::Create(po, telemetry));
  natsx::JetStreamOptions jo;
  jo.clock = &clock;
  jo.trace_link_age = w->config_.trace_link_age;
  CHAT_ASSIGN_OR_RETURN(w->js_, natsx::JetStream::Create(nats, jo));
  w->processor_ =
      std::make_unique<BatchProcessor>(w->config_, *w->pool_, w->metrics_, telemetry, clock);
  return w;
}

core::Status PersistWorker::Start() {
  // system.md §4.1 caps CHAT_MESSAGES at 10,000 messages; at 5,000 msg/s that is two seconds of
  // traffic, so a Postgres outage under load would discard (DiscardOld) messages before they
  // are persisted. The stream is the only copy until the commit, hence the much larger limit.
  natsx::StreamConfig sc;
  sc.name = std::string(js_names::kStreamChatMessages);
  for (auto s : js_names::kChatMessagesSubjects) sc.subjects.emplace_back(s);
  sc.max_msgs = config_.stream_max_msgs;
  sc.max_age = config_.stream_max_age;
  sc.max_bytes = config_.stream_max_bytes;
  sc.max_msg_size = config_.stream_max_msg_size;
  CHAT_RETURN_IF_ERROR(js_->AddOrUpdateStream(sc));

  natsx::ConsumerConfig cc;
  cc.stream = sc.name;
  cc.durable = std::string(js_names::kDurablePersistWorker);
  cc.ack_wait = config_.ack_wait;
  cc.max_ack_pending = config_.max_ack_pending;
  CHAT_RETURN_IF_ERROR(js_->AddOrUpdateConsumer(cc));

  for (int i = 0; i < config_.workers; ++i) {
    CHAT_ASSIGN_OR_RETURN(
        auto consumer,
        js_->BindPullConsumer(sc.name, cc.durable,
                              {subjects::kChatRoom, subjects::kChatThread, subjects::kAdminRoom}));
    consumers_.push_back(std::move(consumer));
  }
  stopping_ = false;
  for (auto& c : consumers_) {
    natsx::PullConsumer* consumer = c.get();
    running_.fetch_add(1);
    threads_.emplace_back([this, consumer] { Loop(*consumer); });
  }
  telemetry_.logger->Info("persist-worker consuming",
                          {{"stream", std::string_view(sc.name)},
                           {"durable", std::string_view(cc.durable)},
                           {"workers", static_cast<int64_t>(config_.workers)},
                           {"batch_size", static_cast<int64_t>(config_.batch_size)},
                           {"stream_max_msgs", config_.stream_max_msgs},
                           {"stream_max_bytes", config_.stream_max_bytes}});
  return core::Status::Ok();
}

void PersistWorker::Loop(natsx::PullConsumer& consumer) {
  auto last_warn = std::chrono::steady_clock::time_point{};
  while (!stopping_.load()) {
    auto batch = consumer.FetchBatch(config_.batch_size, config_.fetch_timeout);
    if (!batch.ok()) {
      // NATS unreachable or the consumer is gone: the connection reconnects on its own.
      auto now = std::chrono::steady_clock::now();
      if (now - last_warn > std::chrono::seconds(10)) {
        last_warn = now;
        telemetry_.logger->Warn("persist-worker fetch failed",
                                {{"error", std::string_view(batch.status().message())}});
      }
      std::unique_lock lock(stop_mu_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_.load(); });
      continue;
    }
    if (batch->empty()) continue;
    processor_->Process(*batch);
    // Spans end and unacknowledged messages (none after Process) are released here.
  }
  running_.fetch_sub(1);
}

void PersistWorker::Drain(std::chrono::milliseconds timeout) {
  if (threads_.empty() && consumers_.empty()) return;
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // A loop finishes its in-flight batch, then sees stopping_ after at most one fetch timeout.
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  if (std::chrono::steady_clock::now() > deadline) {
    telemetry_.logger->Warn("persist-worker drain took longer than its budget");
  }
  consumers_.clear();  // releases the pull subscriptions (the durable stays on the server)
  telemetry_.logger->Info("persist-worker drained");
}

}  // namespace chat::persist_worker

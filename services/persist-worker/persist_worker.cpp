#include "persist_worker.hpp"

#include <string>

#include "chat/contracts/subjects.hpp"

namespace chat::persist_worker {

namespace js_names = contracts::jetstream;
namespace subjects = contracts::subjects;

PersistWorker::PersistWorker(PersistConfig config, const telemetry::Telemetry& telemetry,
                             const core::Clock& clock)
    : config_(std::move(config)),
      telemetry_(telemetry),
      clock_(clock),
      metrics_(PersistMetrics::Create(*telemetry.metrics)),
      batch_metrics_(BatchProcessor::Metrics(metrics_)) {}

PersistWorker::~PersistWorker() { Drain(std::chrono::seconds(10)); }

core::Result<std::unique_ptr<PersistWorker>> PersistWorker::Create(
    PersistConfig config, runtime::Bus& bus, const telemetry::Telemetry& telemetry,
    const core::Clock& clock) {
  std::unique_ptr<PersistWorker> w(new PersistWorker(std::move(config), telemetry, clock));
  CHAT_ASSIGN_OR_RETURN(w->store_, MessageStore::Create(w->config_, telemetry));
  runtime::JetStreamOptions jo;
  jo.clock = &clock;
  jo.trace_link_age = w->config_.trace_link_age;
  CHAT_ASSIGN_OR_RETURN(w->js_, bus.OpenJetStream(jo));
  w->processor_ = std::make_unique<BatchProcessor>(w->config_, *w->store_, telemetry, clock);
  return w;
}

core::Status PersistWorker::Start() {
  // system.md §4.1 caps CHAT_MESSAGES at 10,000 messages; at 5,000 msg/s that is two seconds of
  // traffic, so a Postgres outage under load would discard (DiscardOld) messages before they
  // are persisted. The stream is the only copy until the commit, hence the much larger limit.
  runtime::StreamConfig sc;
  sc.name = std::string(js_names::kStreamChatMessages);
  for (auto s : js_names::kChatMessagesSubjects) sc.subjects.emplace_back(s);
  sc.max_msgs = config_.stream_max_msgs;
  sc.max_age = config_.stream_max_age;
  sc.max_bytes = config_.stream_max_bytes;
  sc.max_msg_size = config_.stream_max_msg_size;
  CHAT_RETURN_IF_ERROR(js_->AddOrUpdateStream(sc));

  runtime::ConsumerConfig cc;
  cc.stream = sc.name;
  cc.durable = std::string(js_names::kDurablePersistWorker);
  cc.ack_wait = config_.ack_wait;
  cc.max_ack_pending = config_.max_ack_pending;
  CHAT_RETURN_IF_ERROR(js_->AddOrUpdateConsumer(cc));

  // The runtime owns fetching, acks, spans, metrics and logs; the processor decides outcomes.
  BatchProcessor* processor = processor_.get();
  CHAT_ASSIGN_OR_RETURN(
      consumer_, runtime::BatchConsumer::Start<contracts::ChatMessage>(
                     *js_, clock_, sc.name, cc.durable,
                     {subjects::kChatRoom, subjects::kChatThread, subjects::kAdminRoom},
                     BatchProcessor::Options(config_, batch_metrics_),
                     [processor](std::vector<BatchItem>& items) { processor->Handle(items); }));
  telemetry_.logger->Info("persist-worker consuming",
                          {{"stream", std::string_view(sc.name)},
                           {"durable", std::string_view(cc.durable)},
                           {"workers", static_cast<int64_t>(config_.workers)},
                           {"batch_size", static_cast<int64_t>(config_.batch_size)},
                           {"stream_max_msgs", config_.stream_max_msgs},
                           {"stream_max_bytes", config_.stream_max_bytes}});
  return core::Status::Ok();
}

void PersistWorker::Drain(std::chrono::milliseconds timeout) {
  if (consumer_ == nullptr) return;
  // Stops fetching, finishes the in-flight batches, releases the pull subscriptions.
  consumer_->Drain(timeout);
  consumer_.reset();
  telemetry_.logger->Info("persist-worker drained");
}

}  // namespace chat::persist_worker

// PersistWorker: persist-worker's whole service minus main() (docs/system.md §4.1, §6.3).
// Start() creates or updates the CHAT_MESSAGES stream and the durable pull consumer
// `persist-worker`, then starts a runtime::BatchConsumer with `workers` fetch loops; each batch
// goes to the BatchProcessor (one transaction; the runtime acks after commit). Drain() stops
// fetching, lets the in-flight batch finish, and releases the pull subscriptions.
#pragma once

#include <chrono>
#include <memory>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/runtime/batch_consumer.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"
#include "handlers/batch_processor.hpp"
#include "metrics.hpp"
#include "repository/message_repository.hpp"

namespace chat::persist_worker {

class PersistWorker {
 public:
  // Builds the message store (its pool) and metrics; nothing runs until Start(). `bus`,
  // `telemetry` and `clock` must outlive the worker.
  static core::Result<std::unique_ptr<PersistWorker>> Create(PersistConfig config,
                                                             runtime::Bus& bus,
                                                             const telemetry::Telemetry& telemetry,
                                                             const core::Clock& clock);
  ~PersistWorker();  // Drain()s if still running
  PersistWorker(const PersistWorker&) = delete;
  PersistWorker& operator=(const PersistWorker&) = delete;

  // Stream + consumer set-up, then the fetch loops. A database that is down at start is not an
  // error: messages wait in the stream and are NAK'd with backoff until it is back.
  core::Status Start();
  // Stops fetching, waits (up to `timeout`) for the in-flight batches, releases the consumers.
  void Drain(std::chrono::milliseconds timeout);

  const PersistConfig& config() const { return config_; }

 private:
  PersistWorker(PersistConfig config, const telemetry::Telemetry& telemetry,
                const core::Clock& clock);

  PersistConfig config_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;
  PersistMetrics metrics_;
  runtime::BatchMetrics batch_metrics_;
  std::unique_ptr<MessageStore> store_;
  std::unique_ptr<runtime::JetStream> js_;
  std::unique_ptr<BatchProcessor> processor_;
  std::unique_ptr<runtime::BatchConsumer> consumer_;
};

}  // namespace chat::persist_worker

// PersistWorker: persist-worker's whole service minus main() (docs/system.md §4.1, §6.3).
// Start() creates or updates the CHAT_MESSAGES stream and the durable pull consumer
// `persist-worker`, then runs `workers` fetch loops; each fetches a batch, hands it to the
// BatchProcessor (one transaction, ack after commit) and fetches again. Drain() stops fetching,
// lets the in-flight batch finish, and releases the pull subscriptions.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"
#include "handlers/batch_processor.hpp"
#include "metrics.hpp"

namespace chat::persist_worker {

class PersistWorker {
 public:
  // Builds the pool and metrics; nothing runs until Start(). `nats`, `telemetry` and `clock`
  // must outlive the worker.
  static core::Result<std::unique_ptr<PersistWorker>> Create(PersistConfig config,
                                                              natsx::Connection& nats,
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
  pg::Pool& pool() { return *pool_; }

 private:
  PersistWorker(PersistConfig config, natsx::Connection& nats,
                const telemetry::Telemetry& telemetry, const core::Clock& clock);
  void Loop(natsx::PullConsumer& consumer);

  PersistConfig config_;
  natsx::Connection& nats_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;
  PersistMetrics metrics_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<natsx::JetStream> js_;
  std::unique_ptr<BatchProcessor> processor_;
  std::vector<std::unique_ptr<natsx::PullConsumer>> consumers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  // Back-off waits (fetch failures) wait on this, so Drain — run the moment SIGTERM arrives —
  // ends them at once instead of after a sleep.
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::atomic<int> running_{0};
};

}  // namespace chat::persist_worker

// BatchProcessor: applies one fetched batch of CHAT_MESSAGES to Postgres (docs/system.md §6.3,
// docs/observability.md §4.6). Plain inserts of the batch go into one multi-row INSERT; edits,
// deletes and reactions follow in stream order in the same transaction; every message is acked
// only after COMMIT. A database failure NAKs every message of the batch with a growing delay
// (one ERROR span, counter increment and ERROR log per message); a data error that is not a
// connection problem is retried message by message so one bad row cannot block the others.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"
#include "metrics.hpp"

namespace chat::persist_worker {

class BatchProcessor {
 public:
  BatchProcessor(const PersistConfig& config, pg::Pool& pool, PersistMetrics& metrics,
                 const telemetry::Telemetry& telemetry, const core::Clock& clock)
      : config_(config), pool_(pool), metrics_(metrics), telemetry_(telemetry), clock_(clock) {}

  // Decides the outcome of every message of `batch` (ack, nak or term). Thread-safe as long as
  // each call gets its own batch.
  void Process(std::vector<std::unique_ptr<natsx::ReceivedMessage>>& batch);

  struct Item;  // one decoded message (internal)

 private:
  core::Status Apply(std::vector<Item*>& items);
  void Succeed(std::vector<Item*>& items);
  void Fail(std::vector<Item*>& items, const core::Status& status);
  std::chrono::milliseconds NakDelay(uint64_t delivery_count) const;

  const PersistConfig& config_;
  pg::Pool& pool_;
  PersistMetrics& metrics_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;
};

}  // namespace chat::persist_worker

// BatchProcessor: persist-worker's business logic for one fetched batch of CHAT_MESSAGES
// (docs/system.md §6.3, docs/observability.md §4.6). It runs behind runtime::BatchConsumer,
// which fetches, decodes, acks/naks/terms, counts and logs; this class only decides each
// message's outcome. Plain inserts of the batch go into one multi-row INSERT; edits, deletes and
// reactions follow in stream order in the same transaction; every message is acked (by the
// runtime) only after COMMIT. A database failure NAKs every message of the batch with a growing
// delay; a data error that is not a connection problem is retried message by message so one bad
// row cannot block the others.
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include "chat/contracts/messages.hpp"
#include "chat/core/clock.hpp"
#include "chat/runtime/batch_consumer.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "repository/message_repository.hpp"

namespace chat::persist_worker {

using BatchItem = runtime::BatchItem<contracts::ChatMessage>;

class BatchProcessor {
 public:
  BatchProcessor(const PersistConfig& config, MessageStore& store,
                 const telemetry::Telemetry& telemetry, const core::Clock& clock)
      : config_(config), store_(store), telemetry_(telemetry), clock_(clock) {}

  // Sets every item's result (ack with persisted/duplicate/noop, nak with its backoff, or term
  // for a message that contradicts its subject). Thread-safe as long as each call gets its own
  // batch.
  void Handle(std::vector<BatchItem>& items);

  // The runtime's options for persist-worker: batch settings from `config`, the `action` label,
  // the reasons and the log sentences of README.md. `metrics` must outlive the consumer.
  static runtime::BatchOptions Options(const PersistConfig& config,
                                       const runtime::BatchMetrics& metrics);
  // persist-worker's instruments in the runtime's terms.
  static runtime::BatchMetrics Metrics(const PersistMetrics& metrics);

  struct Work;  // one valid message (internal)

 private:
  core::Status Apply(std::vector<Work*>& items);
  void Succeed(std::vector<Work*>& items);
  void Fail(std::vector<Work*>& items, const core::Status& status);
  std::chrono::milliseconds NakDelay(uint64_t delivery_count) const;

  const PersistConfig& config_;
  MessageStore& store_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;
};

}  // namespace chat::persist_worker

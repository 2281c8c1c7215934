// SQL of read-receipt-service (system.md §5.3): read_receipts at start-up and in the periodic
// upsert, and — for the unread counts of read.state — a count over messages. Each call is one
// libs/pg statement and one CLIENT span (`SELECT read_receipts`, `INSERT read_receipts`,
// `SELECT messages`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/pg/batch.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"

namespace chat::read_receipt_service {

struct ReadPosition {
  std::string user;
  std::string room;
  std::int64_t last_read = 0;
};

class ReceiptRepository {
 public:
  explicit ReceiptRepository(pg::Pool& pool);
  // Owns `pool`.
  explicit ReceiptRepository(std::unique_ptr<pg::Pool> pool);

  // A repository over its own pool, connected eagerly per `config` (one attempt). Errors:
  // unavailable when Postgres is unreachable, invalid_argument for a bad DSN.
  static core::Result<std::unique_ptr<ReceiptRepository>> Connect(
      const ReadReceiptConfig& config, const telemetry::Telemetry& telemetry);

  core::Result<std::vector<ReadPosition>> LoadAll(const telemetry::SpanContext& parent);
  // One multi-row INSERT ... ON CONFLICT DO UPDATE (a single statement, hence one transaction):
  // all positions are written or none. A stored position is never moved backwards.
  core::Status Upsert(const telemetry::SpanContext& parent,
                      const std::vector<ReadPosition>& positions);
  // Main-timeline messages of others in `room` newer than `last_read` (deleted ones excluded).
  core::Result<std::int64_t> CountUnread(const telemetry::SpanContext& parent,
                                         std::string_view room, std::string_view user,
                                         std::int64_t last_read);

 private:
  std::unique_ptr<pg::Pool> owned_pool_;  // null when the pool is borrowed
  pg::Pool& pool_;
  pg::BatchInsert upsert_;
};

}  // namespace chat::read_receipt_service

#include "repository/receipt_repository.hpp"

#include <utility>

#include "chat/pg/statement.hpp"

namespace chat::read_receipt_service {
namespace {

constexpr pg::Statement kLoadAll{"read_receipts_load",
                                 "SELECT user_id, room, last_read FROM read_receipts", "SELECT",
                                 "read_receipts"};

constexpr pg::Statement kCountUnread{
    "read_receipts_count_unread",
    "SELECT count(*) FROM messages WHERE room = $1 AND \"timestamp\" > $2 AND thread_id IS NULL "
    "AND username <> $3 AND is_deleted IS NOT TRUE",
    "SELECT", "messages"};

}  // namespace

ReceiptRepository::ReceiptRepository(pg::Pool& pool)
    : pool_(pool),
      upsert_("read_receipts_upsert", "read_receipts",
              {{"user_id", "text"}, {"room", "text"}, {"last_read", "bigint"}},
              "(user_id, room) DO UPDATE SET last_read = GREATEST(read_receipts.last_read, "
              "EXCLUDED.last_read), updated_at = now()") {}

ReceiptRepository::ReceiptRepository(std::unique_ptr<pg::Pool> pool) : ReceiptRepository(*pool) {
  // A delegating constructor cannot also initialise a member.
  owned_pool_ = std::move(pool);  // NOLINT(cppcoreguidelines-prefer-member-initializer)
}

core::Result<std::unique_ptr<ReceiptRepository>> ReceiptRepository::Connect(
    const ReadReceiptConfig& config, const telemetry::Telemetry& telemetry) {
  pg::PoolOptions options;
  options.dsn = config.database_url;
  options.size = config.db_pool_size;
  options.connect_eagerly = true;
  options.application_name = "read-receipt-service";
  CHAT_ASSIGN_OR_RETURN(auto pool, pg::Pool::Create(std::move(options), telemetry));
  return std::make_unique<ReceiptRepository>(std::move(pool));
}

core::Result<std::vector<ReadPosition>> ReceiptRepository::LoadAll(
    const telemetry::SpanContext& parent) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kLoadAll));
  std::vector<ReadPosition> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) {
    out.push_back(
        ReadPosition{std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1)), rows.Int64(i, 2)});
  }
  return out;
}

core::Status ReceiptRepository::Upsert(const telemetry::SpanContext& parent,
                                       const std::vector<ReadPosition>& positions) {
  pg::BatchRows rows(upsert_);
  for (const auto& p : positions) {
    CHAT_RETURN_IF_ERROR(rows.AddRow({p.user, p.room, p.last_read}));
  }
  CHAT_ASSIGN_OR_RETURN(pg::Lease lease, pool_.Acquire());
  return lease.InsertBatch(parent, upsert_, rows).status();
}

core::Result<std::int64_t> ReceiptRepository::CountUnread(const telemetry::SpanContext& parent,
                                                          std::string_view room,
                                                          std::string_view user,
                                                          std::int64_t last_read) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows,
                        pool_.Execute(parent, kCountUnread, {room, last_read, user}));
  return rows.RowCount() > 0 ? rows.Int64(0, 0) : 0;
}

}  // namespace chat::read_receipt_service

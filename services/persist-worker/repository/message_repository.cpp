#include "repository/message_repository.hpp"

#include <map>
#include <optional>
#include <tuple>

namespace chat::persist_worker {

namespace {

using pg::Param;

// RETURNING tells inserted rows from conflicting ones in the same round trip.
const pg::BatchInsert& InsertMessagesBatch() {
  static const pg::BatchInsert kInsert(
      "persist_insert_messages", "messages",
      {{"room", "text"},
       {"username", "text"},
       {"text", "text"},
       {"timestamp", "bigint"},
       {"thread_id", "text"},
       {"parent_timestamp", "bigint"},
       {"broadcast", "boolean"},
       {"sticker_url", "text"}},
      R"((room, "timestamp", username) DO NOTHING RETURNING room, "timestamp", username)");
  return kInsert;
}

constexpr pg::Statement kInsertVersion{
    "persist_insert_version",
    "INSERT INTO message_versions (room, message_timestamp, text, edited_at) "
    "SELECT room, \"timestamp\", text, $4 FROM messages "
    "WHERE room = $1 AND \"timestamp\" = $2 AND username = $3 AND is_deleted IS NOT TRUE",
    "INSERT", "message_versions"};

constexpr pg::Statement kUpdateText{
    "persist_update_text",
    "UPDATE messages SET text = $4, edited_at = $5 "
    "WHERE room = $1 AND \"timestamp\" = $2 AND username = $3 AND is_deleted IS NOT TRUE",
    "UPDATE", "messages"};

constexpr pg::Statement kTrimVersions{
    "persist_trim_versions",
    "DELETE FROM message_versions WHERE room = $1 AND message_timestamp = $2 AND id NOT IN ("
    "SELECT id FROM message_versions WHERE room = $1 AND message_timestamp = $2 "
    "ORDER BY edited_at DESC, id DESC LIMIT $3)",
    "DELETE", "message_versions"};

constexpr pg::Statement kSoftDelete{
    "persist_soft_delete",
    "UPDATE messages SET is_deleted = true "
    "WHERE room = $1 AND \"timestamp\" = $2 AND username = $3 AND is_deleted IS NOT TRUE",
    "UPDATE", "messages"};

constexpr pg::Statement kInsertReaction{
    "persist_insert_reaction",
    "INSERT INTO message_reactions (room, message_timestamp, user_id, emoji) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (room, message_timestamp, user_id, emoji) DO NOTHING",
    "INSERT", "message_reactions"};

constexpr pg::Statement kDeleteReaction{
    "persist_delete_reaction",
    "DELETE FROM message_reactions "
    "WHERE room = $1 AND message_timestamp = $2 AND user_id = $3 AND emoji = $4",
    "DELETE", "message_reactions"};

Param OptText(const std::string& v) { return v.empty() ? Param::Null() : Param(v); }
Param OptInt(int64_t v) { return v == 0 ? Param::Null() : Param(v); }

}  // namespace

core::Result<InsertedMessages> MessageRepository::InsertMessages(
    pg::Lease& lease, const telemetry::SpanContext& parent,
    const std::vector<const MessageRow*>& rows) {
  std::vector<bool> inserted(rows.size(), false);
  if (rows.empty()) return InsertedMessages{std::move(inserted), {}};
  const pg::BatchInsert& insert = InsertMessagesBatch();
  pg::BatchRows batch(insert);
  for (const MessageRow* r : rows) {
    CHAT_RETURN_IF_ERROR(
        batch.AddRow({Param(r->room), Param(r->username), Param(r->text), Param(r->timestamp),
                      OptText(r->thread_id), OptInt(r->parent_timestamp), Param(r->broadcast),
                      OptText(r->sticker_url)}));
  }
  const std::vector<Param> params = batch.ToParams();
  CHAT_ASSIGN_OR_RETURN(pg::Rows result, lease.Execute(parent, insert.statement(), params));
  // Index the batch by key so each returned key marks the first row carrying it.
  using Key = std::tuple<std::string_view, int64_t, std::string_view>;
  std::multimap<Key, size_t> by_key;
  for (size_t i = 0; i < rows.size(); ++i) {
    by_key.emplace(Key{rows[i]->room, rows[i]->timestamp, rows[i]->username}, i);
  }
  for (int r = 0; r < result.RowCount(); ++r) {
    Key key{result.Text(r, 0), result.Int64(r, 1), result.Text(r, 2)};
    // lower_bound: the lowest index among equal keys (multimap keeps insertion order).
    auto it = by_key.lower_bound(key);
    if (it == by_key.end() || it->first != key) continue;
    inserted[it->second] = true;
    by_key.erase(it);
  }
  return InsertedMessages{std::move(inserted), result.span_context()};
}

core::Result<bool> MessageRepository::Edit(pg::Lease& lease, const telemetry::SpanContext& parent,
                                           const std::string& room, int64_t timestamp,
                                           const std::string& username, const std::string& text,
                                           int64_t edited_at_ms) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows versions, lease.Execute(parent, kInsertVersion,
                                                         {Param(room), Param(timestamp),
                                                          Param(username), Param(edited_at_ms)}));
  CHAT_ASSIGN_OR_RETURN(pg::Rows updated,
                        lease.Execute(parent, kUpdateText,
                                      {Param(room), Param(timestamp), Param(username), Param(text),
                                       Param(edited_at_ms)}));
  if (updated.RowsAffected() == 0) return false;
  (void)versions;
  CHAT_ASSIGN_OR_RETURN(pg::Rows trimmed, lease.Execute(parent, kTrimVersions,
                                                        {Param(room), Param(timestamp),
                                                         Param(int64_t{kVersionsKept})}));
  (void)trimmed;
  return true;
}

core::Result<bool> MessageRepository::Delete(pg::Lease& lease, const telemetry::SpanContext& parent,
                                             const std::string& room, int64_t timestamp,
                                             const std::string& username) {
  CHAT_ASSIGN_OR_RETURN(
      pg::Rows r,
      lease.Execute(parent, kSoftDelete, {Param(room), Param(timestamp), Param(username)}));
  return r.RowsAffected() > 0;
}

core::Result<ReactionToggle> MessageRepository::ToggleReaction(
    pg::Lease& lease, const telemetry::SpanContext& parent, const std::string& room,
    int64_t timestamp, const std::string& user, const std::string& emoji) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows ins,
                        lease.Execute(parent, kInsertReaction,
                                      {Param(room), Param(timestamp), Param(user), Param(emoji)}));
  if (ins.RowsAffected() > 0) return ReactionToggle::kAdded;
  CHAT_ASSIGN_OR_RETURN(pg::Rows del,
                        lease.Execute(parent, kDeleteReaction,
                                      {Param(room), Param(timestamp), Param(user), Param(emoji)}));
  (void)del;
  return ReactionToggle::kRemoved;
}

// ---- MessageSession / MessageStore ----

core::Status MessageSession::Begin(const telemetry::SpanContext& parent) {
  if (tx_.has_value() && tx_->open()) return core::FailedPrecondition("transaction already open");
  tx_.reset();
  CHAT_ASSIGN_OR_RETURN(pg::Transaction tx, lease_.Begin(parent));
  tx_.emplace(std::move(tx));
  return core::Status::Ok();
}

core::Status MessageSession::Commit() {
  if (!tx_.has_value()) return core::FailedPrecondition("no transaction");
  return tx_->Commit();
}

core::Status MessageSession::Rollback() {
  if (!tx_.has_value()) return core::FailedPrecondition("no transaction");
  return tx_->Rollback();
}

core::Result<std::unique_ptr<MessageStore>> MessageStore::Create(
    const PersistConfig& config, const telemetry::Telemetry& telemetry) {
  pg::PoolOptions po;
  po.dsn = config.database_url;
  // One connection per fetch loop plus one spare for the single-message retry path.
  po.size = static_cast<size_t>(config.workers) + 1;
  po.statement_timeout = config.statement_timeout;
  po.application_name = "persist-worker";
  // Come back quickly after a database restart; failures in between are NAK'd anyway.
  po.reconnect_backoff_max = std::chrono::milliseconds(2000);
  CHAT_ASSIGN_OR_RETURN(auto pool, pg::Pool::Create(po, telemetry));
  return std::make_unique<MessageStore>(std::move(pool));
}

core::Result<std::unique_ptr<MessageSession>> MessageStore::Open() {
  CHAT_ASSIGN_OR_RETURN(pg::Lease lease, pool_->Acquire());
  return std::make_unique<MessageSession>(std::move(lease));
}

}  // namespace chat::persist_worker

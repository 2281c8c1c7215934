// SQL of persist-worker (docs/system.md §3.5, §6.3) through libs/pg only. Every statement runs
// on a caller's Lease (inside the caller's transaction when one is open) as a CLIENT span that
// is a child of `parent`, so each message's SQL hangs under its own process span.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"

namespace chat::persist_worker {

// One new message row. Empty strings / zero become NULL for the optional columns.
struct MessageRow {
  std::string room;
  std::string username;
  std::string text;  // "" for stickers
  int64_t timestamp = 0;
  std::string thread_id;
  int64_t parent_timestamp = 0;
  bool broadcast = false;
  std::string sticker_url;
};

enum class ReactionToggle { kAdded, kRemoved };

struct InsertedMessages {
  std::vector<bool> inserted;  // inserted[i]: rows[i] is a new row (false: it already existed)
  // The `INSERT messages` span (invalid when none ran or it was not sampled): every message of
  // the batch links to it, so each message's trace shows the statement that wrote its row.
  telemetry::SpanContext statement_span;
};

class MessageRepository {
 public:
  // One multi-row INSERT … ON CONFLICT (room, "timestamp", username) DO NOTHING RETURNING the
  // keys of the rows it inserted: result[i] is true when rows[i] was inserted, false when the
  // row already existed (a redelivery, or the same key twice in `rows`: the first one wins).
  static core::Result<InsertedMessages> InsertMessages(pg::Lease& lease,
                                                       const telemetry::SpanContext& parent,
                                                       const std::vector<const MessageRow*>& rows);

  // system.md §3.5 edit: previous text into message_versions (edited_at = edited_at_ms), text
  // replaced, versions beyond the 5 newest deleted. Only an undeleted row of the same author
  // matches. Returns false when no row matched (nothing changed). Run inside a transaction.
  static core::Result<bool> Edit(pg::Lease& lease, const telemetry::SpanContext& parent,
                                 const std::string& room, int64_t timestamp,
                                 const std::string& username, const std::string& text,
                                 int64_t edited_at_ms);

  // Soft delete of the author's undeleted row; false when no row matched.
  static core::Result<bool> Delete(pg::Lease& lease, const telemetry::SpanContext& parent,
                                   const std::string& room, int64_t timestamp,
                                   const std::string& username);

  // Insert the reaction; if it already existed, delete it (toggle off).
  static core::Result<ReactionToggle> ToggleReaction(pg::Lease& lease,
                                                     const telemetry::SpanContext& parent,
                                                     const std::string& room, int64_t timestamp,
                                                     const std::string& user,
                                                     const std::string& emoji);

  static constexpr int kVersionsKept = 5;
};

// One pooled connection held for one batch (MessageStore::Open): MessageRepository's statements
// run on it, bracketed by Begin/Commit when the batch needs a transaction. Destroying it with a
// transaction still open rolls back. Not movable (the transaction refers to the connection).
class MessageSession {
 public:
  explicit MessageSession(pg::Lease lease) : lease_(std::move(lease)) {}
  MessageSession(const MessageSession&) = delete;
  MessageSession& operator=(const MessageSession&) = delete;
  ~MessageSession() = default;

  core::Result<InsertedMessages> InsertMessages(const telemetry::SpanContext& parent,
                                                const std::vector<const MessageRow*>& rows) {
    return MessageRepository::InsertMessages(lease_, parent, rows);
  }
  core::Result<bool> Edit(const telemetry::SpanContext& parent, const std::string& room,
                          int64_t timestamp, const std::string& username, const std::string& text,
                          int64_t edited_at_ms) {
    return MessageRepository::Edit(lease_, parent, room, timestamp, username, text, edited_at_ms);
  }
  core::Result<bool> Delete(const telemetry::SpanContext& parent, const std::string& room,
                            int64_t timestamp, const std::string& username) {
    return MessageRepository::Delete(lease_, parent, room, timestamp, username);
  }
  core::Result<ReactionToggle> ToggleReaction(const telemetry::SpanContext& parent,
                                              const std::string& room, int64_t timestamp,
                                              const std::string& user, const std::string& emoji) {
    return MessageRepository::ToggleReaction(lease_, parent, room, timestamp, user, emoji);
  }

  // BEGIN as a child of `parent` (failed_precondition when one is already open).
  core::Status Begin(const telemetry::SpanContext& parent);
  core::Status Commit();    // failed_precondition without Begin
  core::Status Rollback();  // failed_precondition without Begin

 private:
  pg::Lease lease_;
  std::optional<pg::Transaction> tx_;  // after lease_: ends (ROLLBACK if open) before it
};

// persist-worker's Postgres: owns the pool; each batch opens a MessageSession.
class MessageStore {
 public:
  explicit MessageStore(std::unique_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  // The pool for `config`: one connection per fetch loop plus one spare for the single-message
  // retry path, reconnecting quickly after a database restart. Connects lazily, so a database
  // that is down at start is not an error. Errors: invalid_argument (bad DSN).
  static core::Result<std::unique_ptr<MessageStore>> Create(const PersistConfig& config,
                                                            const telemetry::Telemetry& telemetry);

  // A connection for one batch (waits up to the pool's acquire timeout). Errors as
  // pg::Pool::Acquire (unavailable, deadline_exceeded).
  core::Result<std::unique_ptr<MessageSession>> Open();

 private:
  std::unique_ptr<pg::Pool> pool_;
};

}  // namespace chat::persist_worker

// SQL of persist-worker (docs/system.md §3.5, §6.3) through libs/pg only. Every statement runs
// on a caller's Lease (inside the caller's transaction when one is open) as a CLIENT span that
// is a child of `parent`, so each message's SQL hangs under its own process span.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/trace_context.hpp"

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

}  // namespace chat::persist_worker

// The chat.* span/log attribute registry of docs/observability.md §4.3, and the enumerated values
// it allows. Keys are plain string_views so telemetry::AttrKey (consteval) accepts them, and so
// contracts stays free of telemetry. The generic library keys (chat.db.rows_affected,
// chat.kv.result, chat.jetstream.delivery_count, chat.link.reason) live in telemetry/semconv.hpp.
#pragma once

#include <string_view>

namespace chat::contracts::attr {

inline constexpr std::string_view kRoom = "chat.room";
inline constexpr std::string_view kRoomType = "chat.room.type";  // public, private, dm, admin
inline constexpr std::string_view kUser = "chat.user";
inline constexpr std::string_view kTargetUser = "chat.target_user";
inline constexpr std::string_view kAction = "chat.action";             // send, edit, delete, react
inline constexpr std::string_view kMessageKind = "chat.message.kind";  // text, sticker, system
inline constexpr std::string_view kMessageId = "chat.message_id";      // {timestamp_ms}-{user}
inline constexpr std::string_view kThreadId = "chat.thread_id";
inline constexpr std::string_view kIngestResult = "chat.ingest.result";
inline constexpr std::string_view kFanoutKind = "chat.fanout.kind";  // room, private, admin, app
inline constexpr std::string_view kFanoutRecipients = "chat.fanout.recipients";
inline constexpr std::string_view kFanoutDropped = "chat.fanout.dropped";
inline constexpr std::string_view kCacheResult = "chat.cache.result";  // hit, miss
inline constexpr std::string_view kFetchResult = "chat.fetch.result";  // found, not_found, invalid
inline constexpr std::string_view kReplyResult = "chat.reply.result";
inline constexpr std::string_view kAuthType = "chat.auth.type";
inline constexpr std::string_view kAuthResult = "chat.auth.result";
inline constexpr std::string_view kAuthKid = "chat.auth.kid";
inline constexpr std::string_view kAppId = "chat.app.id";
inline constexpr std::string_view kAppAction = "chat.app.action";
inline constexpr std::string_view kPresenceStatus = "chat.presence.status";
inline constexpr std::string_view kTranslateTargetLang = "chat.translate.target_lang";
inline constexpr std::string_view kHistoryReturned = "chat.history.returned";
// Not in §4.3's table but used by the contract's text: the rejection reason on a `rejected`
// event, and the batch a persisted row was written in.
inline constexpr std::string_view kReason = "chat.reason";
inline constexpr std::string_view kBatchSize = "chat.batch.size";

// chat.ingest.result values.
namespace ingest {
inline constexpr std::string_view kAccepted = "accepted";
inline constexpr std::string_view kRateLimited = "rate_limited";
inline constexpr std::string_view kRejectedSender = "rejected_sender";
inline constexpr std::string_view kRejectedMembership = "rejected_membership";
inline constexpr std::string_view kInvalid = "invalid";
}  // namespace ingest

// chat.reply.result values.
namespace reply {
inline constexpr std::string_view kOk = "ok";
inline constexpr std::string_view kDenied = "denied";
inline constexpr std::string_view kNotFound = "not_found";
inline constexpr std::string_view kInvalid = "invalid";
inline constexpr std::string_view kError = "error";
}  // namespace reply

}  // namespace chat::contracts::attr

// Message-path wire types (system.md §3.2, §3.3.1, §3.3.2): the ChatMessage that flows unchanged
// from ingest to MSG_CACHE, the Notification (ID stream, never text), msg.get, and history.
// JSON keys keep system.md's camelCase spelling (README.md explains why); C++ fields are
// snake_case.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// The wire field `action`. On ChatMessage kSend is encoded by omitting the field; on
// Notification it is spelled "message" (system.md §3.2.2).
enum class MessageAction { kSend, kEdit, kDelete, kReact, kSystem };

// "send", "edit", "delete", "react", "system" (the chat.action attribute spelling for the first
// four, observability.md §4.3).
std::string_view MessageActionName(MessageAction action);

// The ChatMessage wire value: absent or "" → kSend; "edit", "delete", "react", "system" →
// themselves; anything else (including "send", which the wire never carries) → invalid_argument.
core::Result<MessageAction> MessageActionFromWire(std::string_view wire);

// system.md §3.2.1. Validation beyond types: user is a username (or "__system__" exactly when
// action is system); room a room key; text ≤ 4000 bytes; send needs text or stickerUrl, edit
// and system need text, react needs emoji and targetUser; threadId is "{room}-{digits}" for this
// room and equals ThreadId(room, parentTimestamp) when both are present.
struct ChatMessage {
  std::string user;
  std::string text;
  std::int64_t timestamp = 0;  // ms; for edit/delete/react the target message's timestamp
  std::string room;
  std::string thread_id;
  std::int64_t parent_timestamp = 0;
  bool broadcast = false;
  MessageAction action = MessageAction::kSend;
  std::string emoji;
  std::string target_user;
  std::vector<std::string> mentions;
  std::string sticker_url;

  friend bool operator==(const ChatMessage&, const ChatMessage&) = default;
};

// system.md §3.2.2: published to room.notify.{room} / deliver.{user}.notify.{room}.
struct Notification {
  std::string notify_id;  // a msg.get capability: never log or record it
  std::string room;
  MessageAction action = MessageAction::kSend;  // wire "message" for kSend
  std::string user;
  std::int64_t timestamp = 0;
  std::string thread_id;
  std::string emoji;
  std::string target_user;

  friend bool operator==(const Notification&, const Notification&) = default;
};

// msg.get request; `room` is informational (metrics) only.
struct MsgGetRequest {
  std::string notify_id;
  std::string room;

  friend bool operator==(const MsgGetRequest&, const MsgGetRequest&) = default;
};

// Page sizes of chat.history.{room}: the reference's fixed 25, and the most a client may ask for.
inline constexpr std::int64_t kDefaultHistoryLimit = 25;
inline constexpr std::int64_t kMaxHistoryLimit = 100;

// chat.history.{room} request: empty body or {"before": ms, "limit": n} (exclusive cursor; 0 =
// newest page). `limit` (nats-chat addition) is the page size, 1..kMaxHistoryLimit; 0 (absent)
// means kDefaultHistoryLimit. A larger value is refused (invalid_argument), not clamped, so a
// client never silently receives fewer messages than it asked for.
struct HistoryRequest {
  std::int64_t before = 0;
  std::int64_t limit = 0;

  friend bool operator==(const HistoryRequest&, const HistoryRequest&) = default;
};

// One reaction pill: emoji and the users who reacted, in reaction order.
struct Reaction {
  std::string emoji;
  std::vector<std::string> users;

  friend bool operator==(const Reaction&, const Reaction&) = default;
};

// system.md §3.3.2. `text` is always present (empty when deleted); `reactions` is the wire object
// emoji → [users], kept in wire order.
struct HistoryMessage {
  std::string user;
  std::string text;
  std::int64_t timestamp = 0;
  std::string room;
  std::string thread_id;
  std::int64_t parent_timestamp = 0;
  std::int64_t reply_count = 0;
  bool is_deleted = false;
  std::int64_t edited_at = 0;
  std::vector<Reaction> reactions;
  std::string sticker_url;

  friend bool operator==(const HistoryMessage&, const HistoryMessage&) = default;
};

// chat.history.{room} reply: up to 25 main-timeline messages, oldest first.
struct HistoryPage {
  std::vector<HistoryMessage> messages;
  bool has_more = false;

  friend bool operator==(const HistoryPage&, const HistoryPage&) = default;
};

// chat.history.{room}.thread.{thread_id} reply: a bare JSON array of HistoryMessage.
struct HistoryThreadReply {
  std::vector<HistoryMessage> messages;

  friend bool operator==(const HistoryThreadReply&, const HistoryThreadReply&) = default;
};

// history.dms reply: a bare JSON array of DM room keys, sorted.
struct DmListReply {
  std::vector<std::string> rooms;

  friend bool operator==(const DmListReply&, const DmListReply&) = default;
};

// stickerUrl must name an image under the sticker base URL (issue 11 item 14: any other URL is a
// tracking pixel fetched by every member's browser). `base` is absolute ("https://host/stickers/")
// or a same-origin path ("/stickers/") and ends with '/'; the rest is a relative path of
// [A-Za-z0-9._-] segments with no "..", no query and no fragment.
bool IsAllowedStickerUrl(std::string_view url, std::string_view base);
// A usable sticker base URL (the shape IsAllowedStickerUrl expects).
bool IsValidStickerBaseUrl(std::string_view base);

// Whether a message body on a thread subject may leave threadId out (it is then the subject's).
enum class BodyThreadId { kRequired, kOptional };
inline constexpr std::string_view kPayloadRoomMismatch = "payload room does not match the subject";
inline constexpr std::string_view kPayloadThreadMismatch =
    "payload threadId does not match the subject";
// A message must address the subject it arrived on: its room is the subject's `room` and, on a
// thread subject (`thread_id` non-empty), its threadId is the subject's — or empty when
// `body_thread` is kOptional. InvalidArgument with kPayloadRoomMismatch or
// kPayloadThreadMismatch as the message otherwise (room checked first). fanout's ingest requires
// the threadId; persist-worker accepts it omitted and stores the subject's.
core::Status CheckMessageAgainstSubject(std::string_view room, std::string_view thread_id,
                                        const ChatMessage& msg,
                                        BodyThreadId body_thread = BodyThreadId::kRequired);

std::string ToJson(const ChatMessage& v);
std::string ToJson(const Notification& v);
std::string ToJson(const MsgGetRequest& v);
std::string ToJson(const HistoryRequest& v);
std::string ToJson(const HistoryMessage& v);
std::string ToJson(const HistoryPage& v);
std::string ToJson(const HistoryThreadReply& v);
std::string ToJson(const DmListReply& v);

template <>
core::Result<ChatMessage> FromJson<ChatMessage>(std::string_view json);
template <>
core::Result<Notification> FromJson<Notification>(std::string_view json);
template <>
core::Result<MsgGetRequest> FromJson<MsgGetRequest>(std::string_view json);
// An empty or whitespace-only body is a valid HistoryRequest (before = 0).
template <>
core::Result<HistoryRequest> FromJson<HistoryRequest>(std::string_view json);
template <>
core::Result<HistoryMessage> FromJson<HistoryMessage>(std::string_view json);
template <>
core::Result<HistoryPage> FromJson<HistoryPage>(std::string_view json);
template <>
core::Result<HistoryThreadReply> FromJson<HistoryThreadReply>(std::string_view json);
template <>
core::Result<DmListReply> FromJson<DmListReply>(std::string_view json);

}  // namespace chat::contracts

#include "chat/contracts/messages.hpp"

#include "chat/contracts/ids.hpp"
#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

std::string_view MessageActionName(MessageAction action) {
  switch (action) {
    case MessageAction::kSend: return "send";
    case MessageAction::kEdit: return "edit";
    case MessageAction::kDelete: return "delete";
    case MessageAction::kReact: return "react";
    case MessageAction::kSystem: return "system";
  }
  return "send";
}

core::Result<MessageAction> MessageActionFromWire(std::string_view wire) {
  if (wire.empty()) return MessageAction::kSend;
  if (wire == "edit") return MessageAction::kEdit;
  if (wire == "delete") return MessageAction::kDelete;
  if (wire == "react") return MessageAction::kReact;
  if (wire == "system") return MessageAction::kSystem;
  return core::InvalidArgument("unknown message action");
}

namespace {

constexpr std::size_t kMaxEmojiBytes = 64;
constexpr std::size_t kMaxMentions = 100;

std::string_view NotificationActionWire(MessageAction a) {
  return a == MessageAction::kSend ? std::string_view("message") : MessageActionName(a);
}

// Thread fields shared by ChatMessage, Notification and HistoryMessage.
void ReadThread(Reader& r, const std::string& room, std::string& thread_id,
                std::int64_t* parent_timestamp) {
  r.Str("threadId", thread_id, Need::kOptional);
  if (parent_timestamp != nullptr) r.Int("parentTimestamp", *parent_timestamp, Need::kOptional, 0);
  if (!r.ok()) return;
  if (!thread_id.empty()) {
    auto parsed = ParseThreadId(thread_id);
    if (!parsed.ok()) {
      r.Check("threadId", parsed.status());
      return;
    }
    if (!room.empty() && parsed->first != room) {
      r.Fail("threadId", "does not belong to the message's room");
      return;
    }
    if (parent_timestamp != nullptr && *parent_timestamp != 0 &&
        parsed->second != *parent_timestamp) {
      r.Fail("parentTimestamp", "does not match threadId");
      return;
    }
  } else if (parent_timestamp != nullptr && *parent_timestamp != 0) {
    r.Fail("threadId", "is required when parentTimestamp is set");
  }
}

core::Status DecodeChatMessage(const Json& j, const std::string& path, ChatMessage& m) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.User("user", m.user, Need::kRequired);
  r.Str("text", m.text, Need::kOptional, kMaxTextBytes);
  r.Int("timestamp", m.timestamp, Need::kRequired, 1);
  r.Room("room", m.room, Need::kRequired);
  ReadThread(r, m.room, m.thread_id, &m.parent_timestamp);
  r.Bool("broadcast", m.broadcast, Need::kOptional);
  std::string action;
  r.Str("action", action, Need::kOptional);
  if (r.ok()) {
    auto a = MessageActionFromWire(action);
    if (a.ok()) {
      m.action = *a;
    } else {
      r.Fail("action", "must be absent, edit, delete, react or system");
    }
  }
  r.Str("emoji", m.emoji, Need::kOptional, kMaxEmojiBytes);
  r.User("targetUser", m.target_user, Need::kOptional);
  r.StrList("mentions", m.mentions, Need::kOptional, kMaxMentions);
  for (const auto& u : m.mentions) {
    if (!r.ok()) break;
    if (!ValidateUsername(u).ok()) r.Fail("mentions", "contains an invalid username");
  }
  r.Str("stickerUrl", m.sticker_url, Need::kOptional, internal::kMaxUrlBytes);
  if (!r.ok()) return r.status();

  const bool system_user = m.user == kSystemUser;
  if (system_user != (m.action == MessageAction::kSystem)) {
    r.Fail("action", "system is used exactly by user __system__");
  }
  switch (m.action) {
    case MessageAction::kSend:
      if (m.text.empty() && m.sticker_url.empty()) r.Fail("text", "or stickerUrl is required");
      break;
    case MessageAction::kEdit:
    case MessageAction::kSystem:
      if (m.text.empty()) r.Fail("text", "is required for this action");
      break;
    case MessageAction::kReact:
      if (m.emoji.empty()) r.Fail("emoji", "is required for react");
      if (m.target_user.empty()) r.Fail("targetUser", "is required for react");
      break;
    case MessageAction::kDelete: break;
  }
  return r.status();
}

Json EncodeChatMessage(const ChatMessage& m) {
  Json j = Json::object();
  j["user"] = m.user;
  internal::PutStr(j, "text", m.text);
  j["timestamp"] = m.timestamp;
  j["room"] = m.room;
  internal::PutStr(j, "threadId", m.thread_id);
  internal::PutInt(j, "parentTimestamp", m.parent_timestamp);
  internal::PutBool(j, "broadcast", m.broadcast);
  if (m.action != MessageAction::kSend) j["action"] = MessageActionName(m.action);
  internal::PutStr(j, "emoji", m.emoji);
  internal::PutStr(j, "targetUser", m.target_user);
  internal::PutStrList(j, "mentions", m.mentions);
  internal::PutStr(j, "stickerUrl", m.sticker_url);
  return j;
}

core::Status DecodeNotification(const Json& j, const std::string& path, Notification& n) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.Str("notifyId", n.notify_id, Need::kNonEmpty);
  r.Room("room", n.room, Need::kRequired);
  std::string action;
  r.Str("action", action, Need::kNonEmpty);
  if (r.ok()) {
    if (action == "message") {
      n.action = MessageAction::kSend;
    } else if (auto a = MessageActionFromWire(action); a.ok()) {
      n.action = *a;
    } else {
      r.Fail("action", "must be message, edit, delete, react or system");
    }
  }
  r.User("user", n.user, Need::kRequired);
  r.Int("timestamp", n.timestamp, Need::kOptional, 0);
  ReadThread(r, n.room, n.thread_id, nullptr);
  r.Str("emoji", n.emoji, Need::kOptional, kMaxEmojiBytes);
  r.User("targetUser", n.target_user, Need::kOptional);
  if (r.ok() && n.notify_id.find_first_of(" \t\r\n*>") != std::string::npos) {
    r.Fail("notifyId", "contains whitespace or wildcards");
  }
  return r.status();
}

Json EncodeNotification(const Notification& n) {
  Json j = Json::object();
  j["notifyId"] = n.notify_id;
  j["room"] = n.room;
  j["action"] = NotificationActionWire(n.action);
  j["user"] = n.user;
  internal::PutInt(j, "timestamp", n.timestamp);
  internal::PutStr(j, "threadId", n.thread_id);
  internal::PutStr(j, "emoji", n.emoji);
  internal::PutStr(j, "targetUser", n.target_user);
  return j;
}

core::Status DecodeHistoryMessage(const Json& j, const std::string& path, HistoryMessage& m) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.User("user", m.user, Need::kRequired);
  r.Str("text", m.text, Need::kRequired, kMaxTextBytes);
  r.Int("timestamp", m.timestamp, Need::kRequired, 1);
  r.Room("room", m.room, Need::kRequired);
  ReadThread(r, m.room, m.thread_id, &m.parent_timestamp);
  r.Int("replyCount", m.reply_count, Need::kOptional, 0);
  r.Bool("isDeleted", m.is_deleted, Need::kOptional);
  r.Int("editedAt", m.edited_at, Need::kOptional, 0);
  if (const Json* reactions = r.Find("reactions", Need::kOptional)) {
    if (!reactions->is_object()) {
      r.Fail("reactions", "must be an object of emoji to usernames");
    } else {
      for (const auto& [emoji, users] : reactions->items()) {
        Reaction reaction;
        reaction.emoji = emoji;
        if (emoji.empty() || emoji.size() > kMaxEmojiBytes) {
          r.Fail("reactions", "has an empty or over-long emoji key");
          break;
        }
        Reader ur(*reactions, r.Sub("reactions"));
        ur.StrList(emoji, reaction.users, Need::kRequired);
        if (!ur.ok()) {
          r.Fail("reactions", "must map each emoji to an array of usernames");
          break;
        }
        m.reactions.push_back(std::move(reaction));
      }
    }
  }
  r.Str("stickerUrl", m.sticker_url, Need::kOptional, internal::kMaxUrlBytes);
  if (r.ok() && m.is_deleted && !m.text.empty()) r.Fail("text", "must be empty when isDeleted");
  return r.status();
}

Json EncodeHistoryMessage(const HistoryMessage& m) {
  Json j = Json::object();
  j["user"] = m.user;
  j["text"] = m.text;
  j["timestamp"] = m.timestamp;
  j["room"] = m.room;
  internal::PutStr(j, "threadId", m.thread_id);
  internal::PutInt(j, "parentTimestamp", m.parent_timestamp);
  internal::PutInt(j, "replyCount", m.reply_count);
  internal::PutBool(j, "isDeleted", m.is_deleted);
  internal::PutInt(j, "editedAt", m.edited_at);
  if (!m.reactions.empty()) {
    Json reactions = Json::object();
    for (const auto& reaction : m.reactions) reactions[reaction.emoji] = reaction.users;
    j["reactions"] = std::move(reactions);
  }
  internal::PutStr(j, "stickerUrl", m.sticker_url);
  return j;
}

core::Status DecodeHistoryPage(const Json& j, const std::string& path, HistoryPage& p) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  const Json* messages = r.Find("messages", Need::kRequired);
  if (messages != nullptr) {
    r.Check("messages",
            internal::DecodeArray(*messages, r.Sub("messages"), p.messages, DecodeHistoryMessage));
  }
  r.Bool("hasMore", p.has_more, Need::kRequired);
  return r.status();
}

Json EncodeHistoryList(const std::vector<HistoryMessage>& messages) {
  Json a = Json::array();
  for (const auto& m : messages) a.push_back(EncodeHistoryMessage(m));
  return a;
}

}  // namespace

std::string ToJson(const ChatMessage& v) { return internal::Dump(EncodeChatMessage(v)); }
std::string ToJson(const Notification& v) { return internal::Dump(EncodeNotification(v)); }

std::string ToJson(const MsgGetRequest& v) {
  Json j = Json::object();
  j["notifyId"] = v.notify_id;
  internal::PutStr(j, "room", v.room);
  return internal::Dump(j);
}

std::string ToJson(const HistoryRequest& v) {
  Json j = Json::object();
  internal::PutInt(j, "before", v.before);
  internal::PutInt(j, "limit", v.limit);
  return internal::Dump(j);
}

std::string ToJson(const HistoryMessage& v) { return internal::Dump(EncodeHistoryMessage(v)); }

std::string ToJson(const HistoryPage& v) {
  Json j = Json::object();
  j["messages"] = EncodeHistoryList(v.messages);
  j["hasMore"] = v.has_more;
  return internal::Dump(j);
}

std::string ToJson(const HistoryThreadReply& v) {
  return internal::Dump(EncodeHistoryList(v.messages));
}

std::string ToJson(const DmListReply& v) { return internal::Dump(Json(v.rooms)); }

template <>
core::Result<ChatMessage> FromJson<ChatMessage>(std::string_view json) {
  return internal::DecodeTop<ChatMessage>(json, "ChatMessage", DecodeChatMessage);
}

template <>
core::Result<Notification> FromJson<Notification>(std::string_view json) {
  return internal::DecodeTop<Notification>(json, "Notification", DecodeNotification);
}

template <>
core::Result<MsgGetRequest> FromJson<MsgGetRequest>(std::string_view json) {
  return internal::DecodeTop<MsgGetRequest>(
      json, "MsgGetRequest", [](const Json& j, const std::string& path, MsgGetRequest& m) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("notifyId", m.notify_id, Need::kNonEmpty);
        r.Room("room", m.room, Need::kOptional);
        return r.status();
      });
}

template <>
core::Result<HistoryRequest> FromJson<HistoryRequest>(std::string_view json) {
  return internal::DecodeTop<HistoryRequest>(
      json, "HistoryRequest",
      [](const Json& j, const std::string& path, HistoryRequest& h) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Int("before", h.before, Need::kOptional, 0);
        r.Int("limit", h.limit, Need::kOptional, 1);
        if (r.ok() && h.limit > kMaxHistoryLimit) {
          r.Fail("limit", "must be <= " + std::to_string(kMaxHistoryLimit));
        }
        return r.status();
      },
      /*allow_empty=*/true);
}

template <>
core::Result<HistoryMessage> FromJson<HistoryMessage>(std::string_view json) {
  return internal::DecodeTop<HistoryMessage>(json, "HistoryMessage", DecodeHistoryMessage);
}

template <>
core::Result<HistoryPage> FromJson<HistoryPage>(std::string_view json) {
  return internal::DecodeTop<HistoryPage>(json, "HistoryPage", DecodeHistoryPage);
}

template <>
core::Result<HistoryThreadReply> FromJson<HistoryThreadReply>(std::string_view json) {
  return internal::DecodeTop<HistoryThreadReply>(
      json, "HistoryThreadReply",
      [](const Json& j, const std::string& path, HistoryThreadReply& t) {
        return internal::DecodeArray(j, path, t.messages, DecodeHistoryMessage);
      });
}

template <>
core::Result<DmListReply> FromJson<DmListReply>(std::string_view json) {
  return internal::DecodeTop<DmListReply>(
      json, "DmListReply", [](const Json& j, const std::string& path, DmListReply& d) {
        return internal::DecodeArray(
            j, path, d.rooms, [](const Json& e, const std::string& p, std::string& room) {
              if (!e.is_string()) return core::InvalidArgument(p + ": must be a string");
              room = e.get<std::string>();
              if (!IsDmRoom(room) || !ValidateRoomKey(room).ok()) {
                return core::InvalidArgument(p + ": is not a valid DM room key");
              }
              return core::Status::Ok();
            });
      });
}

bool IsValidStickerBaseUrl(std::string_view base) {
  if (base.empty() || base.back() != '/' || base.size() > 512) return false;
  for (char c : base) {
    if (c <= ' ' || c >= 0x7f || c == '?' || c == '#' || c == '"' || c == '\\') return false;
  }
  if (base.front() == '/') return base.size() == 1 || base[1] != '/';  // path, not "//host"
  for (std::string_view scheme : {"https://", "http://"}) {
    if (base.substr(0, scheme.size()) == scheme && base.size() > scheme.size() + 1 &&
        base[scheme.size()] != '/') {
      return true;
    }
  }
  return false;
}

core::Status CheckMessageAgainstSubject(std::string_view room, std::string_view thread_id,
                                        const ChatMessage& msg, BodyThreadId body_thread) {
  if (msg.room != room) return core::InvalidArgument(std::string(kPayloadRoomMismatch));
  if (thread_id.empty() || msg.thread_id == thread_id) return core::Status::Ok();
  if (msg.thread_id.empty() && body_thread == BodyThreadId::kOptional) return core::Status::Ok();
  return core::InvalidArgument(std::string(kPayloadThreadMismatch));
}

bool IsAllowedStickerUrl(std::string_view url, std::string_view base) {
  if (!IsValidStickerBaseUrl(base) || url.size() <= base.size()) return false;
  if (url.substr(0, base.size()) != base) return false;
  std::string_view rest = url.substr(base.size());
  if (rest.size() > 256 || rest.front() == '/' || rest.back() == '/') return false;
  std::size_t segment_start = 0;
  for (std::size_t i = 0; i <= rest.size(); ++i) {
    if (i == rest.size() || rest[i] == '/') {
      std::string_view segment = rest.substr(segment_start, i - segment_start);
      if (segment.empty() || segment == "." || segment == "..") return false;
      segment_start = i + 1;
      continue;
    }
    char c = rest[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace chat::contracts

#include "chat/contracts/presence.hpp"

#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

std::string_view PresenceStatusName(PresenceStatus status) {
  switch (status) {
    case PresenceStatus::kOnline: return "online";
    case PresenceStatus::kAway: return "away";
    case PresenceStatus::kBusy: return "busy";
    case PresenceStatus::kOffline: return "offline";
  }
  return "offline";
}

core::Result<PresenceStatus> PresenceStatusFromName(std::string_view name) {
  if (name == "online") return PresenceStatus::kOnline;
  if (name == "away") return PresenceStatus::kAway;
  if (name == "busy") return PresenceStatus::kBusy;
  if (name == "offline") return PresenceStatus::kOffline;
  return core::InvalidArgument("status must be online, away, busy or offline");
}

namespace {

constexpr std::size_t kMaxConnIdBytes = 64;

bool IsConnIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

void ReadStatus(Reader& r, PresenceStatus& out, Need need) {
  std::string name;
  r.Str("status", name, need == Need::kOptional ? Need::kOptional : Need::kNonEmpty);
  if (!r.ok() || name.empty()) return;
  auto s = PresenceStatusFromName(name);
  if (s.ok()) {
    out = *s;
  } else {
    r.Fail("status", "must be online, away, busy or offline");
  }
}

core::Status DecodeEntry(const Json& j, const std::string& path, PresenceEntry& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.User("userId", v.user_id, Need::kRequired);
  ReadStatus(r, v.status, Need::kRequired);
  return r.status();
}

Json EncodeEntry(const PresenceEntry& v) {
  Json j = Json::object();
  j["userId"] = v.user_id;
  j["status"] = PresenceStatusName(v.status);
  return j;
}

}  // namespace

std::string ToJson(const PresenceHeartbeat& v) {
  Json j = Json::object();
  internal::PutStr(j, "userId", v.user_id);
  j["connId"] = v.conn_id;
  return internal::Dump(j);
}

std::string ToJson(const PresenceUpdate& v) {
  Json j = Json::object();
  internal::PutStr(j, "userId", v.user_id);
  j["status"] = PresenceStatusName(v.status);
  return internal::Dump(j);
}

std::string ToJson(const PresenceDiff& v) {
  Json j = Json::object();
  switch (v.action) {
    case PresenceDiffAction::kOnline: j["action"] = "online"; break;
    case PresenceDiffAction::kOffline: j["action"] = "offline"; break;
    case PresenceDiffAction::kStatus: j["action"] = "status"; break;
  }
  j["userId"] = v.user_id;
  if (v.status.has_value()) j["status"] = PresenceStatusName(*v.status);
  return internal::Dump(j);
}

std::string ToJson(const PresenceEntry& v) { return internal::Dump(EncodeEntry(v)); }

std::string ToJson(const PresenceRoomReply& v) {
  Json a = Json::array();
  for (const auto& e : v.members) a.push_back(EncodeEntry(e));
  return internal::Dump(a);
}

template <>
core::Result<PresenceHeartbeat> FromJson<PresenceHeartbeat>(std::string_view json) {
  return internal::DecodeTop<PresenceHeartbeat>(
      json, "PresenceHeartbeat", [](const Json& j, const std::string& path, PresenceHeartbeat& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.User("userId", v.user_id, Need::kOptional);
        r.Str("connId", v.conn_id, Need::kNonEmpty, kMaxConnIdBytes);
        if (r.ok()) {
          for (char c : v.conn_id) {
            if (!IsConnIdChar(c)) {
              r.Fail("connId", "must match [A-Za-z0-9_-]");
              break;
            }
          }
        }
        return r.status();
      });
}

template <>
core::Result<PresenceUpdate> FromJson<PresenceUpdate>(std::string_view json) {
  return internal::DecodeTop<PresenceUpdate>(
      json, "PresenceUpdate", [](const Json& j, const std::string& path, PresenceUpdate& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.User("userId", v.user_id, Need::kOptional);
        ReadStatus(r, v.status, Need::kRequired);
        return r.status();
      });
}

template <>
core::Result<PresenceDiff> FromJson<PresenceDiff>(std::string_view json) {
  return internal::DecodeTop<PresenceDiff>(
      json, "PresenceDiff", [](const Json& j, const std::string& path, PresenceDiff& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        std::string action;
        r.Str("action", action, Need::kNonEmpty);
        if (r.ok()) {
          if (action == "online") {
            v.action = PresenceDiffAction::kOnline;
          } else if (action == "offline") {
            v.action = PresenceDiffAction::kOffline;
          } else if (action == "status") {
            v.action = PresenceDiffAction::kStatus;
          } else {
            r.Fail("action", "must be online, offline or status");
          }
        }
        r.User("userId", v.user_id, Need::kRequired);
        if (r.Find("status", Need::kOptional) != nullptr) {
          PresenceStatus status = PresenceStatus::kOnline;
          ReadStatus(r, status, Need::kRequired);
          if (r.ok()) v.status = status;
        } else if (r.ok() && v.action == PresenceDiffAction::kStatus) {
          r.Fail("status", "is required for action status");
        }
        return r.status();
      });
}

template <>
core::Result<PresenceEntry> FromJson<PresenceEntry>(std::string_view json) {
  return internal::DecodeTop<PresenceEntry>(json, "PresenceEntry", DecodeEntry);
}

template <>
core::Result<PresenceRoomReply> FromJson<PresenceRoomReply>(std::string_view json) {
  return internal::DecodeTop<PresenceRoomReply>(
      json, "PresenceRoomReply", [](const Json& j, const std::string& path, PresenceRoomReply& v) {
        return internal::DecodeArray(j, path, v.members, DecodeEntry);
      });
}

}  // namespace chat::contracts

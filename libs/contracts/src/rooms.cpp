#include "chat/contracts/rooms.hpp"

#include "chat/contracts/ids.hpp"
#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

std::string_view RoomTypeName(RoomType type) {
  switch (type) {
    case RoomType::kPublic: return "public";
    case RoomType::kPrivate: return "private";
    case RoomType::kDm: return "dm";
  }
  return "public";
}

std::string_view RoomRoleName(RoomRole role) {
  switch (role) {
    case RoomRole::kOwner: return "owner";
    case RoomRole::kAdmin: return "admin";
    case RoomRole::kMember: return "member";
  }
  return "member";
}

bool IsReservedRoomName(std::string_view name) {
  return name == "general" || name == "random" || name == "help" || name == kAdminRoom ||
         IsDmRoom(name);
}

namespace {

constexpr std::size_t kMaxDisplayNameBytes = 100;

void ReadRoomType(Reader& r, RoomType& out, Need need) {
  std::string type;
  r.Str("type", type, need == Need::kOptional ? Need::kOptional : Need::kNonEmpty);
  if (!r.ok() || type.empty()) return;
  if (type == "public") {
    out = RoomType::kPublic;
  } else if (type == "private") {
    out = RoomType::kPrivate;
  } else if (type == "dm") {
    out = RoomType::kDm;
  } else {
    r.Fail("type", "must be public, private or dm");
  }
}

core::Status DecodeRoomChanged(const Json& j, const std::string& path, RoomChanged& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.Room("room", v.room, Need::kRequired);
  std::string action;
  r.Str("action", action, Need::kNonEmpty);
  if (r.ok()) {
    if (action == "join") {
      v.action = RoomChangeAction::kJoin;
    } else if (action == "leave") {
      v.action = RoomChangeAction::kLeave;
    } else {
      r.Fail("action", "must be join or leave");
    }
  }
  r.User("userId", v.user_id, Need::kRequired);
  ReadRoomType(r, v.type, Need::kOptional);
  if (r.ok() && (v.type == RoomType::kDm) != IsDmRoom(v.room)) {
    r.Fail("type", "must be dm exactly for dm- rooms");
  }
  return r.status();
}

core::Status DecodeRoomMember(const Json& j, const std::string& path, RoomMember& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.User("username", v.username, Need::kRequired);
  std::string role;
  r.Str("role", role, Need::kNonEmpty);
  if (r.ok()) {
    if (role == "owner") {
      v.role = RoomRole::kOwner;
    } else if (role == "admin") {
      v.role = RoomRole::kAdmin;
    } else if (role == "member") {
      v.role = RoomRole::kMember;
    } else {
      r.Fail("role", "must be owner, admin or member");
    }
  }
  return r.status();
}

Json EncodeRoomMember(const RoomMember& v) {
  Json j = Json::object();
  j["username"] = v.username;
  j["role"] = RoomRoleName(v.role);
  return j;
}

core::Status DecodeRoomInfo(const Json& j, const std::string& path, RoomInfo& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.Room("name", v.name, Need::kRequired);
  r.Str("displayName", v.display_name, Need::kOptional, kMaxDisplayNameBytes);
  r.User("creator", v.creator, Need::kRequired);
  ReadRoomType(r, v.type, Need::kRequired);
  r.Int("memberCount", v.member_count, Need::kOptional, 0);
  if (const Json* members = r.Find("members", Need::kOptional)) {
    r.Check("members",
            internal::DecodeArray(*members, r.Sub("members"), v.members, DecodeRoomMember));
  }
  return r.status();
}

Json EncodeRoomInfo(const RoomInfo& v) {
  Json j = Json::object();
  j["name"] = v.name;
  internal::PutStr(j, "displayName", v.display_name);
  j["creator"] = v.creator;
  j["type"] = RoomTypeName(v.type);
  internal::PutInt(j, "memberCount", v.member_count);
  if (!v.members.empty()) {
    Json members = Json::array();
    for (const auto& m : v.members) members.push_back(EncodeRoomMember(m));
    j["members"] = std::move(members);
  }
  return j;
}

// {"<key>"?} bodies whose only field is the (optional) acting user.
template <typename T>
core::Result<T> DecodeUserOnly(std::string_view json, std::string_view type, const char* key,
                               std::string T::*field) {
  return internal::DecodeTop<T>(
      json, type,
      [key, field](const Json& j, const std::string& path, T& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.User(key, v.*field, Need::kOptional);
        return r.status();
      },
      /*allow_empty=*/true);
}

Json UserOnly(const char* key, const std::string& user) {
  Json j = Json::object();
  internal::PutStr(j, key, user);
  return j;
}

}  // namespace

std::string ToJson(const RoomChanged& v) {
  Json j = Json::object();
  j["room"] = v.room;
  j["action"] = v.action == RoomChangeAction::kJoin ? "join" : "leave";
  j["userId"] = v.user_id;
  if (v.type != RoomType::kPublic) j["type"] = RoomTypeName(v.type);
  return internal::Dump(j);
}

std::string ToJson(const RoomMember& v) { return internal::Dump(EncodeRoomMember(v)); }
std::string ToJson(const RoomInfo& v) { return internal::Dump(EncodeRoomInfo(v)); }

std::string ToJson(const RoomMembershipRequest& v) {
  return internal::Dump(UserOnly("userId", v.user_id));
}

std::string ToJson(const RoomCreateRequest& v) {
  Json j = Json::object();
  j["name"] = v.name;
  internal::PutStr(j, "displayName", v.display_name);
  internal::PutStr(j, "user", v.user);
  return internal::Dump(j);
}

std::string ToJson(const RoomListRequest& v) { return internal::Dump(UserOnly("user", v.user)); }

std::string ToJson(const RoomTargetRequest& v) {
  Json j = Json::object();
  j["target"] = v.target;
  internal::PutStr(j, "user", v.user);
  return internal::Dump(j);
}

std::string ToJson(const RoomDepartRequest& v) { return internal::Dump(UserOnly("user", v.user)); }

std::string ToJson(const RoomListReply& v) {
  Json a = Json::array();
  for (const auto& room : v.rooms) a.push_back(EncodeRoomInfo(room));
  return internal::Dump(a);
}

std::string ToJson(const RoomMembersReply& v) {
  Json j = Json::object();
  j["users"] = v.users;
  if (v.type) j["type"] = RoomTypeName(*v.type);
  return internal::Dump(j);
}

template <>
core::Result<RoomChanged> FromJson<RoomChanged>(std::string_view json) {
  return internal::DecodeTop<RoomChanged>(json, "RoomChanged", DecodeRoomChanged);
}

template <>
core::Result<RoomMember> FromJson<RoomMember>(std::string_view json) {
  return internal::DecodeTop<RoomMember>(json, "RoomMember", DecodeRoomMember);
}

template <>
core::Result<RoomInfo> FromJson<RoomInfo>(std::string_view json) {
  return internal::DecodeTop<RoomInfo>(json, "RoomInfo", DecodeRoomInfo);
}

template <>
core::Result<RoomMembershipRequest> FromJson<RoomMembershipRequest>(std::string_view json) {
  return DecodeUserOnly<RoomMembershipRequest>(json, "RoomMembershipRequest", "userId",
                                               &RoomMembershipRequest::user_id);
}

template <>
core::Result<RoomCreateRequest> FromJson<RoomCreateRequest>(std::string_view json) {
  return internal::DecodeTop<RoomCreateRequest>(
      json, "RoomCreateRequest", [](const Json& j, const std::string& path, RoomCreateRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Room("name", v.name, Need::kRequired);
        if (r.ok() && IsReservedRoomName(v.name)) {
          r.Fail("name", "is reserved (general, random, help, __admin__ or dm-…)");
        }
        r.Str("displayName", v.display_name, Need::kOptional, kMaxDisplayNameBytes);
        r.User("user", v.user, Need::kOptional);
        return r.status();
      });
}

template <>
core::Result<RoomListRequest> FromJson<RoomListRequest>(std::string_view json) {
  return DecodeUserOnly<RoomListRequest>(json, "RoomListRequest", "user", &RoomListRequest::user);
}

template <>
core::Result<RoomTargetRequest> FromJson<RoomTargetRequest>(std::string_view json) {
  return internal::DecodeTop<RoomTargetRequest>(
      json, "RoomTargetRequest", [](const Json& j, const std::string& path, RoomTargetRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.User("target", v.target, Need::kRequired);
        r.User("user", v.user, Need::kOptional);
        return r.status();
      });
}

template <>
core::Result<RoomDepartRequest> FromJson<RoomDepartRequest>(std::string_view json) {
  return DecodeUserOnly<RoomDepartRequest>(json, "RoomDepartRequest", "user",
                                           &RoomDepartRequest::user);
}

template <>
core::Result<RoomListReply> FromJson<RoomListReply>(std::string_view json) {
  return internal::DecodeTop<RoomListReply>(
      json, "RoomListReply", [](const Json& j, const std::string& path, RoomListReply& v) {
        return internal::DecodeArray(j, path, v.rooms, DecodeRoomInfo);
      });
}

template <>
core::Result<RoomMembersReply> FromJson<RoomMembersReply>(std::string_view json) {
  return internal::DecodeTop<RoomMembersReply>(
      json, "RoomMembersReply", [](const Json& j, const std::string& path, RoomMembersReply& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        const auto users = j.find("users");
        if (users == j.end()) return core::InvalidArgument(path + ".users: is required");
        CHAT_RETURN_IF_ERROR(
            internal::DecodeArray(*users, path + ".users", v.users,
                                  [](const Json& e, const std::string& p, std::string& user) {
                                    if (!e.is_string())
                                      return core::InvalidArgument(p + ": must be a string");
                                    user = e.get<std::string>();
                                    if (!ValidateUsername(user).ok()) {
                                      return core::InvalidArgument(p + ": is not a valid username");
                                    }
                                    return core::Status::Ok();
                                  }));
        Reader r(j, path);
        if (r.Find("type", Need::kOptional) != nullptr) {
          RoomType type = RoomType::kPublic;
          ReadRoomType(r, type, Need::kNonEmpty);
          if (r.ok()) v.type = type;
        }
        return r.status();
      });
}

}  // namespace chat::contracts

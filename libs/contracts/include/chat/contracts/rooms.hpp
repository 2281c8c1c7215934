// room-service wire types (system.md §3.3.3 with ADR 0001's subjects): membership deltas,
// RoomInfo, and the private-room management requests. The acting user travels on the subject
// (room.create.{user}, room.join.{room}.{user}, …); a body `user`/`userId` is optional and, when
// present, must equal the subject's user (the service checks; these codecs only validate shape).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// Wire "public" (omitted on RoomChanged), "private", "dm" (chat.room.type minus `admin`, which
// is known from the subject).
enum class RoomType { kPublic, kPrivate, kDm };
std::string_view RoomTypeName(RoomType type);

enum class RoomChangeAction { kJoin, kLeave };
// room_members.role: "owner", "admin", "member".
enum class RoomRole { kOwner, kAdmin, kMember };
std::string_view RoomRoleName(RoomRole role);

// room.changed.{room}: {"room","action":"join"|"leave","userId","type"?}.
struct RoomChanged {
  std::string room;
  RoomChangeAction action = RoomChangeAction::kJoin;
  std::string user_id;
  RoomType type = RoomType::kPublic;  // kPublic is encoded by omitting `type`

  friend bool operator==(const RoomChanged&, const RoomChanged&) = default;
};

struct RoomMember {
  std::string username;
  RoomRole role = RoomRole::kMember;

  friend bool operator==(const RoomMember&, const RoomMember&) = default;
};

// room.create / room.list element / room.info reply. `members` only in room.info (join order).
struct RoomInfo {
  std::string name;
  std::string display_name;
  std::string creator;
  RoomType type = RoomType::kPrivate;
  std::int64_t member_count = 0;
  std::vector<RoomMember> members;

  friend bool operator==(const RoomInfo&, const RoomInfo&) = default;
};

// room.join.{room}.{user} and room.leave.{room}.{user}: {"userId"?}.
struct RoomMembershipRequest {
  std::string user_id;

  friend bool operator==(const RoomMembershipRequest&, const RoomMembershipRequest&) = default;
};

// room.create.{user}: {"name","displayName"?,"user"?}. `name` must be a usable private-room key:
// [a-z0-9-]{1,64}, not "dm-…", not general/random/help/__admin__ (system.md §3.1).
struct RoomCreateRequest {
  std::string name;
  std::string display_name;
  std::string user;

  friend bool operator==(const RoomCreateRequest&, const RoomCreateRequest&) = default;
};

// room.list: {"user"?} (the caller comes from the reply inbox, ADR 0001).
struct RoomListRequest {
  std::string user;

  friend bool operator==(const RoomListRequest&, const RoomListRequest&) = default;
};

// room.invite.{room}.{user} and room.kick.{room}.{user}: {"target","user"?}.
struct RoomTargetRequest {
  std::string target;
  std::string user;

  friend bool operator==(const RoomTargetRequest&, const RoomTargetRequest&) = default;
};

// room.depart.{room}.{user}: {"user"?}.
struct RoomDepartRequest {
  std::string user;

  friend bool operator==(const RoomDepartRequest&, const RoomDepartRequest&) = default;
};

// room.list reply: a bare JSON array of RoomInfo ordered by name.
struct RoomListReply {
  std::vector<RoomInfo> rooms;

  friend bool operator==(const RoomListReply&, const RoomListReply&) = default;
};

// room.members.{room} reply (services only): {"users":[…],"type"?}. `type` is the room's type as
// room-service knows it; absent when it could not be determined (the database is down), and
// then fanout keeps treating the room as restricted (fail closed: issue 11 item 2).
struct RoomMembersReply {
  std::vector<std::string> users;
  std::optional<RoomType> type;

  friend bool operator==(const RoomMembersReply&, const RoomMembersReply&) = default;
};

// True for names a user may not create as a private room (client-side defaults and reserved).
bool IsReservedRoomName(std::string_view name);

std::string ToJson(const RoomChanged& v);
std::string ToJson(const RoomMember& v);
std::string ToJson(const RoomInfo& v);
std::string ToJson(const RoomMembershipRequest& v);
std::string ToJson(const RoomCreateRequest& v);
std::string ToJson(const RoomListRequest& v);
std::string ToJson(const RoomTargetRequest& v);
std::string ToJson(const RoomDepartRequest& v);
std::string ToJson(const RoomListReply& v);
std::string ToJson(const RoomMembersReply& v);

template <>
core::Result<RoomChanged> FromJson<RoomChanged>(std::string_view json);
template <>
core::Result<RoomMember> FromJson<RoomMember>(std::string_view json);
template <>
core::Result<RoomInfo> FromJson<RoomInfo>(std::string_view json);
// Empty body allowed (the user is on the subject).
template <>
core::Result<RoomMembershipRequest> FromJson<RoomMembershipRequest>(std::string_view json);
template <>
core::Result<RoomCreateRequest> FromJson<RoomCreateRequest>(std::string_view json);
// Empty body allowed.
template <>
core::Result<RoomListRequest> FromJson<RoomListRequest>(std::string_view json);
template <>
core::Result<RoomTargetRequest> FromJson<RoomTargetRequest>(std::string_view json);
// Empty body allowed.
template <>
core::Result<RoomDepartRequest> FromJson<RoomDepartRequest>(std::string_view json);
template <>
core::Result<RoomListReply> FromJson<RoomListReply>(std::string_view json);
template <>
core::Result<RoomMembersReply> FromJson<RoomMembersReply>(std::string_view json);

}  // namespace chat::contracts

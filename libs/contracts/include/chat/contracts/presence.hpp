// presence-service wire types (system.md §3.3.4 with ADR 0001's subjects): heartbeats and
// disconnects per connection, status updates, per-room diffs and the room query reply.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// "online", "away", "busy", "offline" (the chat.presence.status enum).
enum class PresenceStatus { kOnline, kAway, kBusy, kOffline };
std::string_view PresenceStatusName(PresenceStatus status);
core::Result<PresenceStatus> PresenceStatusFromName(std::string_view name);

// presence.heartbeat.{user} and presence.disconnect.{user}: {"userId"?,"connId"}.
// connId: 1-64 bytes of [A-Za-z0-9_-] (the browser sends 8 hex chars; it is a KV key token).
struct PresenceHeartbeat {
  std::string user_id;
  std::string conn_id;

  friend bool operator==(const PresenceHeartbeat&, const PresenceHeartbeat&) = default;
};

// presence.update.{user}: {"userId"?,"status"}.
struct PresenceUpdate {
  std::string user_id;
  PresenceStatus status = PresenceStatus::kOnline;

  friend bool operator==(const PresenceUpdate&, const PresenceUpdate&) = default;
};

enum class PresenceDiffAction { kOnline, kOffline, kStatus };

// room.presence.{room} / deliver.{user}.presence.{room}: {"action","userId","status"?};
// `status` is required for action "status".
struct PresenceDiff {
  PresenceDiffAction action = PresenceDiffAction::kOnline;
  std::string user_id;
  std::optional<PresenceStatus> status;

  friend bool operator==(const PresenceDiff&, const PresenceDiff&) = default;
};

struct PresenceEntry {
  std::string user_id;
  PresenceStatus status = PresenceStatus::kOffline;

  friend bool operator==(const PresenceEntry&, const PresenceEntry&) = default;
};

// presence.room.{room} reply: a bare JSON array of {"userId","status"}.
struct PresenceRoomReply {
  std::vector<PresenceEntry> members;

  friend bool operator==(const PresenceRoomReply&, const PresenceRoomReply&) = default;
};

std::string ToJson(const PresenceHeartbeat& v);
std::string ToJson(const PresenceUpdate& v);
std::string ToJson(const PresenceDiff& v);
std::string ToJson(const PresenceEntry& v);
std::string ToJson(const PresenceRoomReply& v);

template <>
core::Result<PresenceHeartbeat> FromJson<PresenceHeartbeat>(std::string_view json);
template <>
core::Result<PresenceUpdate> FromJson<PresenceUpdate>(std::string_view json);
template <>
core::Result<PresenceDiff> FromJson<PresenceDiff>(std::string_view json);
template <>
core::Result<PresenceEntry> FromJson<PresenceEntry>(std::string_view json);
template <>
core::Result<PresenceRoomReply> FromJson<PresenceRoomReply>(std::string_view json);

}  // namespace chat::contracts

// presence-service's in-memory state: the connection tracker mirrored from PRESENCE_CONN, the room
// types learned from room.changed deltas (ADR 0001: public rooms get multicast diffs, private and
// DM rooms per-member ones), and the PRESENCE value codec. Everything here is thread-safe and
// does no I/O, so it is unit-testable on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/contracts/presence.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/core/result.hpp"

namespace chat::presence_service {

// PRESENCE_CONN keys are "{user}.{connId}": split on the FIRST dot (system.md §4.2).
std::string ConnKey(std::string_view user, std::string_view conn_id);
std::optional<std::pair<std::string, std::string>> SplitConnKey(std::string_view key);

// user → live connections, each with the time (unix ns) its key was last written.
class ConnectionTracker {
 public:
  struct Removal {
    bool was_tracked = false;  // the connection was known
    bool now_empty = false;    // the user has no live connection left
  };
  struct Expired {
    std::string user;
    std::string conn_id;
    bool last = false;  // it was the user's last connection
  };

  // Records a put of the connection key; returns true when the user had no connection before.
  // `seen_unix_nano` never moves a connection's time backwards.
  bool Touch(std::string_view user, std::string_view conn_id, int64_t seen_unix_nano);
  Removal Remove(std::string_view user, std::string_view conn_id);
  bool HasAny(std::string_view user) const;
  // True when `conn_id` is already tracked for `user` or the user holds fewer than `max`
  // connections: the per-user cap of a heartbeat.
  bool Admits(std::string_view user, std::string_view conn_id, size_t max) const;
  size_t ConnectionsOf(std::string_view user) const;
  // Removes every connection last written before `cutoff_unix_nano`.
  std::vector<Expired> TakeExpired(int64_t cutoff_unix_nano);
  size_t Users() const;
  size_t Connections() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, int64_t, std::less<>>, std::less<>> by_user_;
  size_t connections_ = 0;
};

// What a room's diffs and queries are allowed to reveal.
enum class RoomVisibility {
  kPublic,      // multicast diffs on room.presence.{room}; anyone may query
  kRestricted,  // private, DM, admin, or not yet known: per-member diffs; members-only queries
};

// Room types learned from room.changed `type`, plus the dm- prefix and the admin channel key.
// A room not seen in any delta is restricted: hydration from ROOMS carries no type, and guessing
// "public" would leak a private room's presence to everyone (ADR 0001).
class RoomTypes {
 public:
  void Learn(std::string_view room, contracts::RoomType type);
  RoomVisibility Visibility(std::string_view room) const;
  // chat.room.type: public, private, dm, admin, or "" when unknown.
  std::string_view TypeName(std::string_view room) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, contracts::RoomType, std::less<>> types_;
};

// The PRESENCE value: {"status","lastSeen"}.
struct PresenceRecord {
  contracts::PresenceStatus status = contracts::PresenceStatus::kOnline;
  int64_t last_seen_ms = 0;
};
std::string EncodePresenceRecord(const PresenceRecord& record);
core::Result<PresenceRecord> DecodePresenceRecord(std::string_view json);

}  // namespace chat::presence_service

// Live room membership as room-service, presence-service and read-receipt-service keep it
// (system.md §3.8): ROOMS KV is authoritative; each service holds an in-memory view built by
// subscribing to room.changed.{room} deltas first, hydrating a fresh index from ROOMS, replaying
// the deltas that arrived meanwhile, and swapping the fresh index in atomically.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/contracts/rooms.hpp"
#include "chat/core/status.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::natsx {
class KeyValue;
}

namespace chat::membership {

// ROOMS keys are "{room}.{user}"; neither part may contain a dot, so split on the last dot.
std::string RoomsKey(std::string_view room, std::string_view user);
std::optional<std::pair<std::string, std::string>> SplitRoomsKey(std::string_view key);

// room → users and user → rooms. Thread-safe; every call takes one short lock.
class RoomIndex {
 public:
  bool Add(std::string_view room, std::string_view user);     // true if it was not a member
  bool Remove(std::string_view room, std::string_view user);  // true if it was a member
  bool Apply(const contracts::RoomChanged& delta);            // Add or Remove
  bool IsMember(std::string_view room, std::string_view user) const;
  std::vector<std::string> Members(std::string_view room) const;  // sorted
  std::vector<std::string> RoomsOf(std::string_view user) const;  // sorted
  size_t ActiveRooms() const;                                     // rooms with at least one member
  size_t Memberships() const;
  void Clear();
  // Replaces this index's contents with `fresh`'s (fresh is left empty).
  void ReplaceWith(RoomIndex&& fresh);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>, std::less<>> by_room_;
  std::map<std::string, std::set<std::string>, std::less<>> by_user_;
};

// A RoomIndex kept equal to ROOMS KV plus the room.changed deltas.
class MembershipMirror {
 public:
  explicit MembershipMirror(const telemetry::Telemetry& telemetry) : telemetry_(telemetry) {}

  // Feed every room.changed.{room} delta here (from the service's dispatcher route). While a
  // hydration runs, deltas are also buffered and replayed on the fresh index.
  void OnDelta(const contracts::RoomChanged& delta);
  // Reads every key of the ROOMS bucket into a fresh index, replays buffered deltas, swaps it in.
  // Logs the hydrated count. Errors: unavailable (KV unreachable); the old view is kept.
  core::Status Hydrate(natsx::KeyValue& rooms, const telemetry::SpanContext& parent);
  // The same, reading ROOMS through `read_keys`, which calls `each` with every live key and
  // returns unavailable when it cannot (e.g. runtime::ReadLiveKeys over a runtime::KeyValue).
  // Its error comes back as "rooms bucket <message>".
  using KeyReader =
      std::function<core::Status(const std::function<void(std::string_view key)>& each)>;
  core::Status Hydrate(const KeyReader& read_keys, const telemetry::SpanContext& parent);

  const RoomIndex& index() const { return index_; }
  RoomIndex& index() { return index_; }

 private:
  const telemetry::Telemetry& telemetry_;
  RoomIndex index_;
  std::mutex run_mu_;  // one hydration at a time
  std::mutex hydrate_mu_;
  bool hydrating_ = false;
  std::vector<contracts::RoomChanged> buffered_;
};

}  // namespace chat::membership

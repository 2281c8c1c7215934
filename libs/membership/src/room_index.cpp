// RoomIndex and MembershipMirror (see room_index.hpp): the in-memory membership view shared by
// room-service, presence-service and read-receipt-service.
#include "chat/membership/room_index.hpp"

#include <chrono>
#include <memory>

#include "chat/contracts/attributes.hpp"
#include "chat/natsx/kv.hpp"

namespace chat::membership {

std::string RoomsKey(std::string_view room, std::string_view user) {
  std::string key;
  key.reserve(room.size() + 1 + user.size());
  key.append(room).append(".").append(user);
  return key;
}

std::optional<std::pair<std::string, std::string>> SplitRoomsKey(std::string_view key) {
  size_t dot = key.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == key.size()) return std::nullopt;
  std::string_view room = key.substr(0, dot);
  std::string_view user = key.substr(dot + 1);
  // A dot in the room part means the key was not written by room-service ("{room}.{user}").
  if (room.find('.') != std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(room), std::string(user));
}

// ---- RoomIndex ----

bool RoomIndex::Add(std::string_view room, std::string_view user) {
  if (room.empty() || user.empty()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto r = by_room_.find(room);
  if (r == by_room_.end()) r = by_room_.emplace(std::string(room), std::set<std::string>{}).first;
  if (!r->second.emplace(user).second) return false;
  auto u = by_user_.find(user);
  if (u == by_user_.end()) u = by_user_.emplace(std::string(user), std::set<std::string>{}).first;
  u->second.emplace(room);
  return true;
}

bool RoomIndex::Remove(std::string_view room, std::string_view user) {
  std::lock_guard<std::mutex> lock(mu_);
  auto r = by_room_.find(room);
  if (r == by_room_.end()) return false;
  auto m = r->second.find(std::string(user));
  if (m == r->second.end()) return false;
  r->second.erase(m);
  // Empty rooms are dropped so ActiveRooms() counts only rooms with members.
  if (r->second.empty()) by_room_.erase(r);
  auto u = by_user_.find(user);
  if (u != by_user_.end()) {
    auto ur = u->second.find(std::string(room));
    if (ur != u->second.end()) u->second.erase(ur);
    if (u->second.empty()) by_user_.erase(u);
  }
  return true;
}

bool RoomIndex::Apply(const contracts::RoomChanged& delta) {
  return delta.action == contracts::RoomChangeAction::kJoin ? Add(delta.room, delta.user_id)
                                                            : Remove(delta.room, delta.user_id);
}

bool RoomIndex::IsMember(std::string_view room, std::string_view user) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto r = by_room_.find(room);
  return r != by_room_.end() && r->second.count(std::string(user)) > 0;
}

std::vector<std::string> RoomIndex::Members(std::string_view room) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto r = by_room_.find(room);
  if (r == by_room_.end()) return {};
  return {r->second.begin(), r->second.end()};
}

std::vector<std::string> RoomIndex::RoomsOf(std::string_view user) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto u = by_user_.find(user);
  if (u == by_user_.end()) return {};
  return {u->second.begin(), u->second.end()};
}

size_t RoomIndex::ActiveRooms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_room_.size();
}

size_t RoomIndex::Memberships() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [room, users] : by_room_) n += users.size();
  return n;
}

void RoomIndex::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  by_room_.clear();
  by_user_.clear();
}

void RoomIndex::ReplaceWith(RoomIndex&& fresh) {
  if (&fresh == this) return;
  std::scoped_lock lock(mu_, fresh.mu_);
  by_room_ = std::move(fresh.by_room_);
  by_user_ = std::move(fresh.by_user_);
  fresh.by_room_.clear();
  fresh.by_user_.clear();
}

// ---- MembershipMirror ----

void MembershipMirror::OnDelta(const contracts::RoomChanged& delta) {
  // Lock order everywhere: hydrate_mu_, then the index's own mutex.
  std::lock_guard<std::mutex> lock(hydrate_mu_);
  if (hydrating_) buffered_.push_back(delta);
  index_.Apply(delta);
}

namespace {
// Bounds one wait for the next ROOMS entry; the initial values arrive back to back.
constexpr std::chrono::milliseconds kWatchNextTimeout{5000};
}  // namespace

core::Status MembershipMirror::Hydrate(natsx::KeyValue& rooms,
                                       const telemetry::SpanContext& parent) {
  return Hydrate(
      [&rooms, &parent](const std::function<void(std::string_view key)>& each) -> core::Status {
        auto watcher = rooms.Watch("", parent);
        if (!watcher.ok()) {
          return core::Unavailable("watch failed: " + watcher.status().message());
        }
        while (true) {
          bool timed_out = false;
          auto next = (*watcher)->Next(kWatchNextTimeout, &timed_out);
          if (!next.ok()) return core::Unavailable("read failed: " + next.status().message());
          if (timed_out) return core::Unavailable("read timed out");
          if (!next->has_value()) break;  // end of the initial values
          const natsx::KvEntry& e = **next;
          if (e.operation != natsx::KvEntry::Operation::kPut) continue;
          each(e.key);
        }
        (*watcher)->Stop();
        return core::Status();
      },
      parent);
}

core::Status MembershipMirror::Hydrate(const KeyReader& read_keys,
                                       const telemetry::SpanContext& parent) {
  std::lock_guard<std::mutex> run(run_mu_);
  {
    std::lock_guard<std::mutex> lock(hydrate_mu_);
    hydrating_ = true;
    buffered_.clear();
  }
  // Leaves hydrating mode on every exit path; the old view stays when reading failed.
  class StopBuffering {
   public:
    explicit StopBuffering(MembershipMirror& m) : m_(m) {}
    ~StopBuffering() {
      std::lock_guard<std::mutex> lock(m_.hydrate_mu_);
      m_.hydrating_ = false;
      m_.buffered_.clear();
    }
    StopBuffering(const StopBuffering&) = delete;
    StopBuffering& operator=(const StopBuffering&) = delete;

   private:
    MembershipMirror& m_;
  } stop{*this};

  RoomIndex fresh;
  size_t skipped = 0;
  core::Status read = read_keys([&fresh, &skipped](std::string_view key) {
    auto parts = SplitRoomsKey(key);
    if (!parts) {
      ++skipped;
      return;
    }
    fresh.Add(parts->first, parts->second);
  });
  if (!read.ok()) return core::Status(read.code(), "rooms bucket " + read.message());

  size_t replayed = 0;
  {
    std::lock_guard<std::mutex> lock(hydrate_mu_);
    for (const auto& d : buffered_) fresh.Apply(d);
    replayed = buffered_.size();
    index_.ReplaceWith(std::move(fresh));
  }
  if (skipped > 0) {
    telemetry_.logger->Warn(parent, "Skipped malformed ROOMS keys while hydrating membership",
                            {{"chat.skipped", skipped}});
  }
  telemetry_.logger->Info(parent, "Membership hydrated from ROOMS",
                          {{"chat.memberships", index_.Memberships()},
                           {"chat.active_rooms", index_.ActiveRooms()},
                           {"chat.replayed_deltas", replayed}});
  return core::Status();
}

}  // namespace chat::membership

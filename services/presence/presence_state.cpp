// In-memory presence state (see presence_state.hpp).
#include "presence_state.hpp"

#include <nlohmann/json.hpp>
#include <ranges>

namespace chat::presence_service {

namespace {
constexpr std::string_view kDmPrefix = "dm-";
// The admin channel's UI key and membership key (system.md §3.1).
constexpr std::string_view kAdminKeys[] = {"__admin__", "__admin__chat"};
}  // namespace

std::string ConnKey(std::string_view user, std::string_view conn_id) {
  std::string key;
  key.reserve(user.size() + 1 + conn_id.size());
  key.append(user).append(".").append(conn_id);
  return key;
}

std::optional<std::pair<std::string, std::string>> SplitConnKey(std::string_view key) {
  size_t dot = key.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == key.size()) return std::nullopt;
  return std::make_pair(std::string(key.substr(0, dot)), std::string(key.substr(dot + 1)));
}

bool ConnectionTracker::Touch(std::string_view user, std::string_view conn_id,
                              int64_t seen_unix_nano) {
  std::lock_guard lock(mu_);
  auto it = by_user_.find(user);
  bool first = it == by_user_.end() || it->second.empty();
  if (it == by_user_.end()) it = by_user_.emplace(std::string(user), decltype(it->second){}).first;
  auto conn = it->second.find(conn_id);
  if (conn == it->second.end()) {
    it->second.emplace(std::string(conn_id), seen_unix_nano);
    ++connections_;
  } else if (seen_unix_nano > conn->second) {
    conn->second = seen_unix_nano;
  }
  return first;
}

ConnectionTracker::Removal ConnectionTracker::Remove(std::string_view user,
                                                     std::string_view conn_id) {
  std::lock_guard lock(mu_);
  Removal r;
  auto it = by_user_.find(user);
  if (it == by_user_.end()) {
    r.now_empty = true;
    return r;
  }
  auto conn = it->second.find(conn_id);
  if (conn != it->second.end()) {
    it->second.erase(conn);
    --connections_;
    r.was_tracked = true;
  }
  if (it->second.empty()) {
    by_user_.erase(it);
    r.now_empty = true;
  }
  return r;
}

bool ConnectionTracker::HasAny(std::string_view user) const {
  std::lock_guard lock(mu_);
  auto it = by_user_.find(user);
  return it != by_user_.end() && !it->second.empty();
}

bool ConnectionTracker::Admits(std::string_view user, std::string_view conn_id, size_t max) const {
  std::lock_guard lock(mu_);
  auto it = by_user_.find(user);
  if (it == by_user_.end()) return max > 0;
  return it->second.find(conn_id) != it->second.end() || it->second.size() < max;
}

size_t ConnectionTracker::ConnectionsOf(std::string_view user) const {
  std::lock_guard lock(mu_);
  auto it = by_user_.find(user);
  return it == by_user_.end() ? 0 : it->second.size();
}

std::vector<ConnectionTracker::Expired> ConnectionTracker::TakeExpired(int64_t cutoff_unix_nano) {
  std::lock_guard lock(mu_);
  std::vector<Expired> out;
  for (auto it = by_user_.begin(); it != by_user_.end();) {
    auto& conns = it->second;
    for (auto c = conns.begin(); c != conns.end();) {
      if (c->second < cutoff_unix_nano) {
        out.push_back({it->first, c->first, false});
        c = conns.erase(c);
        --connections_;
      } else {
        ++c;
      }
    }
    if (conns.empty()) {
      // Only the last expired connection of a user that has none left takes it offline.
      // Reverse iterators: clang 14 cannot compile libstdc++ 12's std::ranges::reverse_view.
      for (auto e = out.rbegin(); e != out.rend(); ++e) {  // NOLINT(modernize-loop-convert)
        if (e->user == it->first) {
          e->last = true;
          break;
        }
      }
      it = by_user_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

size_t ConnectionTracker::Users() const {
  std::lock_guard lock(mu_);
  return by_user_.size();
}

size_t ConnectionTracker::Connections() const {
  std::lock_guard lock(mu_);
  return connections_;
}

void ConnectionTracker::Clear() {
  std::lock_guard lock(mu_);
  by_user_.clear();
  connections_ = 0;
}

void RoomTypes::Learn(std::string_view room, contracts::RoomType type) {
  std::lock_guard lock(mu_);
  auto it = types_.find(room);
  if (it == types_.end()) {
    types_.emplace(std::string(room), type);
  } else {
    it->second = type;
  }
}

RoomVisibility RoomTypes::Visibility(std::string_view room) const {
  if (room.starts_with(kDmPrefix)) return RoomVisibility::kRestricted;
  for (std::string_view admin : kAdminKeys) {
    if (room == admin) return RoomVisibility::kRestricted;
  }
  std::lock_guard lock(mu_);
  auto it = types_.find(room);
  if (it == types_.end()) return RoomVisibility::kRestricted;
  return it->second == contracts::RoomType::kPublic ? RoomVisibility::kPublic
                                                    : RoomVisibility::kRestricted;
}

std::string_view RoomTypes::TypeName(std::string_view room) const {
  if (room.starts_with(kDmPrefix)) return "dm";
  for (std::string_view admin : kAdminKeys) {
    if (room == admin) return "admin";
  }
  std::lock_guard lock(mu_);
  auto it = types_.find(room);
  if (it == types_.end()) return "";
  return contracts::RoomTypeName(it->second);
}

std::string EncodePresenceRecord(const PresenceRecord& record) {
  nlohmann::json j;
  j["status"] = contracts::PresenceStatusName(record.status);
  j["lastSeen"] = record.last_seen_ms;
  return j.dump();
}

core::Result<PresenceRecord> DecodePresenceRecord(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return core::InvalidArgument("PRESENCE value is not a JSON object");
  }
  auto status = j.find("status");
  if (status == j.end() || !status->is_string()) {
    return core::InvalidArgument("PRESENCE value has no status");
  }
  PresenceRecord record;
  CHAT_ASSIGN_OR_RETURN(record.status,
                        contracts::PresenceStatusFromName(status->get<std::string>()));
  auto last_seen = j.find("lastSeen");
  if (last_seen != j.end() && last_seen->is_number_integer()) {
    record.last_seen_ms = last_seen->get<int64_t>();
  }
  return record;
}

}  // namespace chat::presence_service

#include "member_cache.hpp"

namespace chat::fanout {

MemberCache::MemberCache(size_t capacity, telemetry::GaugeCell& rooms,
                         telemetry::GaugeCell& members, const telemetry::CounterCell* reconnects)
    : capacity_(capacity == 0 ? 1 : capacity),
      rooms_gauge_(rooms),
      members_gauge_(members),
      reconnects_(reconnects),
      reconnects_seen_(reconnects != nullptr ? reconnects->Value() : 0) {}

size_t MemberCache::rooms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void MemberCache::MaybeResetLocked() {
  if (reconnects_ == nullptr) return;
  double now = reconnects_->Value();
  if (now != reconnects_seen_) {
    reconnects_seen_ = now;
    ResetLocked();
  }
}

void MemberCache::ResetLocked() {
  entries_.clear();
  lru_.clear();
  member_count_ = 0;
  ++generation_;  // fetches in flight started before the reset are not cached
  PublishGaugesLocked();
}

void MemberCache::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  ResetLocked();
}

void MemberCache::PublishGaugesLocked() {
  rooms_gauge_.Set(static_cast<double>(entries_.size()));
  members_gauge_.Set(static_cast<double>(member_count_));
}

void MemberCache::EvictLocked(std::unordered_map<std::string, Entry>::iterator it) {
  member_count_ -= it->second.members->size();
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

void MemberCache::InsertLocked(const std::string& room, MemberSnapshot members) {
  auto it = entries_.find(room);
  if (it != entries_.end()) EvictLocked(it);
  while (entries_.size() >= capacity_ && !lru_.empty()) {
    EvictLocked(entries_.find(lru_.back()));
  }
  lru_.push_front(room);
  member_count_ += members->size();
  entries_.emplace(room, Entry{std::move(members), lru_.begin()});
  PublishGaugesLocked();
}

core::Result<MemberSnapshot> MemberCache::Get(std::string_view room, bool& hit,
                                              const Fetch& fetch) {
  std::string key(room);
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    MaybeResetLocked();
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      hit = true;
      return it->second.members;
    }
    hit = false;
    auto f = flights_.find(key);
    if (f != flights_.end()) {
      flight = f->second;
    } else {
      flight = std::make_shared<Flight>();
      flight->generation = generation_;
      flights_.emplace(key, flight);
      leader = true;
    }
    if (!leader) {
      cv_.wait(lock, [&] { return flight->done; });
      return *flight->result;
    }
  }

  core::Result<std::vector<std::string>> fetched = fetch();

  std::lock_guard<std::mutex> lock(mu_);
  flights_.erase(key);
  if (fetched.ok()) {
    auto set = std::make_shared<MemberSet>(fetched->begin(), fetched->end());
    for (const auto& [join, user] : flight->deltas) {
      if (join) {
        set->insert(user);
      } else {
        set->erase(user);
      }
    }
    MemberSnapshot snapshot = std::move(set);
    if (flight->generation == generation_) InsertLocked(key, snapshot);
    flight->result.emplace(snapshot);
  } else {
    flight->result.emplace(fetched.status());
  }
  flight->done = true;
  cv_.notify_all();
  return *flight->result;
}

void MemberCache::Apply(std::string_view room, std::string_view user, bool join) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key(room);
  if (auto f = flights_.find(key); f != flights_.end()) {
    f->second->deltas.emplace_back(join, std::string(user));
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  const MemberSet& current = *it->second.members;
  bool present = current.count(std::string(user)) > 0;
  if (join == present) return;
  if (!join && current.size() == 1) {
    EvictLocked(it);
    PublishGaugesLocked();
    return;
  }
  auto next = std::make_shared<MemberSet>(current);
  if (join) {
    next->insert(std::string(user));
    ++member_count_;
  } else {
    next->erase(std::string(user));
    --member_count_;
  }
  it->second.members = std::move(next);
  PublishGaugesLocked();
}

void MemberCache::ApplyJoin(std::string_view room, std::string_view user) {
  Apply(room, user, true);
}
void MemberCache::ApplyLeave(std::string_view room, std::string_view user) {
  Apply(room, user, false);
}

}  // namespace chat::fanout

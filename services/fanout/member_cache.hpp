// MemberCache: fanout's LRU of room → current members (system.md §6.2). Filled on a miss by a
// caller-supplied fetch (room.members.{room}) with per-room single-flight, so N concurrent
// misses make one request; kept current by room.changed deltas, which touch cached rooms only
// (and rooms being fetched, so a join racing the fetch is not lost). Member sets are immutable
// snapshots shared with readers, so a lookup never holds the lock while the caller iterates.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/telemetry/metrics.hpp"

namespace chat::fanout {

using MemberSet = std::unordered_set<std::string>;
using MemberSnapshot = std::shared_ptr<const MemberSet>;

class MemberCache {
 public:
  using Fetch = std::function<core::Result<std::vector<std::string>>()>;

  // `rooms`/`members` are the fanout_cached_* gauge cells. `reconnects` (optional) is
  // nats_client_reconnects_total: when it moved since the last lookup the cache is reset,
  // because deltas published while we were disconnected are lost (system.md §6.2).
  MemberCache(size_t capacity, telemetry::GaugeCell& rooms, telemetry::GaugeCell& members,
              const telemetry::CounterCell* reconnects = nullptr);

  // The members of `room`: from the LRU (hit = true) or from `fetch` (hit = false; concurrent
  // misses of the same room share one fetch). A failed fetch is returned and not cached.
  core::Result<MemberSnapshot> Get(std::string_view room, bool& hit, const Fetch& fetch);

  void ApplyJoin(std::string_view room, std::string_view user);
  // A leave that empties a cached room evicts it.
  void ApplyLeave(std::string_view room, std::string_view user);
  void Reset();

  size_t rooms() const;

 private:
  struct Entry {
    MemberSnapshot members;
    std::list<std::string>::iterator lru;
  };
  struct Flight {
    bool done = false;
    std::optional<core::Result<MemberSnapshot>> result;
    std::vector<std::pair<bool, std::string>> deltas;  // (join?, user) seen during the fetch
    uint64_t generation = 0;
  };

  void MaybeResetLocked();
  void ResetLocked();
  void InsertLocked(const std::string& room, MemberSnapshot members);
  void EvictLocked(std::unordered_map<std::string, Entry>::iterator it);
  void Apply(std::string_view room, std::string_view user, bool join);
  void PublishGaugesLocked();

  const size_t capacity_;
  telemetry::GaugeCell& rooms_gauge_;
  telemetry::GaugeCell& members_gauge_;
  const telemetry::CounterCell* reconnects_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::list<std::string> lru_;  // front = most recently used
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  size_t member_count_ = 0;
  uint64_t generation_ = 0;
  double reconnects_seen_ = 0;
};

}  // namespace chat::fanout

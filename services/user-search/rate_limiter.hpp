// RateLimiter: one token bucket per user (docs/system.md §10: the reference let any client
// hammer the IdP admin API through users.search). A user may search `burst` times at once, then
// once every 60/per_minute seconds. In memory and per instance: a restart or a second instance
// gives a user a fresh bucket, which is acceptable for a limit that protects the IdP from a
// runaway client rather than enforcing a quota. The map is bounded: when it reaches
// kMaxTrackedUsers, buckets that have refilled completely (they carry no information) are
// dropped, and if none has, the request is refused rather than the map grown. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chat/core/clock.hpp"

namespace chat::user_search_service {

class RateLimiter {
 public:
  static constexpr std::size_t kMaxTrackedUsers = 100000;

  RateLimiter(int per_minute, int burst, const core::Clock& clock)
      : capacity_(burst), per_second_(per_minute / 60.0), clock_(clock) {}

  // Takes one token from `user`'s bucket; false (nothing taken) when it is empty, with the time
  // until the next token in `retry_after`.
  bool TryAcquire(std::string_view user, std::chrono::milliseconds& retry_after);

  std::size_t tracked() const {
    std::lock_guard lock(mu_);
    return buckets_.size();
  }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  void Refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  void DropFullBuckets(std::chrono::steady_clock::time_point now);

  const double capacity_;
  const double per_second_;
  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace chat::user_search_service

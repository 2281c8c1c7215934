#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace chat::user_search_service {

void RateLimiter::Refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) b.tokens = std::min(capacity_, b.tokens + elapsed * per_second_);
  b.updated = now;
}

void RateLimiter::DropFullBuckets(std::chrono::steady_clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now);
    it = it->second.tokens >= capacity_ ? buckets_.erase(it) : std::next(it);
  }
}

bool RateLimiter::TryAcquire(std::string_view user, std::chrono::milliseconds& retry_after) {
  const auto now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(user));
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxTrackedUsers) DropFullBuckets(now);
    if (buckets_.size() >= kMaxTrackedUsers) {
      retry_after = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(1000 / per_second_)));
      return false;
    }
    it = buckets_.emplace(std::string(user), Bucket{capacity_, now}).first;
  }
  Bucket& b = it->second;
  Refill(b, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  retry_after = std::chrono::milliseconds(
      static_cast<int64_t>(std::ceil((1 - b.tokens) / per_second_ * 1000)));
  return false;
}

}  // namespace chat::user_search_service

#include "throttle.hpp"

#include <algorithm>
#include <cmath>

namespace chat::devidp {
namespace {

constexpr size_t kMaxKeys = 10000;

}  // namespace

void LoginThrottle::RefillLocked(Bucket& b, std::chrono::steady_clock::time_point now) const {
  double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.last).count());
  b.tokens = std::min(capacity_, b.tokens + elapsed * per_second_);
  b.last = now;
}

bool LoginThrottle::TryAcquire(const std::string& key, int64_t& retry_after_seconds) {
  auto now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  if (buckets_.size() >= kMaxKeys) {
    // Bounded memory under username or address churn: forget budgets that have refilled.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      RefillLocked(it->second, now);
      it = it->second.tokens >= capacity_ ? buckets_.erase(it) : std::next(it);
    }
    if (buckets_.size() >= kMaxKeys) buckets_.clear();  // a flood: start over, never scan forever
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{capacity_, now});
  Bucket& b = it->second;
  if (!inserted) RefillLocked(b, now);
  if (b.tokens < 1.0) {
    retry_after_seconds =
        std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - b.tokens) / per_second_)));
    return false;
  }
  b.tokens -= 1.0;
  return true;
}

void LoginThrottle::Release(const std::string& key) {
  auto now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return;
  RefillLocked(it->second, now);
  it->second.tokens = std::min(capacity_, it->second.tokens + 1.0);
}

}  // namespace chat::devidp

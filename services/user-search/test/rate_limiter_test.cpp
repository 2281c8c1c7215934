// RateLimiter on a FakeClock: burst, refill, per-user buckets and the bound on tracked users.
#include "rate_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "chat/core/clock.hpp"

namespace chat::user_search_service {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiterTest, BurstThenOnePerIntervalPerUser) {
  core::FakeClock clock;
  RateLimiter limiter(/*per_minute=*/30, /*burst=*/2, clock);  // one more every 2 s
  std::chrono::milliseconds retry{0};
  EXPECT_TRUE(limiter.TryAcquire("alice", retry));
  EXPECT_TRUE(limiter.TryAcquire("alice", retry));
  EXPECT_FALSE(limiter.TryAcquire("alice", retry));
  EXPECT_EQ(retry, 2000ms);
  EXPECT_TRUE(limiter.TryAcquire("bob", retry));  // a bucket of his own
  clock.Advance(1s);
  EXPECT_FALSE(limiter.TryAcquire("alice", retry));
  EXPECT_EQ(retry, 1000ms);
  clock.Advance(1s);
  EXPECT_TRUE(limiter.TryAcquire("alice", retry));
  EXPECT_FALSE(limiter.TryAcquire("alice", retry));
  // Idle time refills up to the burst, never beyond it.
  clock.Advance(1h);
  EXPECT_TRUE(limiter.TryAcquire("alice", retry));
  EXPECT_TRUE(limiter.TryAcquire("alice", retry));
  EXPECT_FALSE(limiter.TryAcquire("alice", retry));
}

TEST(RateLimiterTest, TrackedUsersAreBoundedByDroppingRefilledBuckets) {
  core::FakeClock clock;
  RateLimiter limiter(/*per_minute=*/60, /*burst=*/1, clock);
  std::chrono::milliseconds retry{0};
  for (std::size_t i = 0; i < RateLimiter::kMaxTrackedUsers; ++i) {
    ASSERT_TRUE(limiter.TryAcquire("u" + std::to_string(i), retry)) << i;
  }
  EXPECT_EQ(limiter.tracked(), RateLimiter::kMaxTrackedUsers);
  // Every bucket is empty, so none can be dropped: a new user is refused, the map does not grow.
  EXPECT_FALSE(limiter.TryAcquire("newcomer", retry));
  EXPECT_EQ(limiter.tracked(), RateLimiter::kMaxTrackedUsers);
  // Once they have refilled they carry no information and make room.
  clock.Advance(1s);
  EXPECT_TRUE(limiter.TryAcquire("newcomer", retry));
  EXPECT_EQ(limiter.tracked(), 1u);
}

}  // namespace
}  // namespace chat::user_search_service

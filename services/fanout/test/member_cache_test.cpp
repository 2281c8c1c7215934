// MemberCache unit tests: LRU bounds, single-flight misses, deltas (including one racing a
// fetch), failed fetches not cached, and the reset when the reconnect counter moves.
#include "member_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "chat/telemetry/metrics.hpp"
#include "chat/testing/wait_for.hpp"

namespace {

using namespace std::chrono_literals;
using chat::fanout::MemberCache;
using chat::fanout::MemberSnapshot;
using Users = std::vector<std::string>;

class MemberCacheTest : public ::testing::Test {
 protected:
  chat::telemetry::MetricRegistry registry_;
  chat::telemetry::GaugeCell& rooms_ = registry_.AddGauge("rooms", "").Default();
  chat::telemetry::GaugeCell& members_ = registry_.AddGauge("members", "").Default();
  chat::telemetry::CounterCell& reconnects_ = registry_.AddCounter("r_total", "").Default();
};

TEST_F(MemberCacheTest, MissThenHitAndLruEviction) {
  MemberCache cache(2, rooms_, members_, &reconnects_);
  int fetches = 0;
  auto fetch = [&](const Users& u) {
    return [&fetches, u]() -> chat::core::Result<Users> {
      ++fetches;
      return u;
    };
  };
  bool hit = true;
  auto a = cache.Get("a", hit, fetch({"alice", "bob"}));
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(hit);
  EXPECT_EQ((*a)->size(), 2u);
  ASSERT_TRUE(cache.Get("a", hit, fetch({})).ok());
  EXPECT_TRUE(hit);
  ASSERT_TRUE(cache.Get("b", hit, fetch({"carol"})).ok());
  ASSERT_TRUE(cache.Get("a", hit, fetch({})).ok());        // a is now most recent
  ASSERT_TRUE(cache.Get("c", hit, fetch({"dave"})).ok());  // evicts b
  EXPECT_EQ(rooms_.Value(), 2);
  EXPECT_EQ(members_.Value(), 3);
  ASSERT_TRUE(cache.Get("a", hit, fetch({})).ok());
  EXPECT_TRUE(hit);
  ASSERT_TRUE(cache.Get("b", hit, fetch({"carol"})).ok());
  EXPECT_FALSE(hit);
  EXPECT_EQ(fetches, 4);
}

TEST_F(MemberCacheTest, ConcurrentMissesShareOneFetch) {
  MemberCache cache(10, rooms_, members_);
  std::atomic<int> fetches{0};
  chat::testing::Latch release;
  auto slow = [&]() -> chat::core::Result<Users> {
    ++fetches;
    release.Wait(10s);
    return Users{"alice"};
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      bool hit = false;
      auto r = cache.Get("room", hit, slow);
      if (r.ok() && (*r)->count("alice") == 1) ++ok;
    });
  }
  ASSERT_TRUE(chat::testing::WaitFor([&] { return fetches.load() == 1; }, 5s));
  // A join that arrives while the fetch is in flight is applied to its result.
  cache.ApplyJoin("room", "bob");
  release.Set();
  for (auto& t : threads) t.join();
  EXPECT_EQ(fetches.load(), 1);
  EXPECT_EQ(ok.load(), 4);
  bool hit = false;
  auto r = cache.Get("room", hit, slow);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(hit);
  EXPECT_EQ((*r)->count("bob"), 1u);
}

TEST_F(MemberCacheTest, DeltasTouchCachedRoomsAndLastLeaveEvicts) {
  MemberCache cache(10, rooms_, members_);
  bool hit = false;
  ASSERT_TRUE(cache.Get("r", hit, [] { return chat::core::Result<Users>(Users{"alice"}); }).ok());
  cache.ApplyJoin("r", "bob");
  cache.ApplyJoin("uncached", "bob");  // ignored
  EXPECT_EQ(members_.Value(), 2);
  EXPECT_EQ(rooms_.Value(), 1);
  MemberSnapshot before = *cache.Get("r", hit, [] { return chat::core::Result<Users>(Users{}); });
  cache.ApplyLeave("r", "alice");
  EXPECT_EQ(before->size(), 2u) << "snapshots held by readers never change";
  cache.ApplyLeave("r", "bob");
  EXPECT_EQ(rooms_.Value(), 0);
  EXPECT_EQ(members_.Value(), 0);
}

TEST_F(MemberCacheTest, FailedFetchIsNotCachedAndReconnectResets) {
  MemberCache cache(10, rooms_, members_, &reconnects_);
  bool hit = false;
  auto failed = cache.Get(
      "r", hit, [] { return chat::core::Result<Users>(chat::core::Unavailable("no responders")); });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(rooms_.Value(), 0);
  ASSERT_TRUE(cache.Get("r", hit, [] { return chat::core::Result<Users>(Users{"a"}); }).ok());
  EXPECT_EQ(rooms_.Value(), 1);
  reconnects_.Add();
  ASSERT_TRUE(cache.Get("r", hit, [] { return chat::core::Result<Users>(Users{"a", "b"}); }).ok());
  EXPECT_FALSE(hit) << "deltas may have been missed while disconnected";
  EXPECT_EQ(members_.Value(), 2);
}

}  // namespace

// RoomIndex semantics, ROOMS key parsing, and MembershipMirror hydration against a real
// nats-server with a ROOMS bucket (including deltas that arrive while hydrating).
#include "chat/membership/room_index.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "chat/contracts/subjects.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/nats_server.hpp"

namespace {

using namespace std::chrono_literals;
using chat::contracts::RoomChangeAction;
using chat::contracts::RoomChanged;
using chat::membership::MembershipMirror;
using chat::membership::RoomIndex;
using chat::membership::RoomsKey;
using chat::membership::SplitRoomsKey;
using Strings = std::vector<std::string>;

TEST(RoomsKeyTest, JoinsAndSplits) {
  EXPECT_EQ(RoomsKey("general", "alice"), "general.alice");
  auto p = SplitRoomsKey("dm-alice-bob.bob");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->first, "dm-alice-bob");
  EXPECT_EQ(p->second, "bob");
}

TEST(RoomsKeyTest, RejectsMalformedKeys) {
  EXPECT_FALSE(SplitRoomsKey("nodot").has_value());
  EXPECT_FALSE(SplitRoomsKey(".alice").has_value());
  EXPECT_FALSE(SplitRoomsKey("general.").has_value());
  EXPECT_FALSE(SplitRoomsKey("").has_value());
  EXPECT_FALSE(SplitRoomsKey("a.b.c").has_value());
}

TEST(RoomIndexTest, AddRemoveReportChanges) {
  RoomIndex idx;
  EXPECT_TRUE(idx.Add("general", "alice"));
  EXPECT_FALSE(idx.Add("general", "alice"));
  EXPECT_TRUE(idx.Add("general", "bob"));
  EXPECT_TRUE(idx.Add("random", "alice"));
  EXPECT_TRUE(idx.IsMember("general", "bob"));
  EXPECT_FALSE(idx.IsMember("random", "bob"));
  EXPECT_EQ(idx.Members("general"), (Strings{"alice", "bob"}));
  EXPECT_EQ(idx.RoomsOf("alice"), (Strings{"general", "random"}));
  EXPECT_EQ(idx.ActiveRooms(), 2u);
  EXPECT_EQ(idx.Memberships(), 3u);

  EXPECT_TRUE(idx.Remove("general", "alice"));
  EXPECT_FALSE(idx.Remove("general", "alice"));
  EXPECT_FALSE(idx.Remove("nowhere", "alice"));
  EXPECT_EQ(idx.RoomsOf("alice"), (Strings{"random"}));
  EXPECT_TRUE(idx.Remove("random", "alice"));
  EXPECT_TRUE(idx.RoomsOf("alice").empty());
  EXPECT_EQ(idx.ActiveRooms(), 1u);  // an emptied room is no longer active
  EXPECT_EQ(idx.Memberships(), 1u);
  EXPECT_TRUE(idx.Members("random").empty());
}

TEST(RoomIndexTest, MembersAreSorted) {
  RoomIndex idx;
  for (const char* u : {"zoe", "alice", "mike"}) idx.Add("r", u);
  EXPECT_EQ(idx.Members("r"), (Strings{"alice", "mike", "zoe"}));
}

TEST(RoomIndexTest, ApplyFollowsDeltaAction) {
  RoomIndex idx;
  EXPECT_TRUE(idx.Apply(RoomChanged{"r", RoomChangeAction::kJoin, "alice", {}}));
  EXPECT_FALSE(idx.Apply(RoomChanged{"r", RoomChangeAction::kJoin, "alice", {}}));
  EXPECT_TRUE(idx.IsMember("r", "alice"));
  EXPECT_TRUE(idx.Apply(RoomChanged{"r", RoomChangeAction::kLeave, "alice", {}}));
  EXPECT_FALSE(idx.IsMember("r", "alice"));
}

TEST(RoomIndexTest, ReplaceWithMovesContentsAndEmptiesSource) {
  RoomIndex idx;
  idx.Add("old", "alice");
  RoomIndex fresh;
  fresh.Add("new", "bob");
  idx.ReplaceWith(std::move(fresh));
  EXPECT_FALSE(idx.IsMember("old", "alice"));
  EXPECT_TRUE(idx.IsMember("new", "bob"));
  EXPECT_EQ(fresh.Memberships(), 0u);  // NOLINT(bugprone-use-after-move): documented empty
  idx.Clear();
  EXPECT_EQ(idx.ActiveRooms(), 0u);
}

TEST(RoomIndexTest, ConcurrentAddsAreAllKept) {
  RoomIndex idx;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&idx, t] {
      for (int i = 0; i < 200; ++i) {
        idx.Add("r" + std::to_string(i % 10), "u" + std::to_string(t * 1000 + i));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(idx.Memberships(), 800u);
  EXPECT_EQ(idx.ActiveRooms(), 10u);
}

// ---- hydration against a real server ----

class MirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = chat::testing::NatsServer::Create();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    chat::natsx::ConnectionOptions o;
    o.urls = {server_->url()};
    o.name = "membership-test";
    auto c = chat::natsx::Connection::Connect(o, tel_.telemetry());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conn_ = std::move(*c);
    auto js = chat::natsx::JetStream::Create(*conn_);
    ASSERT_TRUE(js.ok()) << js.status().ToString();
    js_ = std::move(*js);
    chat::natsx::KeyValueConfig cfg;
    cfg.bucket = std::string(chat::contracts::jetstream::kBucketRooms);
    auto kv = js_->CreateKeyValue(cfg);
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    kv_ = std::move(*kv);
  }

  void Put(const std::string& room, const std::string& user) {
    ASSERT_TRUE(kv_->Put(RoomsKey(room, user), "{}", {}).ok());
  }

  chat::telemetry::sdk::InMemoryTelemetry tel_;
  std::unique_ptr<chat::testing::NatsServer> server_;
  std::unique_ptr<chat::natsx::Connection> conn_;
  std::unique_ptr<chat::natsx::JetStream> js_;
  std::unique_ptr<chat::natsx::KeyValue> kv_;
};

TEST_F(MirrorTest, HydratesEmptyBucket) {
  MembershipMirror mirror(tel_.telemetry());
  mirror.index().Add("stale", "ghost");
  ASSERT_TRUE(mirror.Hydrate(*kv_, {}).ok());
  EXPECT_EQ(mirror.index().Memberships(), 0u);  // the stale view was replaced
}

TEST_F(MirrorTest, HydratesLiveKeysAndSkipsDeletedOnes) {
  Put("general", "alice");
  Put("general", "bob");
  Put("dm-alice-bob", "alice");
  Put("dm-alice-bob", "bob");
  Put("project", "carol");
  ASSERT_TRUE(kv_->Delete(RoomsKey("general", "bob"), {}).ok());
  ASSERT_TRUE(kv_->Put("malformed", "{}", {}).ok());

  MembershipMirror mirror(tel_.telemetry());
  mirror.index().Add("stale", "ghost");
  ASSERT_TRUE(mirror.Hydrate(*kv_, {}).ok());
  const RoomIndex& idx = mirror.index();
  EXPECT_EQ(idx.Members("general"), (Strings{"alice"}));
  EXPECT_EQ(idx.Members("dm-alice-bob"), (Strings{"alice", "bob"}));
  EXPECT_EQ(idx.Members("project"), (Strings{"carol"}));
  EXPECT_FALSE(idx.IsMember("stale", "ghost"));
  EXPECT_EQ(idx.Memberships(), 4u);
  EXPECT_EQ(idx.ActiveRooms(), 3u);
  // The watch is traced as a KV client span.
  EXPECT_TRUE(tel_.FindSpan("watch ROOMS").has_value());
}

TEST_F(MirrorTest, DeltasDuringHydrationAreReplayed) {
  // Many keys so the hydration takes a while; deltas race with it from another thread.
  for (int i = 0; i < 300; ++i) Put("big", "u" + std::to_string(i));
  MembershipMirror mirror(tel_.telemetry());
  std::atomic<bool> go{false};
  std::thread deltas([&] {
    while (!go.load()) std::this_thread::yield();
    for (int i = 0; i < 50; ++i) {
      // The writer side of room-service: KV first, then the delta.
      EXPECT_TRUE(kv_->Put(RoomsKey("late", "v" + std::to_string(i)), "{}", {}).ok());
      mirror.OnDelta(RoomChanged{"late", RoomChangeAction::kJoin, "v" + std::to_string(i), {}});
      EXPECT_TRUE(kv_->Delete(RoomsKey("big", "u" + std::to_string(i)), {}).ok());
      mirror.OnDelta(RoomChanged{"big", RoomChangeAction::kLeave, "u" + std::to_string(i), {}});
    }
  });
  go = true;
  ASSERT_TRUE(mirror.Hydrate(*kv_, {}).ok());
  deltas.join();
  // Whatever interleaving happened, the view equals the final KV state.
  const RoomIndex& idx = mirror.index();
  EXPECT_EQ(idx.Members("late").size(), 50u);
  EXPECT_EQ(idx.Members("big").size(), 250u);
  EXPECT_FALSE(idx.IsMember("big", "u0"));
  EXPECT_TRUE(idx.IsMember("big", "u299"));
  EXPECT_EQ(idx.Memberships(), 300u);
}

TEST_F(MirrorTest, SnapshotReplacesDeltasFromBeforeHydration) {
  MembershipMirror mirror(tel_.telemetry());
  Put("a", "x");
  mirror.OnDelta(RoomChanged{"b", RoomChangeAction::kJoin, "y", {}});  // not hydrating: applied
  EXPECT_TRUE(mirror.index().IsMember("b", "y"));
  ASSERT_TRUE(mirror.Hydrate(*kv_, {}).ok());
  // The snapshot wins for deltas that happened before hydration started (ROOMS is authoritative).
  EXPECT_FALSE(mirror.index().IsMember("b", "y"));
  EXPECT_TRUE(mirror.index().IsMember("a", "x"));
}

TEST_F(MirrorTest, UnreachableBucketKeepsOldView) {
  MembershipMirror mirror(tel_.telemetry());
  mirror.index().Add("kept", "alice");
  ASSERT_TRUE(server_->Stop().ok());
  auto st = mirror.Hydrate(*kv_, {});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), chat::core::ErrorCode::kUnavailable);
  EXPECT_TRUE(mirror.index().IsMember("kept", "alice"));
}

}  // namespace

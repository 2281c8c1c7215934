// The pieces of the delta merge without NATS or Postgres: BoardElements (last writer wins per
// element, the byte count, a refused delta leaving the board as it was) and KeyedBatcher (group
// commit per key), driven by threads whose order the tests pin down with WaitFor.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "chat/testing/wait_for.hpp"
#include "handlers/board_elements.hpp"
#include "handlers/keyed_batcher.hpp"

namespace chat::whiteboard_service {
namespace {

using namespace std::chrono_literals;
using contracts::WhiteboardElement;

WhiteboardElement El(const std::string& id, int64_t v, const std::string& extra = "") {
  return WhiteboardElement{id, v,
                           R"({"id":")" + id + R"(","version":)" + std::to_string(v) + extra + "}"};
}

constexpr int64_t kNoLimit = int64_t{1} << 40;

TEST(BoardElementsTest, LastWriterWinsPerElementByStrictlyGreaterVersion) {
  BoardElements board({El("a", 2), El("b", 5)});
  std::vector<WhiteboardElement> changed;
  // a: newer (kept), b: equal (ignored), c: new (appended), c again older (ignored).
  ASSERT_TRUE(
      board.Apply({El("a", 3), El("b", 5), El("c", 1), El("c", 0)}, kNoLimit, changed).ok());
  ASSERT_EQ(board.elements().size(), 3u);
  EXPECT_EQ(board.elements()[0].version, 3);
  EXPECT_EQ(board.elements()[1].version, 5);
  EXPECT_EQ(board.elements()[2].id, "c");
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].id, "a");
  EXPECT_EQ(changed[1].id, "c");
  changed.clear();
  ASSERT_TRUE(board.Apply({El("a", 1), El("b", 4)}, kNoLimit, changed).ok());
  EXPECT_TRUE(changed.empty());
}

TEST(BoardElementsTest, BytesAreTheStoredJsonsSize) {
  BoardElements empty({});
  EXPECT_EQ(empty.ToJson(), "[]");
  EXPECT_EQ(empty.bytes(), 2);
  BoardElements board({El("a", 1)});
  EXPECT_EQ(board.bytes(), static_cast<int64_t>(board.ToJson().size()));
  std::vector<WhiteboardElement> changed;
  // Appends, a replacement by a longer and then a shorter element, a duplicate id in one delta.
  ASSERT_TRUE(
      board.Apply({El("b", 1), El("a", 2, R"(,"x":123456)"), El("b", 2)}, kNoLimit, changed).ok());
  EXPECT_EQ(board.bytes(), static_cast<int64_t>(board.ToJson().size()));
  ASSERT_TRUE(board.Apply({El("a", 3)}, kNoLimit, changed).ok());
  EXPECT_EQ(board.bytes(), static_cast<int64_t>(board.ToJson().size()));
  EXPECT_EQ(board.ToJson(), contracts::WhiteboardElementsToJson(board.elements()));
}

TEST(BoardElementsTest, ADeltaOverTheLimitKeepsNothingAndTheNextOneStillFits) {
  BoardElements board({El("a", 1), El("b", 1)});
  const std::string before = board.ToJson();
  const int64_t limit = board.bytes() + 40;
  std::vector<WhiteboardElement> changed = {El("earlier", 1)};  // another delta's, kept
  // Replaces a, appends c, replaces c again: together far over the limit.
  auto status = board.Apply({El("a", 2, std::string(30, ' ')), El("c", 1), El("c", 2, ",\"x\":1")},
                            limit, changed);
  EXPECT_EQ(status.code(), core::ErrorCode::kResourceExhausted);
  EXPECT_NE(status.message().find(std::to_string(limit)), std::string::npos);
  EXPECT_EQ(board.ToJson(), before);
  EXPECT_EQ(board.bytes(), static_cast<int64_t>(before.size()));
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id, "earlier");
  // The index was rolled back too: c is new again, a is still at version 1.
  ASSERT_TRUE(board.Apply({El("c", 1), El("a", 2)}, limit, changed).ok());
  EXPECT_EQ(changed.size(), 3u);
  EXPECT_EQ(board.elements().size(), 3u);
  EXPECT_EQ(board.bytes(), static_cast<int64_t>(board.ToJson().size()));
  // Nothing changed: no refusal even when the board is over a (lowered) limit.
  changed.clear();
  EXPECT_TRUE(board.Apply({El("a", 1)}, 2, changed).ok());
}

struct Item {
  int id = 0;
  size_t ran_in_batch_of = 0;
};

// Four callers on one key: the first leads a batch of one and is held inside it until the other
// three are queued; those three then run as one batch led by the first of them.
TEST(KeyedBatcherTest, CallersArrivingDuringABatchFormTheNextOne) {
  KeyedBatcher<Item> batcher(32);
  std::atomic<bool> release{false};
  std::atomic<int> batches{0};
  auto run = [&](const std::vector<Item*>& items) {
    if (batches.fetch_add(1) == 0) {
      EXPECT_TRUE(testing::WaitFor([&] { return release.load(); }, 10s));
    }
    for (Item* i : items) i->ran_in_batch_of = items.size();
  };
  std::vector<Item> items(4);
  std::vector<KeyedBatcher<Item>::Served> served(4);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { served[0] = batcher.Submit("board", items[0], run); });
  ASSERT_TRUE(testing::WaitFor([&] { return batches.load() == 1; }, 10s));
  for (size_t i = 1; i < 4; ++i) {
    threads.emplace_back([&, i] { served[i] = batcher.Submit("board", items[i], run); });
  }
  ASSERT_TRUE(testing::WaitFor([&] { return batcher.Waiting("board") == 3; }, 10s));
  // Another key is not held up by the running batch.
  Item other;
  EXPECT_TRUE(batcher
                  .Submit("other", other,
                          [](const std::vector<Item*>& b) {
                            for (Item* i : b) i->ran_in_batch_of = b.size();
                          })
                  .led);
  EXPECT_EQ(other.ran_in_batch_of, 1u);
  release = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(batches.load(), 2);
  EXPECT_TRUE(served[0].led);
  EXPECT_EQ(served[0].batch_size, 1u);
  EXPECT_EQ(items[0].ran_in_batch_of, 1u);
  int leaders = 0;
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(served[i].batch_size, 3u);
    EXPECT_EQ(items[i].ran_in_batch_of, 3u);
    leaders += served[i].led ? 1 : 0;
  }
  EXPECT_EQ(leaders, 1);
  EXPECT_EQ(batcher.Waiting("board"), 0u);
}

TEST(KeyedBatcherTest, BatchesHoldAtMostTheCap) {
  KeyedBatcher<Item> batcher(2);
  std::atomic<bool> release{false};
  std::atomic<int> batches{0};
  std::atomic<size_t> largest{0};
  auto run = [&](const std::vector<Item*>& items) {
    if (batches.fetch_add(1) == 0) {
      EXPECT_TRUE(testing::WaitFor([&] { return release.load(); }, 10s));
    }
    size_t seen = largest.load();
    while (items.size() > seen && !largest.compare_exchange_weak(seen, items.size())) {
    }
  };
  std::vector<Item> items(6);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { batcher.Submit("board", items[0], run); });
  ASSERT_TRUE(testing::WaitFor([&] { return batches.load() == 1; }, 10s));
  for (size_t i = 1; i < 6; ++i) {
    threads.emplace_back([&, i] { batcher.Submit("board", items[i], run); });
  }
  ASSERT_TRUE(testing::WaitFor([&] { return batcher.Waiting("board") == 5; }, 10s));
  release = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(largest.load(), 2u);
  EXPECT_EQ(batches.load(), 4);  // 1, then 2 + 2 + 1
}

}  // namespace
}  // namespace chat::whiteboard_service

// Group commit per key. Deltas to one board are serialised by the board's row lock, so each
// transaction (BEGIN, SELECT … FOR UPDATE, UPDATE, COMMIT and its WAL flush) is a queue slot every
// other delta to that board waits behind. Under load the queue, not the work, set the latency:
// `load --scenario apps` had deltas' p99 at 44 ms in the service. Instead, callers with the same
// key join a queue; the first runs the whole queue as one batch (one transaction) while the others
// wait, and whoever arrives meanwhile forms the next batch, led by its first caller. Keys do not
// wait for each other, and every caller's work runs in a batch its own thread either ran or
// waited for, so nothing outlives the request that asked for it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace chat::whiteboard_service {

template <typename Item>
class KeyedBatcher {
 public:
  struct Served {
    size_t batch_size = 0;  // items in the batch this caller's item ran in (≥ 1)
    bool led = false;       // this caller's thread ran that batch
  };

  // At most `max_batch` items (≥ 1) per batch; the rest wait for the next.
  explicit KeyedBatcher(size_t max_batch) : max_batch_(max_batch == 0 ? 1 : max_batch) {}

  // Queues `item` under `key` and returns once a batch holding it has run: `run_batch(items)`
  // (items: std::vector<Item*>&, this caller's item among them), called on this thread when it
  // leads and without the batcher's lock. run_batch records each item's outcome in the item.
  template <typename RunBatch>
  Served Submit(const std::string& key, Item& item, RunBatch&& run_batch) {
    Waiter me{&item};
    std::unique_lock lock(mu_);
    Queue& queue = queues_[key];  // node-based: stays valid while this caller is queued
    queue.waiting.push_back(&me);
    if (queue.running) {
      cv_.wait(lock, [&] { return me.done || me.lead; });
      if (me.done) return Served{me.batch_size, false};
    }
    queue.running = true;  // this caller leads: it is at the front of the queue
    std::vector<Waiter*> batch;
    std::vector<Item*> items;
    while (!queue.waiting.empty() && batch.size() < max_batch_) {
      batch.push_back(queue.waiting.front());
      items.push_back(queue.waiting.front()->item);
      queue.waiting.pop_front();
    }
    lock.unlock();
    run_batch(items);
    lock.lock();
    for (Waiter* w : batch) {
      w->done = true;
      w->batch_size = batch.size();
    }
    if (queue.waiting.empty()) {
      queues_.erase(key);
    } else {
      queue.waiting.front()->lead = true;  // the next batch's leader
    }
    cv_.notify_all();
    return Served{batch.size(), true};
  }

  // Callers queued under `key` and not yet in a running batch (tests).
  size_t Waiting(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = queues_.find(key);
    return it == queues_.end() ? 0 : it->second.waiting.size();
  }

 private:
  struct Waiter {
    Item* item;
    bool done = false;
    bool lead = false;
    size_t batch_size = 0;
  };
  struct Queue {
    std::deque<Waiter*> waiting;
    bool running = false;
  };

  const size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Queue> queues_;
};

}  // namespace chat::whiteboard_service

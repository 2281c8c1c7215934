// DeliveryPool: the bounded worker pool that publishes per-member copies (private/DM notify,
// admin and app paths; system.md §6.2). One job = one message × all its recipients; a full queue
// refuses the job (the caller counts the drop) instead of blocking a NATS delivery thread. Every
// copy is a PRODUCER span whose parent is the job's `parent` (the deliver_members span).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chat/core/subject.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "metrics.hpp"

namespace chat::fanout {

struct DeliveryJob {
  // deliver.{user}.… template whose first placeholder is the member; `tail` fills the rest.
  const core::SubjectTemplate* tmpl = nullptr;
  std::vector<std::string> members;
  std::vector<std::string> tail;  // 1 (notify/admin: room) or 3 (app: app, room, event) values
  std::string payload;
  telemetry::SpanContext parent;
  std::string_view kind;  // fanout_deliveries_total{kind}
};

class DeliveryPool {
 public:
  DeliveryPool(runtime::Bus& bus, FanoutMetrics& metrics, size_t workers, size_t queue_capacity);
  ~DeliveryPool();  // Stop()
  DeliveryPool(const DeliveryPool&) = delete;
  DeliveryPool& operator=(const DeliveryPool&) = delete;

  // False when the queue is full or the pool is stopping (the job is dropped).
  bool TryEnqueue(DeliveryJob job);
  // Closes the queue, lets the workers finish what is queued (within `timeout`, then the rest
  // is discarded and counted as queue_full drops) and joins them. Idempotent.
  void Stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

 private:
  void Run();
  void Deliver(const DeliveryJob& job);

  runtime::Bus& bus_;
  FanoutMetrics& metrics_;
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<DeliveryJob> queue_;
  size_t busy_ = 0;
  bool stopping_ = false;
  bool discard_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace chat::fanout

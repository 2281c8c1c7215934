// Baseline for bench/span_bench.cpp (docs/style.md rule 17): the simplest correct tracer one
// would write first. Every span is a fresh heap object with a std::map of std::string-keyed
// attributes, ids come from one mutex-guarded mt19937_64, and finished spans go through a
// std::function into a mutex + std::deque queue drained by a worker thread that frees them.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace chat::bench::baseline {

struct NaiveSpanRecord {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  std::string name;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  bool sampled = false;
  std::map<std::string, std::variant<bool, int64_t, double, std::string>> attributes;
};

class NaiveQueue {
 public:
  explicit NaiveQueue(size_t capacity) : capacity_(capacity), worker_([this] { Run(); }) {}
  ~NaiveQueue() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    worker_.join();
  }
  NaiveQueue(const NaiveQueue&) = delete;
  NaiveQueue& operator=(const NaiveQueue&) = delete;
  void Push(std::unique_ptr<NaiveSpanRecord> r) {
    std::lock_guard lock(mu_);
    if (queue_.size() >= capacity_) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(r));
    if (queue_.size() >= 512) cv_.notify_one();
  }
  uint64_t dropped() {
    std::lock_guard lock(mu_);
    return dropped_;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      std::deque<std::unique_ptr<NaiveSpanRecord>> batch;
      batch.swap(queue_);
      lock.unlock();
      batch.clear();  // "export" = free
      lock.lock();
    }
  }
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<NaiveSpanRecord>> queue_;
  uint64_t dropped_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

class NaiveTracer;

class NaiveSpan {
 public:
  NaiveSpan(const NaiveTracer* tracer, std::unique_ptr<NaiveSpanRecord> r)
      : tracer_(tracer), record_(std::move(r)) {}
  NaiveSpan(const NaiveSpan&) = delete;
  NaiveSpan& operator=(const NaiveSpan&) = delete;
  ~NaiveSpan();
  void SetAttribute(const std::string& key, std::variant<bool, int64_t, double, std::string> v) {
    if (record_->sampled) record_->attributes[key] = std::move(v);
  }

 private:
  const NaiveTracer* tracer_;
  std::unique_ptr<NaiveSpanRecord> record_;
};

class NaiveTracer {
 public:
  NaiveTracer(bool sample, std::function<void(std::unique_ptr<NaiveSpanRecord>)> sink)
      : sample_(sample), sink_(std::move(sink)) {}

  std::unique_ptr<NaiveSpan> StartSpan(const std::string& name) const {
    auto r = std::make_unique<NaiveSpanRecord>();
    {
      std::lock_guard lock(mu_);
      for (auto& b : r->trace_id) b = static_cast<uint8_t>(rng_());
      for (auto& b : r->span_id) b = static_cast<uint8_t>(rng_());
    }
    r->sampled = sample_;
    if (sample_) {
      r->name = name;
      r->start_ns = Now();
    }
    return std::make_unique<NaiveSpan>(this, std::move(r));
  }

  void End(std::unique_ptr<NaiveSpanRecord> r) const {
    if (!r->sampled) return;
    r->end_ns = Now();
    sink_(std::move(r));
  }

 private:
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  bool sample_;
  std::function<void(std::unique_ptr<NaiveSpanRecord>)> sink_;
  mutable std::mutex mu_;
  mutable std::mt19937_64 rng_{42};
};

inline NaiveSpan::~NaiveSpan() { tracer_->End(std::move(record_)); }

}  // namespace chat::bench::baseline

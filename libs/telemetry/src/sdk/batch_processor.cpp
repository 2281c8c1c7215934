#include "chat/telemetry/sdk/batch_processor.hpp"

#include <algorithm>
#include <condition_variable>
#include <thread>
#include <utility>
#include <vector>

namespace chat::telemetry::sdk {
namespace {

void ResetRecord(SpanData& r) { r.Reset(); }
[[maybe_unused]] void ResetRecord(LogRecordData& r) {
  r.time_unix_nano = 0;
  r.level = LogLevel::kInfo;
  r.body.clear();
  r.trace_id = {};
  r.span_id = {};
  r.trace_flags = 0;
  r.attributes.clear();
}

}  // namespace

namespace internal {

// One queue + worker shared by the span and log processors.
template <typename Record, typename Exporter>
class BatchCore final : public ProcessorStats {
 public:
  BatchCore(std::unique_ptr<Exporter> exporter, BatchOptions options)
      : exporter_(std::move(exporter)), options_(options) {
    options_.max_queue_size = std::max<size_t>(options_.max_queue_size, 1);
    options_.max_export_batch_size =
        std::clamp<size_t>(options_.max_export_batch_size, 1, options_.max_queue_size);
    // Wake the worker for a full batch or a half-full queue, whichever comes first.
    notify_threshold_ =
        std::max<size_t>(1, std::min(options_.max_export_batch_size, options_.max_queue_size / 2));
    ring_.resize(options_.max_queue_size);
    free_.reserve(options_.max_queue_size);
    worker_ = std::thread([this] { Run(); });
  }

  ~BatchCore() {
    Shutdown(options_.export_timeout);
    {
      std::lock_guard lock(mu_);
      abandon_ = true;  // whatever is still queued is dropped, not exported
    }
    cv_.notify_one();
    if (worker_.joinable()) worker_.join();
  }

  BatchCore(const BatchCore&) = delete;
  BatchCore& operator=(const BatchCore&) = delete;

  void Push(std::unique_ptr<Record> record) {
    std::unique_lock lock(mu_);
    if (shutdown_ || count_ == ring_.size()) {
      const bool full = !shutdown_;
      lock.unlock();
      if (full) CountQueueFull();
      Recycle(std::move(record));
      return;
    }
    size_t idx = head_ + count_;
    if (idx >= ring_.size()) idx -= ring_.size();
    ring_[idx] = std::move(record);
    ++count_;
    size_.store(count_, std::memory_order_relaxed);
    const bool wake = count_ >= notify_threshold_ && !worker_notified_;
    if (wake) worker_notified_ = true;
    lock.unlock();
    if (wake) cv_.notify_one();
  }

  // Records are cleared here, on the producing thread, not on the worker: the strings inside
  // were allocated by a producer, and freeing them on the worker would make glibc take the
  // producer's arena lock for every string (cross-thread free), contending with its mallocs.
  std::unique_ptr<Record> Acquire() {
    std::unique_ptr<Record> r;
    {
      std::lock_guard lock(free_mu_);
      if (free_.empty()) return nullptr;
      r = std::move(free_.back());
      free_.pop_back();
    }
    ResetRecord(*r);
    return r;
  }

  bool ForceFlush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (shutdown_) return done_cv_.wait_for(lock, timeout, [&] { return stopped_; });
    const uint64_t target = ++flush_requested_;
    cv_.notify_one();
    return done_cv_.wait_for(lock, timeout, [&] { return flush_done_ >= target || stopped_; });
  }

  bool Shutdown(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!shutdown_) {
      shutdown_ = true;
      cv_.notify_one();
    }
    bool ok = done_cv_.wait_for(lock, timeout, [&] { return stopped_; });
    // Past the deadline: the worker drops the rest after its current export returns.
    if (!ok) abandon_ = true;
    return ok;
  }

  size_t queue_size() const { return size_.load(std::memory_order_relaxed); }
  size_t queue_capacity() const { return ring_.size(); }

 private:
  void Recycle(std::unique_ptr<Record> record) {
    if (record == nullptr) return;
    std::lock_guard lock(free_mu_);
    if (free_.size() < ring_.size()) free_.push_back(std::move(record));
  }

  // One lock for a whole exported batch; leaves `batch` empty.
  void RecycleBatch(std::vector<std::unique_ptr<Record>>& batch) {
    {
      std::lock_guard lock(free_mu_);
      for (auto& r : batch) {
        if (free_.size() >= ring_.size()) break;
        free_.push_back(std::move(r));
      }
    }
    batch.clear();  // frees whatever did not fit
  }

  // Takes up to one batch off the ring. Caller holds mu_.
  void TakeBatch(std::vector<std::unique_ptr<Record>>& batch, size_t max) {
    size_t n = std::min(count_, max);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(ring_[head_]));
      if (++head_ == ring_.size()) head_ = 0;
    }
    count_ -= n;
    size_.store(count_, std::memory_order_relaxed);
  }

  void Run() {
    std::vector<std::unique_ptr<Record>> batch;
    batch.reserve(options_.max_export_batch_size);
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait_for(lock, options_.schedule_delay, [&] {
        return shutdown_ || abandon_ || flush_requested_ != flush_done_ ||
               count_ >= notify_threshold_;
      });
      worker_notified_ = false;
      const bool draining = shutdown_ || flush_requested_ != flush_done_;
      const uint64_t flush_target = flush_requested_;
      do {
        if (abandon_) {
          TakeBatch(batch, count_);
          lock.unlock();
          batch.clear();
          lock.lock();
          break;
        }
        TakeBatch(batch, options_.max_export_batch_size);
        if (batch.empty()) break;
        lock.unlock();
        CountProcessed(batch.size());
        ExportResult result = exporter_->Export(batch, options_.export_timeout);
        CountExported(result, batch.size());
        RecycleBatch(batch);
        lock.lock();
      } while (count_ > 0 && (draining || count_ >= notify_threshold_));
      if (draining) {
        flush_done_ = flush_target;
        done_cv_.notify_all();
      }
      if (shutdown_ || abandon_) break;
    }
    lock.unlock();
    exporter_->Shutdown();
    lock.lock();
    stopped_ = true;
    flush_done_ = flush_requested_;
    done_cv_.notify_all();
  }

  std::unique_ptr<Exporter> exporter_;
  BatchOptions options_;
  size_t notify_threshold_ = 1;

  std::mutex mu_;
  std::condition_variable cv_;       // wakes the worker
  std::condition_variable done_cv_;  // wakes ForceFlush/Shutdown callers
  std::vector<std::unique_ptr<Record>> ring_;
  size_t head_ = 0;
  size_t count_ = 0;
  bool worker_notified_ = false;
  uint64_t flush_requested_ = 0;
  uint64_t flush_done_ = 0;
  bool shutdown_ = false;
  bool abandon_ = false;
  bool stopped_ = false;
  std::atomic<size_t> size_{0};

  std::mutex free_mu_;
  std::vector<std::unique_ptr<Record>> free_;

  std::thread worker_;  // last: starts after every member above exists
};

}  // namespace internal

// ---- BatchSpanProcessor ----

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, BatchOptions options)
    : core_(std::make_unique<internal::BatchCore<SpanData, SpanExporter>>(std::move(exporter),
                                                                          options)) {}
BatchSpanProcessor::~BatchSpanProcessor() = default;
void BatchSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) { core_->Push(std::move(span)); }
bool BatchSpanProcessor::ForceFlush(std::chrono::milliseconds timeout) {
  return core_->ForceFlush(timeout);
}
bool BatchSpanProcessor::Shutdown(std::chrono::milliseconds timeout) {
  return core_->Shutdown(timeout);
}
std::unique_ptr<SpanData> BatchSpanProcessor::AcquireRecord() { return core_->Acquire(); }
const ProcessorStats& BatchSpanProcessor::stats() const { return *core_; }
size_t BatchSpanProcessor::queue_size() const { return core_->queue_size(); }
size_t BatchSpanProcessor::queue_capacity() const { return core_->queue_capacity(); }

// ---- BatchLogProcessor ----

BatchLogProcessor::BatchLogProcessor(std::unique_ptr<LogExporter> exporter, BatchOptions options)
    : core_(std::make_unique<internal::BatchCore<LogRecordData, LogExporter>>(std::move(exporter),
                                                                              options)) {}
BatchLogProcessor::~BatchLogProcessor() = default;
void BatchLogProcessor::OnEmit(std::unique_ptr<LogRecordData> record) {
  core_->Push(std::move(record));
}
bool BatchLogProcessor::ForceFlush(std::chrono::milliseconds timeout) {
  return core_->ForceFlush(timeout);
}
bool BatchLogProcessor::Shutdown(std::chrono::milliseconds timeout) {
  return core_->Shutdown(timeout);
}
const ProcessorStats& BatchLogProcessor::stats() const { return *core_; }
size_t BatchLogProcessor::queue_size() const { return core_->queue_size(); }
size_t BatchLogProcessor::queue_capacity() const { return core_->queue_capacity(); }

// ---- Simple processors ----

SimpleSpanProcessor::SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter,
                                         std::chrono::milliseconds timeout)
    : exporter_(std::move(exporter)), timeout_(timeout) {}

void SimpleSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) {
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.push_back(std::move(span));
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  CountProcessed(1);
  ExportResult r = exporter_->Export(batch, timeout_);
  CountExported(r, 1);
}

bool SimpleSpanProcessor::Shutdown(std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  if (!shut_down_) {
    shut_down_ = true;
    exporter_->Shutdown();
  }
  return true;
}

SimpleLogProcessor::SimpleLogProcessor(std::unique_ptr<LogExporter> exporter,
                                       std::chrono::milliseconds timeout)
    : exporter_(std::move(exporter)), timeout_(timeout) {}

void SimpleLogProcessor::OnEmit(std::unique_ptr<LogRecordData> record) {
  std::vector<std::unique_ptr<LogRecordData>> batch;
  batch.push_back(std::move(record));
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  CountProcessed(1);
  ExportResult r = exporter_->Export(batch, timeout_);
  CountExported(r, 1);
}

bool SimpleLogProcessor::Shutdown(std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  if (!shut_down_) {
    shut_down_ = true;
    exporter_->Shutdown();
  }
  return true;
}

}  // namespace chat::telemetry::sdk

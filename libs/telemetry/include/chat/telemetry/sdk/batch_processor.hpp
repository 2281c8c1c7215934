// Span and log processors. The batch processors keep a bounded queue that a worker thread
// drains into the exporter (a batch every schedule_delay, or as soon as a full batch or half the
// queue is waiting); a full queue drops the new record and counts it, so OnEnd/OnEmit never
// block. Exported span records are cleared and recycled through AcquireRecord().
// The simple processors export synchronously on the caller's thread (tests only).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "chat/telemetry/log.hpp"
#include "chat/telemetry/sdk/exporter.hpp"
#include "chat/telemetry/trace.hpp"

namespace chat::telemetry::sdk {

struct BatchOptions {
  size_t max_queue_size = 2048;
  size_t max_export_batch_size = 512;  // clamped to max_queue_size
  std::chrono::milliseconds schedule_delay{2000};
  std::chrono::milliseconds export_timeout{10000};
};

// Counters behind otel_sdk_processor_*_processed_total and otel_sdk_exporter_*_exported_total.
// Thread-safe snapshot accessors; values only grow.
class ProcessorStats {
 public:
  uint64_t processed() const { return processed_.load(std::memory_order_relaxed); }
  uint64_t dropped_queue_full() const { return queue_full_.load(std::memory_order_relaxed); }
  // Records in batches whose export ended with `r`.
  uint64_t exported(ExportResult r) const {
    return exported_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }

 protected:
  void CountQueueFull() { queue_full_.fetch_add(1, std::memory_order_relaxed); }
  // Counted when records are handed to the exporter, and again with the export's result.
  void CountProcessed(uint64_t n) { processed_.fetch_add(n, std::memory_order_relaxed); }
  void CountExported(ExportResult r, uint64_t n) {
    exported_[static_cast<size_t>(r)].fetch_add(n, std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> processed_{0};
  std::atomic<uint64_t> queue_full_{0};
  std::atomic<uint64_t> exported_[5] = {};
};

namespace internal {
template <typename Record, typename Exporter>
class BatchCore;
}

class BatchSpanProcessor final : public SpanProcessor {
 public:
  BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, BatchOptions options);
  ~BatchSpanProcessor() override;  // Shutdown(export_timeout) if not done, then joins
  BatchSpanProcessor(const BatchSpanProcessor&) = delete;
  BatchSpanProcessor& operator=(const BatchSpanProcessor&) = delete;

  void OnEnd(std::unique_ptr<SpanData> span) override;
  bool ForceFlush(std::chrono::milliseconds timeout) override;
  bool Shutdown(std::chrono::milliseconds timeout) override;
  std::unique_ptr<SpanData> AcquireRecord() override;

  const ProcessorStats& stats() const;
  size_t queue_size() const;
  size_t queue_capacity() const;

 private:
  std::unique_ptr<internal::BatchCore<SpanData, SpanExporter>> core_;
};

class BatchLogProcessor final : public LogProcessor {
 public:
  BatchLogProcessor(std::unique_ptr<LogExporter> exporter, BatchOptions options);
  ~BatchLogProcessor() override;
  BatchLogProcessor(const BatchLogProcessor&) = delete;
  BatchLogProcessor& operator=(const BatchLogProcessor&) = delete;

  void OnEmit(std::unique_ptr<LogRecordData> record) override;
  bool ForceFlush(std::chrono::milliseconds timeout) override;
  bool Shutdown(std::chrono::milliseconds timeout) override;

  const ProcessorStats& stats() const;
  size_t queue_size() const;
  size_t queue_capacity() const;

 private:
  std::unique_ptr<internal::BatchCore<LogRecordData, LogExporter>> core_;
};

// Exports each span on the caller's thread, one at a time. For tests.
class SimpleSpanProcessor final : public SpanProcessor, public ProcessorStats {
 public:
  explicit SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void OnEnd(std::unique_ptr<SpanData> span) override;
  bool ForceFlush(std::chrono::milliseconds) override { return true; }
  bool Shutdown(std::chrono::milliseconds timeout) override;

 private:
  std::mutex mu_;
  std::unique_ptr<SpanExporter> exporter_;
  std::chrono::milliseconds timeout_;
  bool shut_down_ = false;
};

class SimpleLogProcessor final : public LogProcessor, public ProcessorStats {
 public:
  explicit SimpleLogProcessor(std::unique_ptr<LogExporter> exporter,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void OnEmit(std::unique_ptr<LogRecordData> record) override;
  bool ForceFlush(std::chrono::milliseconds) override { return true; }
  bool Shutdown(std::chrono::milliseconds timeout) override;

 private:
  std::mutex mu_;
  std::unique_ptr<LogExporter> exporter_;
  std::chrono::milliseconds timeout_;
  bool shut_down_ = false;
};

}  // namespace chat::telemetry::sdk

#include "chat/telemetry/sdk/batch_processor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "chat/core/clock.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/sdk/sampler.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace std::chrono_literals;

// Shared state of an exporter that blocks inside Export until released and returns a
// configurable result; outlives the exporter (which the processor owns and destroys).
class Gate {
 public:
  ExportResult Export(const std::vector<std::unique_ptr<SpanData>>& batch) {
    std::unique_lock lock(mu_);
    ++calls_;
    in_export_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    in_export_ = false;
    exported_ += batch.size();
    max_batch_ = std::max(max_batch_, batch.size());
    return result_;
  }
  void Shutdown() {
    std::lock_guard lock(mu_);
    shutdown_called_ = true;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool WaitInExport(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return in_export_; });
  }
  void SetResult(ExportResult r) {
    std::lock_guard lock(mu_);
    result_ = r;
  }
  size_t exported() {
    std::lock_guard lock(mu_);
    return exported_;
  }
  size_t max_batch() {
    std::lock_guard lock(mu_);
    return max_batch_;
  }
  bool shutdown_called() {
    std::lock_guard lock(mu_);
    return shutdown_called_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool in_export_ = false;
  bool shutdown_called_ = false;
  int calls_ = 0;
  size_t exported_ = 0;
  size_t max_batch_ = 0;
  ExportResult result_ = ExportResult::kSuccess;
};

class GateExporter final : public SpanExporter {
 public:
  explicit GateExporter(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  ExportResult Export(const std::vector<std::unique_ptr<SpanData>>& batch,
                      std::chrono::milliseconds) override {
    return gate_->Export(batch);
  }
  void Shutdown() override { gate_->Shutdown(); }

 private:
  std::shared_ptr<Gate> gate_;
};

std::unique_ptr<SpanData> MakeSpan(int i) {
  auto s = std::make_unique<SpanData>();
  s->trace_id = NewTraceId();
  s->span_id = NewSpanId();
  s->name = "span " + std::to_string(i);
  return s;
}

BatchOptions Options(size_t queue, size_t batch, std::chrono::milliseconds delay = 10s) {
  BatchOptions o;
  o.max_queue_size = queue;
  o.max_export_batch_size = batch;
  o.schedule_delay = delay;
  o.export_timeout = 1s;
  return o;
}

TEST(BatchSpanProcessorTest, FullQueueDropsAndCountsWithoutBlocking) {
  auto gate = std::make_shared<Gate>();
  auto exporter = std::make_unique<GateExporter>(gate);
  BatchSpanProcessor p(std::move(exporter), Options(4, 2));
  EXPECT_EQ(p.queue_capacity(), 4u);
  // Two spans reach the threshold (a full batch): the worker takes them and blocks in Export.
  p.OnEnd(MakeSpan(0));
  p.OnEnd(MakeSpan(1));
  ASSERT_TRUE(gate->WaitInExport(5s));
  // The worker is stuck; the queue (4) fills and further spans are dropped, and OnEnd returns
  // every time (if it blocked, this test would hang here instead of failing an assertion).
  for (int i = 2; i < 12; ++i) p.OnEnd(MakeSpan(i));
  EXPECT_EQ(p.queue_size(), 4u);
  EXPECT_EQ(p.stats().dropped_queue_full(), 6u);
  EXPECT_EQ(p.stats().processed(), 2u);
  gate->Open();
  EXPECT_TRUE(p.ForceFlush(5s));
  EXPECT_EQ(gate->exported(), 6u);
  EXPECT_EQ(p.stats().processed(), 6u);
  EXPECT_EQ(p.stats().exported(ExportResult::kSuccess), 6u);
  EXPECT_EQ(p.queue_size(), 0u);
  EXPECT_LE(gate->max_batch(), 2u);
}

TEST(BatchSpanProcessorTest, ExportFailuresAreCountedByErrorType) {
  auto gate = std::make_shared<Gate>();
  auto exporter = std::make_unique<GateExporter>(gate);
  gate->Open();
  gate->SetResult(ExportResult::kHttp5xx);
  BatchSpanProcessor p(std::move(exporter), Options(16, 4));
  for (int i = 0; i < 3; ++i) p.OnEnd(MakeSpan(i));
  ASSERT_TRUE(p.ForceFlush(5s));
  EXPECT_EQ(p.stats().exported(ExportResult::kHttp5xx), 3u);
  EXPECT_EQ(p.stats().exported(ExportResult::kSuccess), 0u);
  gate->SetResult(ExportResult::kTimeout);
  p.OnEnd(MakeSpan(3));
  ASSERT_TRUE(p.ForceFlush(5s));
  EXPECT_EQ(p.stats().exported(ExportResult::kTimeout), 1u);
  EXPECT_EQ(p.stats().processed(), 4u);
}

TEST(BatchSpanProcessorTest, ScheduleDelayExportsAPartialBatch) {
  auto store = std::make_shared<InMemorySpanStore>();
  BatchSpanProcessor p(std::make_unique<InMemorySpanExporter>(store), Options(100, 50, 20ms));
  p.OnEnd(MakeSpan(0));
  // Far below the batch threshold: only the timer can export it.
  EXPECT_TRUE(testing::WaitFor([&] { return store->Count() == 1; }, 5s));
}

TEST(BatchSpanProcessorTest, ForceFlushTimesOutWhileExporterIsStuck) {
  auto gate = std::make_shared<Gate>();
  auto exporter = std::make_unique<GateExporter>(gate);
  BatchSpanProcessor p(std::move(exporter), Options(8, 1));
  p.OnEnd(MakeSpan(0));
  ASSERT_TRUE(gate->WaitInExport(5s));
  EXPECT_FALSE(p.ForceFlush(20ms));
  gate->Open();
  EXPECT_TRUE(p.ForceFlush(5s));
}

TEST(BatchSpanProcessorTest, ShutdownDrainsCallsExporterShutdownAndRejectsLateSpans) {
  auto gate = std::make_shared<Gate>();
  auto exporter = std::make_unique<GateExporter>(gate);
  gate->Open();
  BatchSpanProcessor p(std::move(exporter), Options(64, 8));
  for (int i = 0; i < 20; ++i) p.OnEnd(MakeSpan(i));
  EXPECT_TRUE(p.Shutdown(5s));
  EXPECT_EQ(gate->exported(), 20u);
  EXPECT_TRUE(gate->shutdown_called());
  p.OnEnd(MakeSpan(99));  // after shutdown: dropped silently, never exported
  EXPECT_EQ(p.queue_size(), 0u);
  EXPECT_EQ(gate->exported(), 20u);
  EXPECT_TRUE(p.Shutdown(1s));  // idempotent
}

TEST(BatchSpanProcessorTest, ShutdownPastDeadlineReturnsFalse) {
  auto gate = std::make_shared<Gate>();
  auto exporter = std::make_unique<GateExporter>(gate);
  auto p = std::make_unique<BatchSpanProcessor>(std::move(exporter), Options(8, 1));
  p->OnEnd(MakeSpan(0));
  ASSERT_TRUE(gate->WaitInExport(5s));
  p->OnEnd(MakeSpan(1));
  EXPECT_FALSE(p->Shutdown(20ms));
  gate->Open();  // lets the worker finish; the rest is abandoned, the destructor joins
  p.reset();
  EXPECT_LE(gate->exported(), 2u);
}

TEST(BatchSpanProcessorTest, RecordsAreRecycledThroughTheProvider) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto proc = std::make_unique<BatchSpanProcessor>(std::make_unique<InMemorySpanExporter>(store),
                                                   Options(64, 8));
  BatchSpanProcessor* raw = proc.get();
  TracerProvider provider(Resource{}, MakeAlwaysOnSampler(), std::move(proc), SpanLimits{},
                          core::SystemClock::Instance());
  EXPECT_EQ(raw->AcquireRecord(), nullptr);  // nothing exported yet
  {
    Span s = provider.GetTracer().StartSpan("first");
    s.SetAttribute("chat.a", "value");
  }
  ASSERT_TRUE(provider.ForceFlush(5s));
  ASSERT_EQ(store->Count(), 1u);
  EXPECT_EQ(store->Spans()[0].name, "first");
  // The exported record came back cleared.
  std::unique_ptr<SpanData> recycled = raw->AcquireRecord();
  ASSERT_NE(recycled, nullptr);
  EXPECT_TRUE(recycled->name.empty());
  EXPECT_TRUE(recycled->attributes.empty());
  EXPECT_FALSE(recycled->trace_id.IsValid());
}

TEST(BatchSpanProcessorTest, ConcurrentProducersLoseNothingBelowCapacity) {
  auto store = std::make_shared<InMemorySpanStore>();
  BatchSpanProcessor p(std::make_unique<InMemorySpanExporter>(store), Options(100000, 512, 5ms));
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&p] {
      for (int i = 0; i < 2000; ++i) p.OnEnd(MakeSpan(i));
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(p.ForceFlush(10s));
  EXPECT_EQ(store->Count(), 8000u);
  EXPECT_EQ(p.stats().dropped_queue_full(), 0u);
}

class CountingLogExporter final : public LogExporter {
 public:
  ExportResult Export(const std::vector<std::unique_ptr<LogRecordData>>& batch,
                      std::chrono::milliseconds) override {
    count += batch.size();
    return ExportResult::kConnectionError;
  }
  std::atomic<size_t> count{0};
};

TEST(BatchLogProcessorTest, ExportsAndCounts) {
  auto exporter = std::make_unique<CountingLogExporter>();
  CountingLogExporter* raw = exporter.get();
  BatchLogProcessor p(std::move(exporter), Options(2, 2));
  for (int i = 0; i < 2; ++i) p.OnEmit(std::make_unique<LogRecordData>());
  ASSERT_TRUE(p.ForceFlush(5s));
  EXPECT_EQ(raw->count.load(), 2u);
  EXPECT_EQ(p.stats().exported(ExportResult::kConnectionError), 2u);
  EXPECT_EQ(p.queue_capacity(), 2u);
  EXPECT_TRUE(p.Shutdown(5s));
}

}  // namespace
}  // namespace chat::telemetry::sdk

// Metric hot paths: HistogramCell::Record on a bound cell (candidate) against a mutex-protected
// naive histogram (baseline), with and without a sampled exemplar, plus CounterCell::Add.
// Run with --benchmark_repetitions=N --benchmark_enable_random_interleaving=true and compare the
// medians of .../baseline and .../candidate from the same run (docs/style.md rule 17).
#include <benchmark/benchmark.h>

#include <mutex>
#include <span>
#include <vector>

#include "chat/telemetry/metrics.hpp"

namespace {

using chat::telemetry::kBucketsNats;

// The simplest correct histogram: one lock around a vector of counts and a sum.
class NaiveHistogram {
 public:
  explicit NaiveHistogram(std::span<const double> bounds)
      : bounds_(bounds.begin(), bounds.end()), counts_(bounds.size() + 1) {}
  void Record(double v) {
    std::lock_guard lock(mu_);
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    ++counts_[i];
    ++count_;
    sum_ += v;
  }

 private:
  std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

// Values spread over the buckets so the search is not always the first compare.
constexpr double kValues[] = {0.0004, 0.003, 0.02, 0.07, 0.3, 0.8, 2, 7};
constexpr size_t kNumValues = sizeof(kValues) / sizeof(kValues[0]);

void BM_HistogramRecord_Baseline(benchmark::State& state) {
  NaiveHistogram h(kBucketsNats);
  size_t i = 0;
  for (auto _ : state) {
    h.Record(kValues[i++ % kNumValues]);
  }
  benchmark::ClobberMemory();
}
BENCHMARK(BM_HistogramRecord_Baseline)->Name("metrics/histogram_record/baseline");

void BM_HistogramRecord_Candidate(benchmark::State& state) {
  chat::telemetry::MetricRegistry registry;
  auto& cell =
      registry.AddHistogram("bench_duration_seconds", "d", kBucketsNats, {"k"}).With({"v"});
  size_t i = 0;
  for (auto _ : state) {
    cell.Record(kValues[i++ % kNumValues]);
  }
  benchmark::DoNotOptimize(cell.Count());
}
BENCHMARK(BM_HistogramRecord_Candidate)->Name("metrics/histogram_record/candidate");

void BM_HistogramRecordExemplar_Candidate(benchmark::State& state) {
  chat::telemetry::MetricRegistry registry;
  auto& cell = registry.AddHistogram("bench_duration_seconds", "d", kBucketsNats).Default();
  chat::telemetry::SpanContext ctx;
  ctx.trace_id.bytes[0] = 1;
  ctx.span_id.bytes[0] = 1;
  ctx.trace_flags = chat::telemetry::kTraceFlagSampled;
  size_t i = 0;
  for (auto _ : state) {
    cell.Record(kValues[i++ % kNumValues], &ctx);
  }
  benchmark::DoNotOptimize(cell.Count());
}
BENCHMARK(BM_HistogramRecordExemplar_Candidate)
    ->Name("metrics/histogram_record_sampled_exemplar/candidate");

void BM_HistogramRecordUnsampled_Candidate(benchmark::State& state) {
  chat::telemetry::MetricRegistry registry;
  auto& cell = registry.AddHistogram("bench_duration_seconds", "d", kBucketsNats).Default();
  chat::telemetry::SpanContext ctx;  // unsampled: no exemplar work beyond the flag test
  ctx.trace_id.bytes[0] = 1;
  ctx.span_id.bytes[0] = 1;
  size_t i = 0;
  for (auto _ : state) {
    cell.Record(kValues[i++ % kNumValues], &ctx);
  }
  benchmark::DoNotOptimize(cell.Count());
}
BENCHMARK(BM_HistogramRecordUnsampled_Candidate)
    ->Name("metrics/histogram_record_unsampled_ctx/candidate");

void BM_CounterAdd_Baseline(benchmark::State& state) {
  std::mutex mu;
  double value = 0;
  for (auto _ : state) {
    std::lock_guard lock(mu);
    value += 1;
    benchmark::DoNotOptimize(value);
  }
}
BENCHMARK(BM_CounterAdd_Baseline)->Name("metrics/counter_add/baseline");

void BM_CounterAdd_Candidate(benchmark::State& state) {
  chat::telemetry::MetricRegistry registry;
  auto& cell = registry.AddCounter("bench_events_total", "e", {"k"}).With({"v"});
  for (auto _ : state) {
    cell.Add();
  }
  benchmark::DoNotOptimize(cell.Value());
}
BENCHMARK(BM_CounterAdd_Candidate)->Name("metrics/counter_add/candidate");

// Binding a cell by label values (what hot paths are told to avoid): for scale.
void BM_CounterWithLookup(benchmark::State& state) {
  chat::telemetry::MetricRegistry registry;
  auto counter = registry.AddCounter("bench_events_total", "e", {"result", "action"});
  for (auto _ : state) {
    counter.With({"ok", "create"}).Add();
  }
}
BENCHMARK(BM_CounterWithLookup)->Name("metrics/counter_with_lookup_add/candidate");

// Two threads recording into one cell: the case a shared request histogram sees in a service.
NaiveHistogram g_shared_naive(kBucketsNats);
chat::telemetry::HistogramCell g_shared_cell(kBucketsNats);

void BM_HistogramRecordContended_Baseline(benchmark::State& state) {
  auto i = static_cast<size_t>(state.thread_index());
  for (auto _ : state) g_shared_naive.Record(kValues[i++ % kNumValues]);
}
BENCHMARK(BM_HistogramRecordContended_Baseline)
    ->Name("metrics/histogram_record_2threads/baseline")
    ->Threads(2);

void BM_HistogramRecordContended_Candidate(benchmark::State& state) {
  auto i = static_cast<size_t>(state.thread_index());
  for (auto _ : state) g_shared_cell.Record(kValues[i++ % kNumValues]);
}
BENCHMARK(BM_HistogramRecordContended_Candidate)
    ->Name("metrics/histogram_record_2threads/candidate")
    ->Threads(2);

}  // namespace

BENCHMARK_MAIN();

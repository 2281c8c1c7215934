// Span cost: sampled span start+end with 4 attributes (2 strings, 2 ints) through the
// BatchSpanProcessor with a discarding exporter, and an unsampled span; each candidate is
// paired with a baseline from bench/baselines/naive_tracer.hpp measured in the same run.
// CPU time is the whole process's (MeasureProcessCPUTime), so the export thread is included.
// Run: span_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include "baselines/naive_tracer.hpp"
#include "chat/core/clock.hpp"
#include "chat/telemetry/sdk/batch_processor.hpp"
#include "chat/telemetry/sdk/sampler.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/telemetry/trace.hpp"

namespace {

using namespace chat::telemetry;

class DiscardExporter final : public sdk::SpanExporter {
 public:
  sdk::ExportResult Export(const std::vector<std::unique_ptr<SpanData>>&,
                           std::chrono::milliseconds) override {
    return sdk::ExportResult::kSuccess;
  }
};

constexpr const char* kSpanName = "publish chat.room.{room_id}.msg";
constexpr const char* kSubject = "chat.room.8f14e45fceea167a.msg";  // 30 chars: heap string
constexpr const char* kTemplate = "chat.room.{room_id}.msg";

sdk::BatchOptions BenchOptions() {
  sdk::BatchOptions o;  // the defaults of §2.2
  o.schedule_delay = std::chrono::milliseconds(2000);
  return o;
}

void SampledCandidate(benchmark::State& state) {
  auto processor = std::make_unique<sdk::BatchSpanProcessor>(std::make_unique<DiscardExporter>(),
                                                             BenchOptions());
  const sdk::BatchSpanProcessor* raw = processor.get();
  TracerProvider provider(Resource{}, sdk::MakeAlwaysOnSampler(), std::move(processor),
                          SpanLimits{}, chat::core::SystemClock::Instance());
  Tracer tracer = provider.GetTracer();
  SpanContext parent;
  parent.trace_id = NewTraceId();
  parent.span_id = NewSpanId();
  parent.trace_flags = kTraceFlagSampled;
  for (auto _ : state) {
    Span span = tracer.StartSpan(kSpanName, SpanKind::kProducer, parent);
    span.SetAttribute(semconv::kMessagingDestinationName, kSubject);
    span.SetAttribute(semconv::kMessagingDestinationTemplate, kTemplate);
    span.SetAttribute(semconv::kMessagingMessageBodySize, int64_t{212});
    span.SetAttribute("chat.jetstream.delivery_count", int64_t{1});
  }
  provider.ForceFlush(std::chrono::seconds(10));
  // Share of spans the full queue dropped: a number above ~0 means the exporter thread did not
  // keep up and the timing mixes in the (cheaper) drop path.
  state.counters["dropped_share"] = benchmark::Counter(
      static_cast<double>(raw->stats().dropped_queue_full()), benchmark::Counter::kAvgIterations);
}

void SampledBaseline(benchmark::State& state) {
  chat::bench::baseline::NaiveQueue queue(2048);
  chat::bench::baseline::NaiveTracer tracer(
      true, [&queue](std::unique_ptr<chat::bench::baseline::NaiveSpanRecord> r) {
        queue.Push(std::move(r));
      });
  for (auto _ : state) {
    auto span = tracer.StartSpan(kSpanName);
    span->SetAttribute(std::string(semconv::kMessagingDestinationName), std::string(kSubject));
    span->SetAttribute(std::string(semconv::kMessagingDestinationTemplate), std::string(kTemplate));
    span->SetAttribute(std::string(semconv::kMessagingMessageBodySize), int64_t{212});
    span->SetAttribute("chat.jetstream.delivery_count", int64_t{1});
  }
  state.counters["dropped_share"] =
      benchmark::Counter(static_cast<double>(queue.dropped()), benchmark::Counter::kAvgIterations);
}

void UnsampledCandidate(benchmark::State& state) {
  TracerProvider provider(Resource{}, sdk::MakeSampler("parentbased_always_on"),
                          std::make_unique<sdk::BatchSpanProcessor>(
                              std::make_unique<DiscardExporter>(), BenchOptions()),
                          SpanLimits{}, chat::core::SystemClock::Instance());
  Tracer tracer = provider.GetTracer();
  SpanContext parent;  // an unsampled remote parent: the common "not sampled upstream" case
  parent.trace_id = NewTraceId();
  parent.span_id = NewSpanId();
  parent.trace_flags = 0;
  parent.is_remote = true;
  for (auto _ : state) {
    Span span = tracer.StartSpan(kSpanName, SpanKind::kConsumer, parent);
    span.SetAttribute(semconv::kMessagingDestinationName, kSubject);
    span.SetAttribute(semconv::kMessagingMessageBodySize, int64_t{212});
    benchmark::DoNotOptimize(span.Context().span_id);
  }
}

void UnsampledBaseline(benchmark::State& state) {
  chat::bench::baseline::NaiveTracer tracer(
      false, [](std::unique_ptr<chat::bench::baseline::NaiveSpanRecord>) {});
  for (auto _ : state) {
    auto span = tracer.StartSpan(kSpanName);
    span->SetAttribute(std::string(semconv::kMessagingDestinationName), std::string(kSubject));
    span->SetAttribute(std::string(semconv::kMessagingMessageBodySize), int64_t{212});
    benchmark::DoNotOptimize(span.get());
  }
}

// Reference point: the no-op API (default Tracer), the floor for any span.
void NoopReference(benchmark::State& state) {
  Tracer tracer;
  SpanContext parent;
  parent.trace_id = NewTraceId();
  parent.span_id = NewSpanId();
  for (auto _ : state) {
    Span span = tracer.StartSpan(kSpanName, SpanKind::kConsumer, parent);
    span.SetAttribute(semconv::kMessagingDestinationName, kSubject);
    benchmark::DoNotOptimize(span.Context().span_id);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("span/sampled_4attrs_batch/candidate", SampledCandidate)
      ->MeasureProcessCPUTime();
  benchmark::RegisterBenchmark("span/sampled_4attrs_batch/baseline", SampledBaseline)
      ->MeasureProcessCPUTime();
  benchmark::RegisterBenchmark("span/unsampled/candidate", UnsampledCandidate)
      ->MeasureProcessCPUTime();
  benchmark::RegisterBenchmark("span/unsampled/baseline", UnsampledBaseline)
      ->MeasureProcessCPUTime();
  benchmark::RegisterBenchmark("span/noop_api/reference", NoopReference)->MeasureProcessCPUTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

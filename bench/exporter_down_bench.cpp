// Exporter endpoint down: a process producing 50k spans/s for 30 s while its OTLP endpoint
// refuses connections must keep a bounded memory footprint (target: RSS growth ≤ 20 MB,
// reported as rss_growth_mb_exporter_down). The bounded batch queue drops and counts instead of
// growing; this measures that promise with the real SDK, exporter and retry logic.
//
// CHAT_BENCH_EXPORTER_DOWN_SECONDS shortens the run (default 30, the target's duration).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "chat/core/env.hpp"
#include "chat/telemetry/sdk/sdk.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/process.hpp"

namespace {

using Clock = std::chrono::steady_clock;

void BM_ExporterDown(benchmark::State& state) {
  const char* s = std::getenv("CHAT_BENCH_EXPORTER_DOWN_SECONDS");
  const int seconds = s != nullptr ? std::atoi(s) : 30;
  constexpr int kSpansPerSecond = 50'000;
  constexpr int kSlicesPerSecond = 100;

  chat::core::MapEnv env{// FreePort: nothing listens there, so every export is refused.
                         {"OTEL_EXPORTER_OTLP_ENDPOINT",
                          "http://127.0.0.1:" + std::to_string(chat::testing::FreePort())},
                         {"OTEL_EXPORTER_OTLP_TIMEOUT", "500"},
                         {"OTEL_BSP_EXPORT_TIMEOUT", "1000"},
                         {"OTEL_LOGS_EXPORTER", "none"},
                         {"LOG_LEVEL", "error"}};
  auto config = chat::telemetry::sdk::TelemetryConfig::FromEnv(env, "bench-exporter-down");
  auto sdk =
      chat::telemetry::sdk::TelemetrySdk::Create(config, chat::core::SystemClock::Instance());
  const auto& tracer = sdk->telemetry().tracer;

  long rss_start = 0;
  long rss_peak = 0;
  int64_t produced = 0;
  for (auto _ : state) {
    auto start = Clock::now();
    auto slice = std::chrono::microseconds(1'000'000 / kSlicesPerSecond);
    auto next = start;
    for (int i = 0; i < seconds * kSlicesPerSecond; ++i) {
      for (int j = 0; j < kSpansPerSecond / kSlicesPerSecond; ++j) {
        auto span = tracer.StartSpan("bench_down", chat::telemetry::SpanKind::kInternal, {});
        span.SetAttribute("chat.room", "general");
        span.SetAttribute("chat.bench.n", produced);
        ++produced;
      }
      // RSS is measured from the end of the first second (queue full, exporter retrying).
      if (i == kSlicesPerSecond) rss_start = chat::testing::RssKib();
      if (i > kSlicesPerSecond) rss_peak = std::max(rss_peak, chat::testing::RssKib());
      next += slice;
      std::this_thread::sleep_until(next);  // pacing to the target rate
    }
  }
  const auto* proc = sdk->span_processor();
  state.counters["rss_growth_mb_exporter_down"] =
      static_cast<double>(rss_peak - rss_start) / 1024.0;
  state.counters["spans_produced"] = static_cast<double>(produced);
  state.counters["seconds"] = seconds;
  if (proc != nullptr) {
    state.counters["spans_dropped_queue_full"] =
        static_cast<double>(proc->stats().dropped_queue_full());
  }
  sdk->Shutdown(std::chrono::milliseconds(1000));
}
BENCHMARK(BM_ExporterDown)->Iterations(1)->Repetitions(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

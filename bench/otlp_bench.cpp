// OTLP protobuf encoding of a 512-span batch with 10 attributes per span: our direct encoder
// (candidate, sizes computed first, bytes written once into a reused buffer) against the simplest
// correct encoder (baseline, bench/baselines/naive_otlp_encoder.hpp) that serializes every nested
// message into its own std::string and copies it into its parent.
// Both produce identical bytes (checked before timing). Prints the median time ratio at the end.
// Run: otlp_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "baselines/naive_otlp_encoder.hpp"
#include "chat/telemetry/sdk/otlp.hpp"
#include "otlp_span_batch.hpp"

namespace {

using chat::bench::NaiveEncode;
using chat::telemetry::InstrumentationScope;
using chat::telemetry::Resource;
using chat::telemetry::SpanData;

constexpr size_t kBatch = chat::bench::kOtlpBatch;

std::vector<std::unique_ptr<SpanData>> MakeBatch() { return chat::bench::MakeOtlpSpanBatch(); }

Resource MakeResource() {
  Resource r;
  r.attributes.push_back({"service.name", std::string("fanout-service")});
  r.attributes.push_back({"service.namespace", std::string("nats-chat")});
  r.attributes.push_back({"service.version", std::string("1.3.0+3f2a9c1")});
  r.attributes.push_back(
      {"service.instance.id", std::string("4b0f9f4e-5d43-4a55-9f9b-5e8c1d3b2a10")});
  return r;
}

// ---------- benchmarks ----------

void BM_Baseline(benchmark::State& state) {
  auto spans = MakeBatch();
  Resource resource = MakeResource();
  InstrumentationScope scope{"chat.telemetry", "0.1.0"};
  std::string out;
  for (auto _ : state) {
    NaiveEncode(resource, scope, spans, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
  state.counters["bytes_per_span"] = static_cast<double>(out.size()) / kBatch;
}
BENCHMARK(BM_Baseline)->Name("otlp/encode_protobuf_512x10/baseline");

void BM_Candidate(benchmark::State& state) {
  auto spans = MakeBatch();
  Resource resource = MakeResource();
  InstrumentationScope scope{"chat.telemetry", "0.1.0"};
  std::string out;
  for (auto _ : state) {
    chat::telemetry::sdk::EncodeTracesProtobuf(resource, scope, spans, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
  state.counters["bytes_per_span"] = static_cast<double>(out.size()) / kBatch;
}
BENCHMARK(BM_Candidate)->Name("otlp/encode_protobuf_512x10/candidate");

// For scale only (JSON is the fallback protocol): no baseline.
void BM_Json(benchmark::State& state) {
  auto spans = MakeBatch();
  Resource resource = MakeResource();
  InstrumentationScope scope{"chat.telemetry", "0.1.0"};
  std::string out;
  for (auto _ : state) {
    chat::telemetry::sdk::EncodeTracesJson(resource, scope, spans, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
}
BENCHMARK(BM_Json)->Name("otlp/encode_json_512x10");

// Collects real time per span for each benchmark (the median aggregate when repetitions are on,
// else the single run) and prints baseline/candidate after the normal console output.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      bool single = r.run_type == Run::RT_Iteration && r.repetitions <= 1;
      if (!median && !single) continue;
      std::string name = r.run_name.function_name;
      // CPU time: on a shared machine, wall time also counts time spent preempted.
      ns_per_span_[name] = r.GetAdjustedCPUTime() / kBatch;  // time unit is ns by default
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const std::string base = "otlp/encode_protobuf_512x10/baseline";
    const std::string cand = "otlp/encode_protobuf_512x10/candidate";
    if (ns_per_span_.count(base) == 0 || ns_per_span_.count(cand) == 0) return;
    double b = ns_per_span_[base];
    double c = ns_per_span_[cand];
    std::printf(
        "\notlp encode (median CPU): baseline %.1f ns/span, candidate %.1f ns/span "
        "(%.2f M spans/s), ratio baseline/candidate = %.2f\n",
        b, c, 1e3 / c, b / c);
    if (ns_per_span_.count("otlp/encode_json_512x10") != 0) {
      std::printf("otlp json encode: %.1f ns/span\n", ns_per_span_["otlp/encode_json_512x10"]);
    }
  }

 private:
  std::map<std::string, double> ns_per_span_;
};

}  // namespace

int main(int argc, char** argv) {
  // The baseline must be a correct encoder: same bytes as the candidate.
  {
    auto spans = MakeBatch();
    Resource resource = MakeResource();
    InstrumentationScope scope{"chat.telemetry", "0.1.0"};
    std::string a;
    std::string b;
    NaiveEncode(resource, scope, spans, a);
    chat::telemetry::sdk::EncodeTracesProtobuf(resource, scope, spans, b);
    if (a != b) {
      std::fprintf(stderr, "baseline and candidate encodings differ (%zu vs %zu bytes)\n", a.size(),
                   b.size());
      return 1;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

// OTLP protobuf encoding of a 512-span batch with 10 attributes per span: our direct encoder
// (candidate, sizes computed first, bytes written once into a reused buffer) against the simplest
// correct encoder (baseline) that serializes every nested message into its own std::string and
// copies it into its parent, which is the allocation and copy pattern of building protobuf objects.
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

#include "chat/telemetry/sdk/otlp.hpp"

namespace {

using chat::telemetry::AttributeValue;
using chat::telemetry::InstrumentationScope;
using chat::telemetry::Resource;
using chat::telemetry::SpanData;
using chat::telemetry::SpanKind;

constexpr size_t kBatch = 512;

std::vector<std::unique_ptr<SpanData>> MakeBatch() {
  std::vector<std::unique_ptr<SpanData>> spans;
  for (size_t i = 0; i < kBatch; ++i) {
    auto s = std::make_unique<SpanData>();
    for (size_t b = 0; b < 16; ++b) s->trace_id.bytes[b] = static_cast<uint8_t>(i * 7 + b + 1);
    for (size_t b = 0; b < 8; ++b) s->span_id.bytes[b] = static_cast<uint8_t>(i * 3 + b + 1);
    for (size_t b = 0; b < 8; ++b) s->parent_span_id.bytes[b] = static_cast<uint8_t>(i + b + 9);
    s->trace_flags = 1;
    s->name = "process chat.room.{room_id}.msg";
    s->kind = SpanKind::kConsumer;
    s->start_unix_nano = 1700000000000000000 + static_cast<int64_t>(i) * 1000;
    s->end_unix_nano = s->start_unix_nano + 250000;
    s->attributes = {
        {"messaging.system", "nats"},
        {"messaging.destination.name", "chat.room.{room_id}.msg"},
        {"messaging.operation.type", "process"},
        {"messaging.message.body.size", 214},
        {"messaging.client.id", "fanout-service-7f9c"},
        {"chat.room.id", "r-" + std::to_string(i % 97)},
        {"chat.message.seq", static_cast<int64_t>(i) * 13},
        {"chat.fanout.recipients", 12},
        {"chat.redelivered", AttributeValue(false)},
        {"chat.queue.lag_s", AttributeValue(0.0042)},
    };
    spans.push_back(std::move(s));
  }
  return spans;
}

Resource MakeResource() {
  Resource r;
  r.attributes.push_back({"service.name", std::string("fanout-service")});
  r.attributes.push_back({"service.namespace", std::string("nats-chat")});
  r.attributes.push_back({"service.version", std::string("1.3.0+3f2a9c1")});
  r.attributes.push_back({"service.instance.id", std::string("4b0f9f4e-5d43-4a55-9f9b-5e8c1d3b2a10")});
  return r;
}

// ---------- baseline: one std::string per nested message ----------

void NaiveVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void NaiveTag(std::string& out, uint32_t field, uint32_t wt) { NaiveVarint(out, (field << 3) | wt); }
void NaiveLen(std::string& out, uint32_t field, const std::string& payload) {
  NaiveTag(out, field, 2);
  NaiveVarint(out, payload.size());
  out += payload;
}
void NaiveFixed(std::string& out, uint32_t field, uint64_t v, int bytes) {
  NaiveTag(out, field, bytes == 8 ? 1 : 5);
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::string NaiveAnyValue(const AttributeValue& v) {
  std::string m;
  if (const auto* b = std::get_if<bool>(&v)) {
    NaiveTag(m, 2, 0);
    NaiveVarint(m, *b ? 1 : 0);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    NaiveTag(m, 3, 0);
    NaiveVarint(m, static_cast<uint64_t>(*i));
  } else if (const auto* d = std::get_if<double>(&v)) {
    uint64_t bits = 0;
    std::memcpy(&bits, d, 8);
    NaiveFixed(m, 4, bits, 8);
  } else {
    NaiveLen(m, 1, std::get<std::string>(v));
  }
  return m;
}
std::string NaiveKeyValue(std::string_view key, const AttributeValue& v) {
  std::string m;
  if (!key.empty()) NaiveLen(m, 1, std::string(key));
  NaiveLen(m, 2, NaiveAnyValue(v));
  return m;
}
std::string NaiveSpan(const SpanData& s) {
  std::string m;
  auto bytes = [](const auto& id) {
    return std::string(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  };
  NaiveLen(m, 1, bytes(s.trace_id));
  NaiveLen(m, 2, bytes(s.span_id));
  if (!s.trace_state.empty()) NaiveLen(m, 3, s.trace_state);
  NaiveLen(m, 4, bytes(s.parent_span_id));  // the bench batch has parents throughout
  if (!s.name.empty()) NaiveLen(m, 5, s.name);
  NaiveTag(m, 6, 0);
  NaiveVarint(m, static_cast<uint64_t>(s.kind));
  NaiveFixed(m, 7, static_cast<uint64_t>(s.start_unix_nano), 8);
  NaiveFixed(m, 8, static_cast<uint64_t>(s.end_unix_nano), 8);
  for (const auto& a : s.attributes) NaiveLen(m, 9, NaiveKeyValue(a.key, a.value));
  if (s.trace_flags != 0) NaiveFixed(m, 16, s.trace_flags, 4);
  return m;
}
void NaiveEncode(const Resource& resource, const InstrumentationScope& scope,
                 const std::vector<std::unique_ptr<SpanData>>& spans, std::string& out) {
  std::string res;
  for (const auto& a : resource.attributes) NaiveLen(res, 1, NaiveKeyValue(a.key, a.value));
  std::string sc;
  if (!scope.name.empty()) NaiveLen(sc, 1, scope.name);
  if (!scope.version.empty()) NaiveLen(sc, 2, scope.version);
  std::string scope_spans;
  NaiveLen(scope_spans, 1, sc);
  for (const auto& s : spans) NaiveLen(scope_spans, 2, NaiveSpan(*s));
  std::string resource_spans;
  NaiveLen(resource_spans, 1, res);
  NaiveLen(resource_spans, 2, scope_spans);
  out.clear();
  NaiveLen(out, 1, resource_spans);
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
    std::printf("\notlp encode (median CPU): baseline %.1f ns/span, candidate %.1f ns/span "
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
      std::fprintf(stderr, "baseline and candidate encodings differ (%zu vs %zu bytes)\n",
                   a.size(), b.size());
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

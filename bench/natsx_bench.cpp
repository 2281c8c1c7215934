// natsx publish→process round-trip throughput through a real nats-server, traced vs untraced.
// baseline  = tracing disabled (the OTEL_SDK_DISABLED path: a provider without processor);
// candidate = always_on sampling into a batch processor with a discarding exporter.
// Both run in the same process with random interleaving and repetitions; the reporter prints
// trace_overhead_ratio = candidate / baseline median throughput (target ≥ 0.90,
// docs/performance-targets.md), per docs/style.md rule 17.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/telemetry/sdk/batch_processor.hpp"
#include "chat/telemetry/sdk/sampler.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/wait_for.hpp"

namespace {

namespace natsx = chat::natsx;
namespace tel = chat::telemetry;
using namespace std::chrono_literals;

constexpr natsx::SubjectTemplate kSend{"deliver.{user}.send.{room}"};

class DiscardingExporter final : public tel::sdk::SpanExporter {
 public:
  tel::sdk::ExportResult Export(const std::vector<std::unique_ptr<tel::SpanData>>& batch,
                                std::chrono::milliseconds) override {
    exported_ += batch.size();
    return tel::sdk::ExportResult::kSuccess;
  }

 private:
  size_t exported_ = 0;
};

// One telemetry bundle plus a publisher and a subscriber connection bound to it.
struct Mode {
  std::unique_ptr<tel::MetricRegistry> metrics = std::make_unique<tel::MetricRegistry>();
  std::unique_ptr<tel::Logger> logger = std::make_unique<tel::Logger>();
  std::unique_ptr<tel::TracerProvider> provider;
  tel::Telemetry telemetry;
  std::unique_ptr<natsx::Connection> pub;
  std::unique_ptr<natsx::Connection> sub_conn;
  std::unique_ptr<natsx::Subscription> sub;
  std::atomic<uint64_t> processed{0};
  std::string room;

  bool Init(bool traced, const std::string& url, std::string room_name) {
    room = std::move(room_name);
    std::unique_ptr<tel::SpanProcessor> processor;
    if (traced) {
      tel::sdk::BatchOptions bo;
      bo.max_queue_size = 65536;
      bo.max_export_batch_size = 512;
      bo.schedule_delay = 200ms;
      processor = std::make_unique<tel::sdk::BatchSpanProcessor>(
          std::make_unique<DiscardingExporter>(), bo);
    }
    provider = std::make_unique<tel::TracerProvider>(
        tel::Resource{}, tel::sdk::MakeAlwaysOnSampler(), std::move(processor), tel::SpanLimits{},
        chat::core::SystemClock::Instance());
    telemetry.tracer = provider->GetTracer();
    telemetry.logger = logger.get();
    telemetry.metrics = metrics.get();
    natsx::ConnectionOptions o;
    o.urls = {url};
    o.name = traced ? "bench-traced" : "bench-untraced";
    auto p = natsx::Connection::Connect(o, telemetry);
    auto s = natsx::Connection::Connect(o, telemetry);
    if (!p.ok() || !s.ok()) return false;
    pub = std::move(*p);
    sub_conn = std::move(*s);
    natsx::SubscribeOptions so;
    so.templates = {kSend};
    so.pending_msgs_limit = 1 << 20;
    so.pending_bytes_limit = 512 * 1024 * 1024;
    auto sb = sub_conn->Subscribe(so, [this](const natsx::Message& m, natsx::MessageContext& ctx) {
      benchmark::DoNotOptimize(m.payload().data());
      benchmark::DoNotOptimize(&ctx);
      processed.fetch_add(1, std::memory_order_relaxed);
      return chat::core::Status::Ok();
    });
    if (!sb.ok()) return false;
    sub = std::move(*sb);
    // The pattern is per mode (different room) only through the publish args; make sure the
    // subscription is registered before traffic flows.
    return sub_conn->Flush(5s).ok();
  }
};

void RoundTrip(benchmark::State& state, Mode* mode) {
  const std::string payload(256, 'x');
  const tel::SpanContext no_parent;
  uint64_t start = mode->processed.load();
  uint64_t sent = 0;
  for (auto _ : state) {
    auto st = mode->pub->Publish(kSend, {"alice", mode->room}, payload, no_parent);
    if (!st.ok()) {
      state.SkipWithError("publish failed");
      break;
    }
    ++sent;
  }
  // Throughput counts a message only once its handler ran.
  bool done = chat::testing::WaitFor([&] { return mode->processed.load() - start >= sent; }, 60s);
  if (!done) state.SkipWithError("messages were not processed in time");
  state.SetItemsProcessed(static_cast<int64_t>(sent));
}

// Collects median throughput of .../baseline and .../candidate and prints their ratio.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.error_occurred) continue;
      auto it = r.counters.find("items_per_second");
      if (it == r.counters.end()) continue;
      std::string name = r.run_name.str();
      if (r.run_type == Run::RT_Aggregate) {
        if (r.aggregate_name == "median") medians_[name] = it->second.value;
      } else {
        samples_[name].push_back(it->second.value);
      }
    }
  }
  double Median(const std::string& suffix) const {
    for (const auto& [name, v] : medians_) {
      if (name.size() >= suffix.size() && name.ends_with(suffix)) return v;
    }
    for (auto [name, v] : samples_) {
      if (!name.ends_with(suffix) || v.empty()) continue;
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    }
    return 0;
  }

 private:
  std::map<std::string, double> medians_;
  std::map<std::string, std::vector<double>> samples_;
};

}  // namespace

int main(int argc, char** argv) {
  auto server = chat::testing::NatsServer::Create({.jetstream = false});
  if (!server.ok()) {
    std::fprintf(stderr, "natsx_bench: %s\n", server.status().ToString().c_str());
    return 1;
  }
  Mode untraced;
  Mode traced;
  if (!untraced.Init(false, (*server)->url(), "untraced") ||
      !traced.Init(true, (*server)->url(), "traced")) {
    std::fprintf(stderr, "natsx_bench: could not connect/subscribe\n");
    return 1;
  }

  // Defaults for a meaningful ratio unless the caller chose otherwise.
  std::vector<char*> args(argv, argv + argc);
  std::string reps = "--benchmark_repetitions=7";
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  std::string min_time = "--benchmark_min_time=0.5";
  auto has = [&](const char* flag) {
    return std::any_of(args.begin(), args.end(),
                       [&](char* a) { return std::strncmp(a, flag, std::strlen(flag)) == 0; });
  };
  if (!has("--benchmark_repetitions")) args.push_back(reps.data());
  if (!has("--benchmark_enable_random_interleaving")) args.push_back(interleave.data());
  if (!has("--benchmark_min_time")) args.push_back(min_time.data());
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);

  benchmark::RegisterBenchmark("BM_NatsxPublishProcess/baseline", RoundTrip, &untraced)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_NatsxPublishProcess/candidate", RoundTrip, &traced)
      ->UseRealTime();
  benchmark::Initialize(&n, args.data());
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  double base = reporter.Median("/baseline");
  double cand = reporter.Median("/candidate");
  if (base > 0 && cand > 0) {
    std::printf("baseline_msgs_per_second=%.0f\ncandidate_msgs_per_second=%.0f\n", base, cand);
    std::printf("trace_overhead_ratio=%.3f\n", cand / base);
  }
  // Connections close before the providers flush and the server stops (member order).
  traced.sub.reset();
  untraced.sub.reset();
  return 0;
}

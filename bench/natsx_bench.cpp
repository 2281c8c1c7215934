// natsx publish→process round-trip throughput through a real nats-server, traced vs untraced.
// baseline  = tracing disabled (the OTEL_SDK_DISABLED path: a provider without processor);
// candidate = always_on sampling into a batch processor with a discarding exporter.
// Both run in the same process with random interleaving and repetitions; the reporter prints
// trace_overhead_ratio = candidate / baseline median throughput (target ≥ 0.90,
// docs/performance-targets.md), per docs/style.md rule 17.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
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

constexpr chat::core::SubjectTemplate kSend{"deliver.{user}.send.{room}"};

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
  std::unique_ptr<natsx::Connection> pub;       // buffered writes (pipelined)
  std::unique_ptr<natsx::Connection> pub_asap;  // one write per publish (round trip)
  std::unique_ptr<natsx::Connection> sub_conn;
  std::unique_ptr<natsx::Subscription> sub;
  std::atomic<uint64_t> processed{0};
  std::atomic<bool> waiting{false};  // only the round-trip benchmark blocks on cv
  std::mutex mu;
  std::condition_variable cv;
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
    o.send_asap = true;
    auto pa = natsx::Connection::Connect(o, telemetry);
    if (!p.ok() || !s.ok() || !pa.ok()) return false;
    pub = std::move(*p);
    pub_asap = std::move(*pa);
    sub_conn = std::move(*s);
    natsx::SubscribeOptions so;
    so.templates = {kSend};
    so.pending_msgs_limit = 1 << 20;
    so.pending_bytes_limit = 512 * 1024 * 1024;
    auto sb = sub_conn->Subscribe(so, [this](const natsx::Message& m, natsx::MessageContext& ctx) {
      benchmark::DoNotOptimize(m.payload().data());
      benchmark::DoNotOptimize(&ctx);
      processed.fetch_add(1, std::memory_order_release);
      if (waiting.load(std::memory_order_acquire)) {
        std::lock_guard lock(mu);
        cv.notify_one();
      }
      return chat::core::Status::Ok();
    });
    if (!sb.ok()) return false;
    sub = std::move(*sb);
    // The pattern is per mode (different room) only through the publish args; make sure the
    // subscription is registered before traffic flows.
    return sub_conn->Flush(5s).ok();
  }
};

// Pipelined: publish as fast as possible, then wait until every message was processed.
void Pipelined(benchmark::State& state, Mode* mode) {
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

// Round trip: each message is published and then awaited until its handler has run.
void RoundTrip(benchmark::State& state, Mode* mode) {
  const std::string payload(256, 'x');
  const tel::SpanContext no_parent;
  mode->waiting.store(true);
  for (auto _ : state) {
    uint64_t before = mode->processed.load(std::memory_order_acquire);
    auto st = mode->pub_asap->Publish(kSend, {"alice", mode->room}, payload, no_parent);
    if (!st.ok()) {
      state.SkipWithError("publish failed");
      break;
    }
    std::unique_lock lock(mode->mu);
    mode->cv.wait(lock, [&] { return mode->processed.load(std::memory_order_acquire) != before; });
  }
  mode->waiting.store(false);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
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
  double Median(const std::string& family, const std::string& suffix) const {
    auto matches = [&](const std::string& name) {
      return name.rfind(family, 0) == 0 && name.find(suffix) != std::string::npos;
    };
    for (const auto& [name, v] : medians_) {
      if (matches(name)) return v;
    }
    for (auto [name, v] : samples_) {
      if (!matches(name) || v.empty()) continue;
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

  benchmark::RegisterBenchmark("BM_NatsxRoundTrip/baseline", RoundTrip, &untraced)->UseRealTime();
  benchmark::RegisterBenchmark("BM_NatsxRoundTrip/candidate", RoundTrip, &traced)->UseRealTime();
  benchmark::RegisterBenchmark("BM_NatsxPipelined/baseline", Pipelined, &untraced)->UseRealTime();
  benchmark::RegisterBenchmark("BM_NatsxPipelined/candidate", Pipelined, &traced)->UseRealTime();
  benchmark::Initialize(&n, args.data());
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  // trace_overhead_ratio is the round-trip figure (one message in flight, the publish→process
  // path as a request sees it); the pipelined ratio shows the cost per message at saturation.
  struct Family {
    const char* name;
    const char* label;
  };
  for (Family f : {Family{"BM_NatsxRoundTrip", "trace_overhead_ratio"},
                   Family{"BM_NatsxPipelined", "trace_overhead_ratio_pipelined"}}) {
    double base = reporter.Median(f.name, "/baseline");
    double cand = reporter.Median(f.name, "/candidate");
    if (base > 0 && cand > 0) {
      std::printf("%s: baseline_msgs_per_second=%.0f candidate_msgs_per_second=%.0f\n", f.name,
                  base, cand);
      std::printf("%s=%.3f\n", f.label, cand / base);
    }
  }
  // Connections close before the providers flush and the server stops (member order).
  traced.sub.reset();
  untraced.sub.reset();
  return 0;
}

// Metrics API: Counter, UpDownCounter, Gauge and Histogram families in one MetricRegistry, with
// exemplars, exposed as Prometheus text or OpenMetrics by the admin server.
//
// Names are the exposition names of docs/observability.md §6 (counters include `_total`).
// Label names are fixed when a family is created; values are positional. Hot paths bind a cell
// once (`auto& ok = requests.With({"ok"});`) and then only touch atomics. Each family holds at
// most `max_series` series; further label combinations go to a shared overflow cell that is
// never exposed and are counted in otel_sdk_metric_series_dropped_total.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/telemetry/trace_context.hpp"

namespace chat::telemetry {

// docs/observability.md §6.1 buckets (seconds).
inline constexpr double kBucketsNats[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,   0.25,   0.5,   1,    2.5,   5};
inline constexpr double kBucketsSlow[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
inline constexpr double kBucketsLag[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1,  2.5,
                                         5,    10,   30,  60,   300, 900};

// An exemplar: the sampled span that was current when a value was recorded.
struct Exemplar {
  TraceId trace_id;
  SpanId span_id;
  double value = 0;
  int64_t time_unix_nano = 0;
};

class CounterCell {
 public:
  // `exemplar_ctx` (optional): recorded as exemplar when it is valid and sampled.
  void Add(double v = 1, const SpanContext* exemplar_ctx = nullptr);
  double Value() const;

 private:
  friend class MetricRegistry;
  std::atomic<double> value_{0};
  mutable std::mutex exemplar_mu_;
  Exemplar exemplar_;
  bool has_exemplar_ = false;
};

class GaugeCell {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);  // for up-down counters
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class HistogramCell {
 public:
  explicit HistogramCell(std::span<const double> bounds);
  void Record(double v, const SpanContext* exemplar_ctx = nullptr);
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  // Non-cumulative count of bucket i (i == bounds.size() is +Inf).
  uint64_t BucketCount(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  std::span<const double> bounds() const { return bounds_; }

 private:
  friend class MetricRegistry;
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
  mutable std::mutex exemplar_mu_;
  std::vector<Exemplar> exemplars_;  // one slot per bucket
  std::vector<bool> has_exemplar_;
};

namespace internal {
struct Family;
}

// Family handles: cheap to copy, valid as long as the registry lives.
class Counter {
 public:
  CounterCell& With(std::initializer_list<std::string_view> label_values) const;
  CounterCell& With(const std::vector<std::string>& label_values) const;
  CounterCell& Default() const { return With({}); }  // the family has no labels

 private:
  friend class MetricRegistry;
  internal::Family* family_ = nullptr;
};

class Gauge {  // also used for UpDownCounter
 public:
  GaugeCell& With(std::initializer_list<std::string_view> label_values) const;
  GaugeCell& With(const std::vector<std::string>& label_values) const;
  GaugeCell& Default() const { return With({}); }

 private:
  friend class MetricRegistry;
  internal::Family* family_ = nullptr;
};

class Histogram {
 public:
  HistogramCell& With(std::initializer_list<std::string_view> label_values) const;
  HistogramCell& With(const std::vector<std::string>& label_values) const;
  HistogramCell& Default() const { return With({}); }

 private:
  friend class MetricRegistry;
  internal::Family* family_ = nullptr;
};

enum class ExpositionFormat {
  kPrometheusText,  // text/plain; version=0.0.4 (no exemplars)
  kOpenMetrics,     // application/openmetrics-text; version=1.0.0 (exemplars, # EOF)
};

class MetricRegistry {
 public:
  explicit MetricRegistry(size_t max_series_per_family = 200);
  ~MetricRegistry();
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  // Registering the same name twice returns the existing family (same type and labels required,
  // else CHAT_CHECK fails: a programming error). Counter names must end in `_total`.
  Counter AddCounter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Gauge AddGauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Gauge AddUpDownCounter(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  Histogram AddHistogram(std::string name, std::string help, std::span<const double> bounds,
                         std::vector<std::string> label_names = {});

  // Called (in registration order) before each exposition, e.g. to refresh queue-size gauges.
  void AddCollectCallback(std::function<void()> cb);

  // Exemplar label names (default "trace_id"/"span_id"; an empty span label omits it). The
  // telemetry sink uses "traceID"/"" to match Tempo's metrics generator.
  void SetExemplarLabels(std::string trace_label, std::string span_label);
  // Labels added to every exposed series (the sink adds source="tempo" to derived series).
  void SetConstLabels(std::vector<std::pair<std::string, std::string>> labels);

  std::string Expose(ExpositionFormat format) const;
  // Names of every family, for the catalogue cross-reference check.
  std::vector<std::string> FamilyNames() const;
  uint64_t series_dropped() const { return series_dropped_.load(std::memory_order_relaxed); }

 private:
  internal::Family* Add(int type, std::string name, std::string help,
                        std::vector<std::string> label_names, std::span<const double> bounds);

  size_t max_series_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<internal::Family>> families_;
  std::vector<std::function<void()>> callbacks_;
  mutable std::atomic<uint64_t> series_dropped_{0};
  std::string exemplar_trace_label_ = "trace_id";
  std::string exemplar_span_label_ = "span_id";
  std::vector<std::pair<std::string, std::string>> const_labels_;
};

}  // namespace chat::telemetry

// MetricRegistry, its families and cells, and Expose(), which walks them and writes through the
// Prometheus text / OpenMetrics writer (exposition.cpp).
// Hot paths (Add, Set, Record on a bound cell) touch only relaxed atomics; exemplar capture takes
// a try_lock so a concurrent scrape never blocks a handler. Registration and With() take
// mutexes: they run at start-up or once per bound cell.
#include "chat/telemetry/metrics.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>

#include "chat/core/status.hpp"
#include "chat/telemetry/exposition.hpp"

namespace chat::telemetry {

namespace {

using exposition::AppendDouble;
using exposition::AppendHeader;
using exposition::AppendLabels;
using exposition::AppendUint;

enum class FamilyType { kCounter = 0, kGauge = 1, kUpDownCounter = 2, kHistogram = 3 };

constexpr std::string_view kTotalSuffix = "_total";
constexpr std::string_view kSeriesDroppedName = "otel_sdk_metric_series_dropped_total";

int64_t NowUnixNano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <size_t N>
bool AnyNonZero(const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return true;
  }
  return false;
}

// Same test as SpanContext::IsValid() && IsSampled(), inline for the hot path.
bool ExemplarWanted(const SpanContext* ctx) {
  return ctx != nullptr && ctx->IsSampled() && AnyNonZero(ctx->trace_id.bytes) &&
         AnyNonZero(ctx->span_id.bytes);
}

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

using ConstLabels = exposition::LabelPairs;

struct ExemplarLabels {
  std::string trace;
  std::string span;  // empty: the span id is not written
};

void AppendExemplar(std::string& out, const ExemplarLabels& labels, const Exemplar& ex) {
  exposition::AppendExemplar(out, labels.trace, labels.span, ex);
}

}  // namespace

namespace internal {

struct Series {
  std::vector<std::string> label_values;
  std::unique_ptr<CounterCell> counter;
  std::unique_ptr<GaugeCell> gauge;
  std::unique_ptr<HistogramCell> histogram;
};

struct Family {
  FamilyType type = FamilyType::kGauge;
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms only; cells point into it
  size_t max_series = 0;
  std::atomic<uint64_t>* series_dropped = nullptr;

  std::mutex mu;
  std::vector<std::unique_ptr<Series>> series;  // creation order
  std::unordered_map<std::string, Series*> index;
  std::unique_ptr<Series> overflow;  // shared by every combination past the cap; never exposed

  std::unique_ptr<Series> NewSeries(std::vector<std::string> values) const {
    auto s = std::make_unique<Series>();
    s->label_values = std::move(values);
    switch (type) {
      case FamilyType::kCounter: s->counter = std::make_unique<CounterCell>(); break;
      case FamilyType::kGauge:
      case FamilyType::kUpDownCounter: s->gauge = std::make_unique<GaugeCell>(); break;
      case FamilyType::kHistogram:
        s->histogram = std::make_unique<HistogramCell>(std::span<const double>(bounds));
        break;
    }
    return s;
  }

  Series& Lookup(std::span<const std::string_view> values) {
    // A wrong label count is a programming error: it would silently split or merge series.
    CHAT_CHECK(values.size() == label_names.size());
    std::string key;
    for (std::string_view v : values) {
      key += std::to_string(v.size());
      key.push_back(':');
      key += v;
    }
    std::lock_guard lock(mu);
    if (auto it = index.find(key); it != index.end()) return *it->second;
    if (series.size() >= max_series) {
      series_dropped->fetch_add(1, std::memory_order_relaxed);
      if (!overflow) overflow = NewSeries(std::vector<std::string>(label_names.size()));
      return *overflow;
    }
    series.push_back(NewSeries(std::vector<std::string>(values.begin(), values.end())));
    Series* s = series.back().get();
    index.emplace(std::move(key), s);
    return *s;
  }

  // Every name this family puts on a sample or family line, to catch collisions at registration.
  std::vector<std::string> ExposedNames() const {
    switch (type) {
      case FamilyType::kCounter: {
        std::string base = name.substr(0, name.size() - kTotalSuffix.size());
        return {base, name, base + "_created"};
      }
      case FamilyType::kHistogram:
        return {name, name + "_bucket", name + "_count", name + "_sum", name + "_created"};
      default: return {name};
    }
  }
};

namespace {

Series& LookupStrings(Family* family, const std::vector<std::string>& values) {
  CHAT_CHECK(family != nullptr);
  std::vector<std::string_view> views(values.begin(), values.end());
  return family->Lookup(views);
}

Series& LookupViews(Family* family, std::initializer_list<std::string_view> values) {
  CHAT_CHECK(family != nullptr);
  return family->Lookup(std::span<const std::string_view>(values.begin(), values.size()));
}

}  // namespace

}  // namespace internal

// ---- cells ----------------------------------------------------------------------------------

void CounterCell::Add(double v, const SpanContext* exemplar_ctx) {
  // Counters are monotonic: a negative or NaN increment would corrupt every rate() downstream.
  if (!(v >= 0)) return;
  value_.fetch_add(v, std::memory_order_relaxed);
  if (ExemplarWanted(exemplar_ctx)) {
    std::unique_lock lock(exemplar_mu_, std::try_to_lock);
    if (lock.owns_lock()) {
      exemplar_.trace_id = exemplar_ctx->trace_id;
      exemplar_.span_id = exemplar_ctx->span_id;
      exemplar_.value = v;
      exemplar_.time_unix_nano = NowUnixNano();
      has_exemplar_ = true;
    }
  }
}

double CounterCell::Value() const { return value_.load(std::memory_order_relaxed); }

void GaugeCell::Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }

HistogramCell::HistogramCell(std::span<const double> bounds)
    : bounds_(bounds),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)),
      exemplars_(bounds.size() + 1),
      has_exemplar_(bounds.size() + 1, false) {}

void HistogramCell::Record(double v, const SpanContext* exemplar_ctx) {
  if (std::isnan(v)) return;  // would poison _sum forever
  // Upper bounds are inclusive (le): the first bound >= v. Linear search beats binary search
  // for the ≤ 15 bounds we use (no unpredictable branches past the hit).
  const double* b = bounds_.data();
  const size_t n = bounds_.size();
  size_t i = 0;
  while (i < n && v > b[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  if (ExemplarWanted(exemplar_ctx)) {
    std::unique_lock lock(exemplar_mu_, std::try_to_lock);
    if (lock.owns_lock()) {
      Exemplar& ex = exemplars_[i];
      ex.trace_id = exemplar_ctx->trace_id;
      ex.span_id = exemplar_ctx->span_id;
      ex.value = v;
      ex.time_unix_nano = NowUnixNano();
      has_exemplar_[i] = true;
    }
  }
}

// ---- handles --------------------------------------------------------------------------------

CounterCell& Counter::With(std::initializer_list<std::string_view> label_values) const {
  return *internal::LookupViews(family_, label_values).counter;
}
CounterCell& Counter::With(const std::vector<std::string>& label_values) const {
  return *internal::LookupStrings(family_, label_values).counter;
}
GaugeCell& Gauge::With(std::initializer_list<std::string_view> label_values) const {
  return *internal::LookupViews(family_, label_values).gauge;
}
GaugeCell& Gauge::With(const std::vector<std::string>& label_values) const {
  return *internal::LookupStrings(family_, label_values).gauge;
}
HistogramCell& Histogram::With(std::initializer_list<std::string_view> label_values) const {
  return *internal::LookupViews(family_, label_values).histogram;
}
HistogramCell& Histogram::With(const std::vector<std::string>& label_values) const {
  return *internal::LookupStrings(family_, label_values).histogram;
}

// ---- registry -------------------------------------------------------------------------------

MetricRegistry::MetricRegistry(size_t max_series_per_family) : max_series_(max_series_per_family) {}

MetricRegistry::~MetricRegistry() = default;

internal::Family* MetricRegistry::Add(int type, std::string name, std::string help,
                                      std::vector<std::string> label_names,
                                      std::span<const double> bounds) {
  const auto family_type = static_cast<FamilyType>(type);
  CHAT_CHECK(IsMetricName(name));
  if (family_type == FamilyType::kCounter) {
    CHAT_CHECK(name.size() > kTotalSuffix.size() && name.ends_with(kTotalSuffix));
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    CHAT_CHECK(IsLabelName(label_names[i]));
    // `le` is the bucket label of histograms; a user label of that name would collide.
    CHAT_CHECK(!(family_type == FamilyType::kHistogram && label_names[i] == "le"));
    for (size_t j = 0; j < i; ++j) CHAT_CHECK(label_names[i] != label_names[j]);
  }
  if (family_type == FamilyType::kHistogram) {
    CHAT_CHECK(!bounds.empty());
    for (size_t i = 0; i < bounds.size(); ++i) {
      CHAT_CHECK(std::isfinite(bounds[i]));
      CHAT_CHECK(i == 0 || bounds[i] > bounds[i - 1]);
    }
  }

  std::lock_guard lock(mu_);
  for (const auto& [const_name, value] : const_labels_) {
    CHAT_CHECK(std::find(label_names.begin(), label_names.end(), const_name) == label_names.end());
  }
  for (const auto& f : families_) {
    if (f->name == name) {
      // Same registration again (e.g. two components sharing one family): must be identical.
      CHAT_CHECK(f->type == family_type);
      CHAT_CHECK(f->label_names == label_names);
      CHAT_CHECK(family_type != FamilyType::kHistogram ||
                 std::equal(f->bounds.begin(), f->bounds.end(), bounds.begin(), bounds.end()));
      return f.get();
    }
  }

  auto family = std::make_unique<internal::Family>();
  family->type = family_type;
  family->name = std::move(name);
  family->help = std::move(help);
  family->label_names = std::move(label_names);
  if (family_type == FamilyType::kHistogram) family->bounds.assign(bounds.begin(), bounds.end());
  family->max_series = max_series_;
  family->series_dropped = &series_dropped_;

  // Distinct registered names can still collide on the wire (counter `x_total` exposes family
  // `x`; histogram `x` exposes `x_count`): refuse that as the programming error it is.
  const std::vector<std::string> mine = family->ExposedNames();
  CHAT_CHECK(std::find(mine.begin(), mine.end(), std::string(kSeriesDroppedName)) == mine.end());
  for (const auto& f : families_) {
    for (const std::string& theirs : f->ExposedNames()) {
      CHAT_CHECK(std::find(mine.begin(), mine.end(), theirs) == mine.end());
    }
  }

  // A family without labels has exactly one series: create it now so it is exposed at 0.
  if (family->label_names.empty()) family->Lookup({});
  families_.push_back(std::move(family));
  return families_.back().get();
}

Counter MetricRegistry::AddCounter(std::string name, std::string help,
                                   std::vector<std::string> label_names) {
  Counter c;
  c.family_ = Add(static_cast<int>(FamilyType::kCounter), std::move(name), std::move(help),
                  std::move(label_names), {});
  return c;
}

Gauge MetricRegistry::AddGauge(std::string name, std::string help,
                               std::vector<std::string> label_names) {
  Gauge g;
  g.family_ = Add(static_cast<int>(FamilyType::kGauge), std::move(name), std::move(help),
                  std::move(label_names), {});
  return g;
}

Gauge MetricRegistry::AddUpDownCounter(std::string name, std::string help,
                                       std::vector<std::string> label_names) {
  Gauge g;
  g.family_ = Add(static_cast<int>(FamilyType::kUpDownCounter), std::move(name), std::move(help),
                  std::move(label_names), {});
  return g;
}

Histogram MetricRegistry::AddHistogram(std::string name, std::string help,
                                       std::span<const double> bounds,
                                       std::vector<std::string> label_names) {
  Histogram h;
  h.family_ = Add(static_cast<int>(FamilyType::kHistogram), std::move(name), std::move(help),
                  std::move(label_names), bounds);
  return h;
}

void MetricRegistry::AddCollectCallback(std::function<void()> cb) {
  std::lock_guard lock(mu_);
  callbacks_.push_back(std::move(cb));
}

void MetricRegistry::SetExemplarLabels(std::string trace_label, std::string span_label) {
  CHAT_CHECK(IsLabelName(trace_label));
  CHAT_CHECK(span_label.empty() || (IsLabelName(span_label) && span_label != trace_label));
  std::lock_guard lock(mu_);
  exemplar_trace_label_ = std::move(trace_label);
  exemplar_span_label_ = std::move(span_label);
}

void MetricRegistry::SetConstLabels(std::vector<std::pair<std::string, std::string>> labels) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < labels.size(); ++i) {
    CHAT_CHECK(IsLabelName(labels[i].first) && labels[i].first != "le");
    for (size_t j = 0; j < i; ++j) CHAT_CHECK(labels[i].first != labels[j].first);
    // A family label of the same name would produce a duplicate label on the wire.
    for (const auto& f : families_) {
      const auto& names = f->label_names;
      CHAT_CHECK(std::find(names.begin(), names.end(), labels[i].first) == names.end());
    }
  }
  const_labels_ = std::move(labels);
}

std::vector<std::string> MetricRegistry::FamilyNames() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  names.reserve(families_.size());
  for (const auto& f : families_) names.push_back(f->name);
  return names;
}

std::string MetricRegistry::Expose(ExpositionFormat format) const {
  // Callbacks run outside mu_ so they may create series (or even families) themselves.
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    callbacks = callbacks_;
  }
  for (const auto& cb : callbacks) cb();

  std::vector<internal::Family*> families;
  ConstLabels const_labels;
  ExemplarLabels exemplar_labels;
  {
    std::lock_guard lock(mu_);
    for (const auto& f : families_) families.push_back(f.get());
    const_labels = const_labels_;
    exemplar_labels = {exemplar_trace_label_, exemplar_span_label_};
  }

  const bool om = format == ExpositionFormat::kOpenMetrics;
  std::string out;
  out.reserve(4096);
  std::vector<internal::Series*> series;
  for (internal::Family* f : families) {
    {
      std::lock_guard lock(f->mu);
      series.clear();
      for (const auto& s : f->series) series.push_back(s.get());
    }
    switch (f->type) {
      case FamilyType::kCounter: {
        std::string_view base(f->name);
        base.remove_suffix(kTotalSuffix.size());
        AppendHeader(out, om ? base : std::string_view(f->name), "counter", f->help, om);
        for (internal::Series* s : series) {
          const CounterCell& cell = *s->counter;
          out += f->name;
          AppendLabels(out, const_labels, f->label_names, s->label_values);
          out.push_back(' ');
          AppendDouble(out, cell.Value());
          if (om) {
            std::lock_guard lock(cell.exemplar_mu_);
            if (cell.has_exemplar_) AppendExemplar(out, exemplar_labels, cell.exemplar_);
          }
          out.push_back('\n');
        }
        break;
      }
      case FamilyType::kGauge:
      case FamilyType::kUpDownCounter: {
        AppendHeader(out, f->name, "gauge", f->help, om);
        for (internal::Series* s : series) {
          out += f->name;
          AppendLabels(out, const_labels, f->label_names, s->label_values);
          out.push_back(' ');
          AppendDouble(out, s->gauge->Value());
          out.push_back('\n');
        }
        break;
      }
      case FamilyType::kHistogram: {
        AppendHeader(out, f->name, "histogram", f->help, om);
        std::string le;
        for (internal::Series* s : series) {
          const HistogramCell& cell = *s->histogram;
          std::vector<Exemplar> exemplars;
          std::vector<bool> has_exemplar;
          if (om) {
            std::lock_guard lock(cell.exemplar_mu_);
            exemplars = cell.exemplars_;
            has_exemplar = cell.has_exemplar_;
          }
          // _count is the +Inf bucket, so a scrape racing Record() stays self-consistent.
          uint64_t cumulative = 0;
          const size_t n = f->bounds.size();
          for (size_t i = 0; i <= n; ++i) {
            cumulative += cell.BucketCount(i);
            le.clear();
            if (i < n) {
              AppendDouble(le, f->bounds[i]);
            } else {
              le = "+Inf";
            }
            out += f->name;
            out += "_bucket";
            AppendLabels(out, const_labels, f->label_names, s->label_values, "le", le);
            out.push_back(' ');
            AppendUint(out, cumulative);
            if (om && has_exemplar[i]) AppendExemplar(out, exemplar_labels, exemplars[i]);
            out.push_back('\n');
          }
          out += f->name;
          out += "_sum";
          AppendLabels(out, const_labels, f->label_names, s->label_values);
          out.push_back(' ');
          AppendDouble(out, cell.Sum());
          out.push_back('\n');
          out += f->name;
          out += "_count";
          AppendLabels(out, const_labels, f->label_names, s->label_values);
          out.push_back(' ');
          AppendUint(out, cumulative);
          out.push_back('\n');
        }
        break;
      }
    }
  }

  // The registry's own health: how many lookups fell into an overflow cell.
  std::string_view dropped_name = kSeriesDroppedName;
  std::string_view dropped_base = dropped_name.substr(0, dropped_name.size() - kTotalSuffix.size());
  AppendHeader(out, om ? dropped_base : dropped_name, "counter",
               "Label combinations that exceeded the per-family series cap (recorded into an "
               "unexposed overflow cell).",
               om);
  out += dropped_name;
  AppendLabels(out, const_labels, {}, {});
  out.push_back(' ');
  AppendUint(out, series_dropped());
  out.push_back('\n');

  if (om) out += "# EOF\n";
  return out;
}

}  // namespace chat::telemetry

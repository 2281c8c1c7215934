#include "chat/telemetry/sdk/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace chat::telemetry::sdk {
namespace {

class AlwaysOnSampler final : public Sampler {
 public:
  SamplingDecision ShouldSample(const SpanContext&, const TraceId&, std::string_view,
                                SpanKind) const override {
    return SamplingDecision::kRecordAndSample;
  }
  std::string Description() const override { return "AlwaysOnSampler"; }
};

class AlwaysOffSampler final : public Sampler {
 public:
  SamplingDecision ShouldSample(const SpanContext&, const TraceId&, std::string_view,
                                SpanKind) const override {
    return SamplingDecision::kDrop;
  }
  std::string Description() const override { return "AlwaysOffSampler"; }
};

constexpr uint64_t kRandomnessBits = 56;
constexpr uint64_t kMaxThreshold = uint64_t{1} << kRandomnessBits;

class TraceIdRatioSampler final : public Sampler {
 public:
  explicit TraceIdRatioSampler(double ratio) : ratio_(std::clamp(ratio, 0.0, 1.0)) {
    // Sample when the trace's randomness R (56 rightmost bits) is >= T = (1 - ratio) * 2^56.
    double t = std::ceil((1.0 - ratio_) * static_cast<double>(kMaxThreshold));
    threshold_ = t >= static_cast<double>(kMaxThreshold) ? kMaxThreshold : static_cast<uint64_t>(t);
  }
  SamplingDecision ShouldSample(const SpanContext&, const TraceId& trace_id, std::string_view,
                                SpanKind) const override {
    uint64_t r = 0;
    for (size_t i = 9; i < 16; ++i) r = (r << 8) | trace_id.bytes[i];
    return r >= threshold_ ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop;
  }
  std::string Description() const override {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "TraceIdRatioBased{%.6f}", ratio_);
    return buf;
  }

 private:
  double ratio_;
  uint64_t threshold_ = 0;
};

class ParentBasedSampler final : public Sampler {
 public:
  explicit ParentBasedSampler(std::unique_ptr<Sampler> root) : root_(std::move(root)) {}
  SamplingDecision ShouldSample(const SpanContext& parent, const TraceId& trace_id,
                                std::string_view name, SpanKind kind) const override {
    if (!parent.IsValid()) return root_->ShouldSample(parent, trace_id, name, kind);
    return parent.IsSampled() ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop;
  }
  std::string Description() const override {
    return "ParentBased{root=" + root_->Description() + "}";
  }

 private:
  std::unique_ptr<Sampler> root_;
};

}  // namespace

std::unique_ptr<Sampler> MakeAlwaysOnSampler() { return std::make_unique<AlwaysOnSampler>(); }
std::unique_ptr<Sampler> MakeAlwaysOffSampler() { return std::make_unique<AlwaysOffSampler>(); }
std::unique_ptr<Sampler> MakeTraceIdRatioSampler(double ratio) {
  return std::make_unique<TraceIdRatioSampler>(ratio);
}
std::unique_ptr<Sampler> MakeParentBasedSampler(std::unique_ptr<Sampler> root) {
  return std::make_unique<ParentBasedSampler>(std::move(root));
}

std::unique_ptr<Sampler> MakeSampler(std::string_view name, double arg) {
  if (name == "always_on") return MakeAlwaysOnSampler();
  if (name == "always_off") return MakeAlwaysOffSampler();
  if (name == "traceidratio") return MakeTraceIdRatioSampler(arg);
  if (name == "parentbased_always_on") return MakeParentBasedSampler(MakeAlwaysOnSampler());
  if (name == "parentbased_always_off") return MakeParentBasedSampler(MakeAlwaysOffSampler());
  if (name == "parentbased_traceidratio") {
    return MakeParentBasedSampler(MakeTraceIdRatioSampler(arg));
  }
  return nullptr;
}

}  // namespace chat::telemetry::sdk

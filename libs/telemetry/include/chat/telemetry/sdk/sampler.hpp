// Samplers of the OTel spec, selected by OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
// traceidratio is deterministic on the trace id (the 56 rightmost bits, as in the current OTel
// spec and W3C Trace Context level 2), so every service makes the same decision for a trace.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "chat/telemetry/trace.hpp"

namespace chat::telemetry::sdk {

std::unique_ptr<Sampler> MakeAlwaysOnSampler();
std::unique_ptr<Sampler> MakeAlwaysOffSampler();
// `ratio` is clamped to [0, 1].
std::unique_ptr<Sampler> MakeTraceIdRatioSampler(double ratio);
// Valid parent: follow its sampled flag (remote or local); no parent: ask `root`.
std::unique_ptr<Sampler> MakeParentBasedSampler(std::unique_ptr<Sampler> root);

// `name` is an OTEL_TRACES_SAMPLER value: always_on, always_off, traceidratio,
// parentbased_always_on, parentbased_always_off, parentbased_traceidratio. `arg` is the ratio
// (used by the *traceidratio samplers only). Unknown name → nullptr.
std::unique_ptr<Sampler> MakeSampler(std::string_view name, double arg = 1.0);

}  // namespace chat::telemetry::sdk

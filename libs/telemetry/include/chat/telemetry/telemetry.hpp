// The bundle of telemetry handles that libraries and handlers receive by reference.
// libs/natsx, libs/pg and runtime take a `const Telemetry&`; tests build one around in-memory
// exporters; `Telemetry::Noop()` serves code that runs without any set-up.
#pragma once

#include "chat/telemetry/log.hpp"
#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/trace.hpp"

namespace chat::telemetry {

struct Telemetry {
  Tracer tracer;
  Logger* logger = nullptr;           // never null in a built bundle
  MetricRegistry* metrics = nullptr;  // never null in a built bundle

  // Process-wide no-op bundle (no spans, stderr logs at INFO, a private registry).
  static const Telemetry& Noop();
};

}  // namespace chat::telemetry

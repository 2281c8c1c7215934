// The process-wide no-op bundle: function-local statics, built on first use, never destroyed
// before exit, so libraries and tests work without any set-up.
#include "chat/telemetry/telemetry.hpp"

namespace chat::telemetry {

const Telemetry& Telemetry::Noop() {
  static MetricRegistry registry;
  static Logger logger;
  static const Telemetry kNoop{Tracer(), &logger, &registry};
  return kNoop;
}

}  // namespace chat::telemetry

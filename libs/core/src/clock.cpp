#include "chat/core/clock.hpp"

namespace chat::core {
SystemClock& SystemClock::Instance() {
  static SystemClock clock;  // trivially destructible state: safe as a function-local static
  return clock;
}
}  // namespace chat::core

#include "chat/runtime/shutdown.hpp"

#include <pthread.h>

#include <ctime>

namespace chat::runtime {

TerminationSignals::TerminationSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

int TerminationSignals::Wait() const {
  int sig = 0;
  while (sigwait(&set_, &sig) != 0) {
  }
  return sig;
}

int TerminationSignals::WaitFor(std::chrono::milliseconds timeout) const {
  if (timeout.count() < 0) timeout = std::chrono::milliseconds(0);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec wait{};
  wait.tv_sec = static_cast<time_t>(secs.count());
  wait.tv_nsec = static_cast<long>((timeout - secs).count()) * 1'000'000L;
  int sig = sigtimedwait(&set_, nullptr, &wait);
  return sig > 0 ? sig : 0;
}

std::string_view SignalName(int sig) { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

}  // namespace chat::runtime

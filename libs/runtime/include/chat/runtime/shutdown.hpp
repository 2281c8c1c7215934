// ShutdownSignal: the one "stop now" a process has. ServiceMain owns it and fires it the moment
// SIGTERM/SIGINT arrives — also while the service is still starting — so every wait in a
// service (a start-up retry, a back-off between polls) waits on it with its own deadline instead
// of sleeping through a shutdown (docs/style.md rule 13: shutdown is prompt at any moment).
//
// TerminationSignals: SIGTERM/SIGINT taken synchronously, for ServiceMain and for every tool with
// its own main (exporters, telemetry-sink, chat-cli): no code ever runs in signal-handler context.
#pragma once

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <string_view>

namespace chat::runtime {

class ShutdownSignal {
 public:
  ShutdownSignal() = default;
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;
  ~ShutdownSignal() = default;

  // Idempotent; wakes every waiter. `signal` is the signal number (0 when not from a signal).
  void Request(int signal = 0) {
    {
      std::lock_guard lock(mu_);
      if (requested_) return;
      requested_ = true;
      signal_ = signal;
    }
    cv_.notify_all();
  }

  bool requested() const {
    std::lock_guard lock(mu_);
    return requested_;
  }
  int signal() const {
    std::lock_guard lock(mu_);
    return signal_;
  }

  // Waits until shutdown is requested or `timeout` passes; true when shutdown was requested
  // (the caller stops waiting and gives up what it was retrying).
  template <typename Rep, typename Period>
  bool WaitFor(std::chrono::duration<Rep, Period> timeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requested_; });
  }

  // Waits until shutdown is requested.
  void Wait() const {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return requested_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool requested_ = false;
  int signal_ = 0;
};

// Construct first thing in main(), before any thread exists: it blocks SIGTERM and SIGINT in the
// calling thread, every thread started afterwards inherits the mask, so the signals stay pending
// until Wait/WaitFor takes one (with sigwait, never an asynchronous handler).
class TerminationSignals {
 public:
  TerminationSignals();
  TerminationSignals(const TerminationSignals&) = delete;
  TerminationSignals& operator=(const TerminationSignals&) = delete;
  ~TerminationSignals() = default;

  // Blocks until SIGTERM or SIGINT arrives; returns its number.
  int Wait() const;
  // Waits up to `timeout`; the signal number, or 0 when none arrived in time.
  int WaitFor(std::chrono::milliseconds timeout) const;
  const sigset_t& set() const { return set_; }

 private:
  sigset_t set_{};
};

// "SIGINT" for SIGINT, "SIGTERM" otherwise (the only two TerminationSignals takes).
std::string_view SignalName(int sig);

}  // namespace chat::runtime

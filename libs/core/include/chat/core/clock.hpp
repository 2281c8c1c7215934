// Time as an injected dependency: code that reads time takes Clock&, tests pass FakeClock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace chat::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall clock, for timestamps that leave the process (spans, logs, wire payloads).
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic clock, for durations and deadlines.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;

  int64_t NowUnixNanos() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Now().time_since_epoch()).count();
  }
  int64_t NowUnixMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
  }
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::now();
  }
  // Process-wide instance; stateless, so sharing it is safe.
  static SystemClock& Instance();
};

// Starts at a fixed instant and moves only when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_unix_nanos = 1'700'000'000'000'000'000)
      : nanos_(start_unix_nanos) {}
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(nanos_.load())));
  }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::nanoseconds(nanos_.load())));
  }
  void Advance(std::chrono::nanoseconds d) { nanos_ += d.count(); }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace chat::core

// Tests never sleep blindly: they wait for a condition with a deadline (docs/style.md rule 14).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace chat::testing {

// Polls `cond` until it is true or `timeout` passes; returns the last result. The poll interval
// grows from 1 ms to 50 ms, so fast conditions return fast and slow ones do not spin.
inline bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(pause);  // a poll interval, not a blind wait
    if (pause < std::chrono::milliseconds(50)) pause *= 2;
  }
}

// One-shot event set from a callback thread and awaited with a deadline.
class Latch {
 public:
  void Set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool Wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

}  // namespace chat::testing

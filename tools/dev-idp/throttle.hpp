// LoginThrottle: a budget of failed sign-in attempts per key (an account, a client address),
// checked BEFORE the password is hashed, so a guesser — or a flood of unknown usernames — is
// refused for the price of a map lookup instead of a PBKDF2 run. Token bucket: `per_minute`
// failures may come at once, then one more every 60/per_minute seconds. An attempt reserves
// one unit up front (so concurrent guesses cannot overrun the budget) and a successful login
// gives it back: only failures cost. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "chat/core/clock.hpp"

namespace chat::devidp {

class LoginThrottle {
 public:
  LoginThrottle(int per_minute, const core::Clock& clock)
      : capacity_(per_minute), per_second_(per_minute / 60.0), clock_(clock) {}

  // Takes one unit from `key`'s budget; false (nothing taken) when it is spent, with the
  // whole seconds until the next unit in `retry_after_seconds` (at least 1).
  bool TryAcquire(const std::string& key, int64_t& retry_after_seconds);
  // Gives back the unit of a TryAcquire whose attempt succeeded (or was not attempted).
  void Release(const std::string& key);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  void RefillLocked(Bucket& b, std::chrono::steady_clock::time_point now) const;

  const double capacity_;
  const double per_second_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace chat::devidp

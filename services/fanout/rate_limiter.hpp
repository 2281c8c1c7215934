// RateLimiter: the per-user ingest limit of system.md §4.2/§6.2 — a fixed one-minute window in
// the RATE_LIMIT bucket (key {user}.{unixMinute}, value the decimal count) maintained with
// create / get / compare-and-set update, behind a circuit breaker (opens after N consecutive KV
// failures, half-opens after a pause, closes on the next success) and a fallback policy used
// whenever the bucket cannot answer. Thread-safe; each check runs on the caller's thread.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chat/core/clock.hpp"
#include "chat/runtime/kv.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"
#include "metrics.hpp"

namespace chat::fanout {

struct RateDecision {
  bool allowed = true;
  bool fallback = false;  // the bucket was not consulted or failed: the fallback policy decided
  bool circuit_open = false;
};

class RateLimiter {
 public:
  RateLimiter(runtime::KeyValue& kv, const core::Clock& clock, const FanoutConfig& config,
              FanoutMetrics& metrics);

  // Counts one ingest publish of `user` in the current minute. KV spans are children of
  // `parent`. Never fails: outages resolve through the fallback policy.
  RateDecision Check(std::string_view user, const telemetry::SpanContext& parent);

  bool circuit_open() const;

 private:
  enum class Outcome { kAllowed, kLimited, kFailed };
  Outcome Consult(const std::string& key, int64_t minute, const telemetry::SpanContext& parent);
  // Last (count, revision) this instance wrote or read per key of the current minute: lets the
  // next check go straight to the compare-and-set (one KV round trip instead of two) and answer
  // "limited" without the bucket, since a window's count never decreases.
  //
  // Between writes, an instance also counts locally (`unsynced`) and writes the sum only every
  // SyncBatch() messages or kSyncInterval per user, and on every message in the last fifth of
  // the limit, where exactness matters. At thousands of messages per second this removes one
  // JetStream write per message (the RATE_LIMIT update was a third of nats-server's work per
  // message); N instances can then overshoot a limit by at most N × SyncBatch() within a minute.
  struct Known {
    int64_t count = 0;  // value in the bucket at `revision`
    uint64_t revision = 0;
    int64_t unsynced = 0;  // accepted here since, not written yet
    std::chrono::steady_clock::time_point synced_at{};
  };
  int64_t SyncBatch() const { return std::max<int64_t>(1, limit_ / 20); }
  static constexpr std::chrono::milliseconds kSyncInterval{1000};
  bool Lookup(const std::string& key, int64_t minute, Known& out);
  void Remember(const std::string& key, int64_t minute, Known known);
  // Returns false while the breaker is open (and not ready for a half-open probe).
  bool MayConsult();
  void RecordSuccess();
  void RecordFailure();

  runtime::KeyValue& kv_;
  const core::Clock& clock_;
  const int64_t limit_;
  const RateLimitFallback fallback_;
  const int breaker_failures_;
  const std::chrono::milliseconds breaker_open_for_;
  FanoutMetrics& metrics_;

  // Checks of one user run one at a time in this instance (striped by user), so concurrent
  // handlers do not lose compare-and-set races against each other.
  std::array<std::mutex, 64> stripes_;
  std::mutex known_mu_;
  int64_t known_minute_ = -1;
  std::unordered_map<std::string, Known> known_;

  mutable std::mutex mu_;
  int consecutive_failures_ = 0;
  bool open_ = false;
  bool probing_ = false;
  std::chrono::steady_clock::time_point opened_at_{};
};

// The RATE_LIMIT key for `user` in `unix_minute`. Usernames may hold bytes a KV key may not
// ([-/_=.a-zA-Z0-9] only); those are written as "=XX" so a strange name cannot make every
// check fail and trip the breaker for everyone.
std::string RateLimitKey(std::string_view user, int64_t unix_minute);
// The same escaping for any key part (MSG_CACHE notifyIds hold the room).
std::string EscapeKeyPart(std::string_view part);
std::string UnescapeKeyPart(std::string_view part);

}  // namespace chat::fanout

#include "rate_limiter.hpp"

#include <charconv>
#include <functional>

namespace chat::fanout {

namespace {
constexpr int kMaxCasAttempts = 10;
constexpr char kHex[] = "0123456789ABCDEF";

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '/';
}
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace

std::string EscapeKeyPart(std::string_view part) {
  std::string out;
  out.reserve(part.size());
  for (char c : part) {
    if (IsKeyChar(c)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('=');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0x0F]);
    }
  }
  return out;
}

std::string UnescapeKeyPart(std::string_view part) {
  std::string out;
  out.reserve(part.size());
  for (size_t i = 0; i < part.size(); ++i) {
    if (part[i] == '=' && i + 2 < part.size()) {
      int hi = HexValue(part[i + 1]);
      int lo = HexValue(part[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(part[i]);
  }
  return out;
}

std::string RateLimitKey(std::string_view user, int64_t unix_minute) {
  return EscapeKeyPart(user) + "." + std::to_string(unix_minute);
}

RateLimiter::RateLimiter(runtime::KeyValue& kv, const core::Clock& clock,
                         const FanoutConfig& config, FanoutMetrics& metrics)
    : kv_(kv),
      clock_(clock),
      limit_(config.rate_limit_per_minute),
      fallback_(config.rate_limit_fallback),
      breaker_failures_(config.breaker_failures),
      breaker_open_for_(config.breaker_open_for),
      metrics_(metrics) {}

bool RateLimiter::circuit_open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

bool RateLimiter::MayConsult() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return true;
  if (probing_) return false;
  if (clock_.SteadyNow() - opened_at_ < breaker_open_for_) return false;
  probing_ = true;  // half-open: one probe at a time
  return true;
}

void RateLimiter::RecordSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  consecutive_failures_ = 0;
  probing_ = false;
  if (open_) {
    open_ = false;
    metrics_.circuit_open.Default().Set(0);
  }
}

void RateLimiter::RecordFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  ++consecutive_failures_;
  bool was_probe = probing_;
  probing_ = false;
  if (was_probe || (!open_ && consecutive_failures_ >= breaker_failures_)) {
    open_ = true;
    opened_at_ = clock_.SteadyNow();
    metrics_.circuit_open.Default().Set(1);
  }
}

bool RateLimiter::Lookup(const std::string& key, int64_t minute, Known& out) {
  std::lock_guard<std::mutex> lock(known_mu_);
  if (known_minute_ != minute) return false;
  auto it = known_.find(key);
  if (it == known_.end()) return false;
  out = it->second;
  return true;
}

void RateLimiter::Remember(const std::string& key, int64_t minute, Known known) {
  std::lock_guard<std::mutex> lock(known_mu_);
  if (known_minute_ != minute) {
    known_.clear();  // a new window: older keys are never consulted again
    known_minute_ = minute;
  }
  known_[key] = known;
}

RateLimiter::Outcome RateLimiter::Consult(const std::string& key, int64_t minute,
                                          const telemetry::SpanContext& parent) {
  const auto now = clock_.SteadyNow();
  Known known;
  int64_t pending = 0;  // accepted locally, not yet in the bucket
  if (Lookup(key, minute, known)) {
    const int64_t total = known.count + known.unsynced;
    if (total >= limit_) return Outcome::kLimited;
    const bool near_limit = total + 1 > limit_ - limit_ / 5;
    const bool due = known.unsynced + 1 >= SyncBatch() || now - known.synced_at >= kSyncInterval;
    if (!near_limit && !due) {
      ++known.unsynced;
      Remember(key, minute, known);
      return Outcome::kAllowed;
    }
    auto updated = kv_.Update(key, std::to_string(total + 1), known.revision, parent);
    if (updated.ok()) {
      Remember(key, minute, {total + 1, *updated, 0, now});
      return Outcome::kAllowed;
    }
    if (updated.status().code() != core::ErrorCode::kAlreadyExists) {
      metrics_.rate_limit_errors.With({kKvUpdate}).Add();
      return Outcome::kFailed;
    }
    // Another instance counted in between: read the current value below, keeping ours.
    pending = known.unsynced;
  }
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    auto got = kv_.Get(key, parent);
    if (!got.ok()) {
      if (got.status().code() != core::ErrorCode::kNotFound) {
        metrics_.rate_limit_errors.With({kKvGet}).Add();
        return Outcome::kFailed;
      }
      auto created = kv_.Create(key, std::to_string(pending + 1), parent);
      if (created.ok()) {
        Remember(key, minute, {pending + 1, *created, 0, now});
        return Outcome::kAllowed;
      }
      if (created.status().code() == core::ErrorCode::kAlreadyExists) continue;  // raced: re-read
      metrics_.rate_limit_errors.With({kKvCreate}).Add();
      return Outcome::kFailed;
    }
    int64_t count = 0;
    const std::string& v = got->value;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), count);
    if (ec != std::errc() || ptr != v.data() + v.size() || count < 0) {
      count = 0;  // corrupt: restart
    }
    if (count + pending >= limit_) {
      Remember(key, minute, {count, got->revision, pending, now});
      return Outcome::kLimited;
    }
    auto updated = kv_.Update(key, std::to_string(count + pending + 1), got->revision, parent);
    if (updated.ok()) {
      Remember(key, minute, {count + pending + 1, *updated, 0, now});
      return Outcome::kAllowed;
    }
    if (updated.status().code() == core::ErrorCode::kAlreadyExists) continue;  // lost the CAS
    metrics_.rate_limit_errors.With({kKvUpdate}).Add();
    return Outcome::kFailed;
  }
  // Lost every compare-and-set to other instances counting the same user: the bucket works, it
  // is just contended; let the message through rather than refuse a user who may be under the
  // limit.
  return Outcome::kAllowed;
}

RateDecision RateLimiter::Check(std::string_view user, const telemetry::SpanContext& parent) {
  RateDecision d;
  if (!MayConsult()) {
    metrics_.rate_limit_errors.With({kKvCircuitOpen}).Add();
    d.fallback = true;
    d.circuit_open = true;
    d.allowed = fallback_ != RateLimitFallback::kBlock;
    return d;
  }
  int64_t minute = clock_.NowUnixMillis() / 60'000;
  Outcome o;
  {
    std::lock_guard<std::mutex> stripe(
        stripes_[std::hash<std::string_view>{}(user) % stripes_.size()]);
    o = Consult(RateLimitKey(user, minute), minute, parent);
  }
  if (o == Outcome::kFailed) {
    RecordFailure();
    d.fallback = true;
    d.circuit_open = circuit_open();
    d.allowed = fallback_ != RateLimitFallback::kBlock;
    return d;
  }
  RecordSuccess();
  d.allowed = o == Outcome::kAllowed;
  return d;
}

}  // namespace chat::fanout

// FanoutConfig: fanout-service settings (system.md §6.2), read once at start-up through
// core::EnvReader so every problem is reported together and the process exits 2 before it
// connects anywhere (docs/style.md rule 11).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "chat/contracts/quotas.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::fanout {

// What ingest does when the RATE_LIMIT bucket cannot be used (KV error or open breaker).
enum class RateLimitFallback { kAllow, kBlock, kWarn };

struct FanoutConfig {
  int lru_capacity = 100;     // CHAT_FANOUT_LRU_CAPACITY: rooms kept in the membership LRU
  int workers = 32;           // CHAT_FANOUT_WORKERS: per-member delivery threads
  int queue_capacity = 1000;  // CHAT_FANOUT_QUEUE_CAPACITY: delivery jobs waiting for a worker
  // CHAT_FANOUT_RATE_LIMIT_PER_MINUTE. system.md clamps to 10000; we allow 1,000,000 because the
  // load generator sends thousands of messages per second from few users (README.md).
  int64_t rate_limit_per_minute = 60;
  // CHAT_FANOUT_RATE_LIMIT_FALLBACK
  RateLimitFallback rate_limit_fallback = RateLimitFallback::kAllow;
  // CHAT_FANOUT_HANDLER_CONCURRENCY: handler threads per queue-grouped route (handlers wait on
  // KV and room.members, so one libnats thread per route would serialise them). Each notification
  // waits for its MSG_CACHE put to be acknowledged; at 5,000 msg/s on the 2-core box 4 threads
  // queued notifications for 300+ ms (p50) while 16 kept p50 at 15 ms.
  int handler_concurrency = 16;
  // Ingest keeps one delivery thread per instance by default: with several, two messages of one
  // user can be republished out of order (an edit could overtake the message it edits).
  int ingest_concurrency = 1;
  std::chrono::milliseconds members_timeout{2000};  // CHAT_FANOUT_MEMBERS_TIMEOUT_MS
  // CHAT_FANOUT_STICKER_BASE_URL: a message's stickerUrl must name an image under it (issue 11 item
  // 14); the local stack serves the sticker set from nginx on the web client's origin.
  std::string sticker_base_url = "/stickers/";
  // CHAT_FANOUT_STICKER_CATALOGUE_TTL_MS: how long the set of known sticker images (from
  // sticker-service, StickerCatalogue) is used before it is reloaded. A URL not in the set
  // reloads it early, at most once per sticker_catalogue_miss_reload (fixed; tests shorten it).
  std::chrono::milliseconds sticker_catalogue_ttl{std::chrono::minutes(5)};
  std::chrono::milliseconds sticker_catalogue_miss_reload{std::chrono::seconds(10)};
  std::chrono::milliseconds sticker_catalogue_timeout{std::chrono::seconds(2)};  // per request
  // CHAT_FANOUT_KV_TIMEOUT_MS: JetStream API / KV wait. An unresponsive bucket holds an ingest
  // handler this long per operation until the breaker opens, so it stays short.
  std::chrono::milliseconds kv_timeout{1000};
  // Circuit breaker of the rate limiter (system.md §6.2; fixed, tests shorten them).
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_open_for{30000};
  // Bucket bounds (issue 11 item 6): CHAT_KV_MSG_CACHE_MAX_BYTES / _MAX_VALUE_SIZE and
  // CHAT_KV_RATE_LIMIT_MAX_BYTES / _MAX_VALUE_SIZE, defaults from contracts::jetstream::kBuckets.
  contracts::quotas::BucketLimits msg_cache_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketMsgCache);
  contracts::quotas::BucketLimits rate_limit_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketRateLimit);

  static core::Result<FanoutConfig> FromEnv(const core::Env& env);
};

std::string_view RateLimitFallbackName(RateLimitFallback fallback);

}  // namespace chat::fanout

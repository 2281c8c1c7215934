#include "config.hpp"

#include "chat/contracts/messages.hpp"

namespace chat::fanout {

std::string_view RateLimitFallbackName(RateLimitFallback fallback) {
  switch (fallback) {
    case RateLimitFallback::kAllow: return "allow";
    case RateLimitFallback::kBlock: return "block";
    case RateLimitFallback::kWarn: return "warn";
  }
  return "allow";
}

core::Result<FanoutConfig> FanoutConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  FanoutConfig c;
  c.lru_capacity = static_cast<int>(reader.Int("CHAT_FANOUT_LRU_CAPACITY", 100, 1, 1'000'000));
  c.workers = static_cast<int>(reader.Int("CHAT_FANOUT_WORKERS", 32, 1, 1024));
  c.queue_capacity = static_cast<int>(reader.Int("CHAT_FANOUT_QUEUE_CAPACITY", 1000, 1, 1'000'000));
  c.rate_limit_per_minute = reader.Int("CHAT_FANOUT_RATE_LIMIT_PER_MINUTE", 60, 1, 1'000'000);
  std::string fallback =
      reader.Enum("CHAT_FANOUT_RATE_LIMIT_FALLBACK", "allow", {"allow", "block", "warn"});
  if (fallback == "block") {
    c.rate_limit_fallback = RateLimitFallback::kBlock;
  } else if (fallback == "warn") {
    c.rate_limit_fallback = RateLimitFallback::kWarn;
  } else {
    c.rate_limit_fallback = RateLimitFallback::kAllow;
  }
  c.handler_concurrency =
      static_cast<int>(reader.Int("CHAT_FANOUT_HANDLER_CONCURRENCY", 16, 1, 64));
  c.ingest_concurrency = static_cast<int>(reader.Int("CHAT_FANOUT_INGEST_CONCURRENCY", 1, 1, 64));
  c.members_timeout =
      reader.Millis("CHAT_FANOUT_MEMBERS_TIMEOUT_MS", std::chrono::milliseconds(2000));
  if (c.members_timeout.count() <= 0) {
    reader.AddProblem("CHAT_FANOUT_MEMBERS_TIMEOUT_MS must be > 0");
  }
  c.kv_timeout = reader.Millis("CHAT_FANOUT_KV_TIMEOUT_MS", std::chrono::milliseconds(1000));
  c.sticker_catalogue_ttl =
      reader.Millis("CHAT_FANOUT_STICKER_CATALOGUE_TTL_MS", std::chrono::milliseconds(300000));
  if (c.kv_timeout.count() <= 0) reader.AddProblem("CHAT_FANOUT_KV_TIMEOUT_MS must be > 0");
  c.sticker_base_url = reader.String("CHAT_FANOUT_STICKER_BASE_URL", "/stickers/");
  if (!contracts::IsValidStickerBaseUrl(c.sticker_base_url)) {
    reader.AddProblem(
        "CHAT_FANOUT_STICKER_BASE_URL must be an http(s) URL or an absolute path ending with '/'");
  }
  c.msg_cache_limits =
      contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketMsgCache);
  c.rate_limit_limits =
      contracts::quotas::ReadBucketLimits(reader, contracts::jetstream::kBucketRateLimit);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::fanout

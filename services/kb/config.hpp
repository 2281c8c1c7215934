// kb-service configuration (README.md "Configuration"), read once at start-up with
// core::EnvReader; invalid settings exit 2 before anything connects.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "chat/contracts/quotas.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::kb_service {

struct KbConfig {
  std::string database_url;  // DATABASE_URL (required; never logged)
  size_t db_pool_size = 4;   // CHAT_KB_DB_POOL_SIZE
  // CHAT_KB_CONCURRENCY: handler threads sharing the instance's kb-workers subscription
  // (handlers wait on Postgres and KV).
  int concurrency = 4;
  // CHAT_KB_MAX_TITLE_BYTES / CHAT_KB_MAX_CONTENT_BYTES: a longer title or page (the HTML as
  // sent, and again after sanitising) is refused with invalid_argument naming the limit.
  size_t max_title_bytes = 200;
  size_t max_content_bytes = size_t{48} * 1024;
  // CHAT_KB_MAX_PAGES_PER_ROOM: create is refused (resource_exhausted) beyond it.
  int64_t max_pages_per_room = 1000;
  // CHAT_KB_EDITING_TTL_SECONDS: KB_EDITORS max age — an editor whose browser stops refreshing
  // its key (every 20 s while a page is open) drops out after this long.
  std::chrono::seconds editing_ttl{60};
  // CHAT_KB_EDITORS_GAUGE_INTERVAL_MS: how often kb_active_editors is recounted from the bucket
  // (expiries produce no event, so the gauge is polled).
  std::chrono::milliseconds editors_gauge_interval{10000};
  // Bucket bounds (issue 11 item 6): CHAT_KV_KB_EDITORS_MAX_BYTES / _MAX_VALUE_SIZE, and
  // CHAT_KV_ROOMS_MAX_BYTES / _MAX_VALUE_SIZE for ROOMS when this service creates it first.
  contracts::quotas::BucketLimits kb_editors_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketKbEditors);
  contracts::quotas::BucketLimits rooms_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketRooms);

  static core::Result<KbConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::kb_service

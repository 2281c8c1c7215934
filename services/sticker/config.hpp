// sticker-service configuration (README.md "Configuration"), read once at start-up with
// core::EnvReader; invalid settings exit 2 before anything connects.
#pragma once

#include <cstddef>
#include <string>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::sticker_service {

struct StickerConfig {
  std::string database_url;  // DATABASE_URL (required; never logged)
  size_t db_pool_size = 2;   // CHAT_STICKER_DB_POOL_SIZE
  // CHAT_STICKER_BASE_URL (was STICKER_BASE_URL): where the images are served, normalised to end
  // with exactly one '/'. A same-origin path by default, so a sticker is never fetched from a
  // host other than the chat's own (fanout-service's CHAT_FANOUT_STICKER_BASE_URL must match).
  std::string base_url = "/stickers/";

  static core::Result<StickerConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::sticker_service

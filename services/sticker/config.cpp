#include "config.hpp"

#include "chat/contracts/messages.hpp"

namespace chat::sticker_service {

core::Result<StickerConfig> StickerConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  StickerConfig c;
  c.database_url = reader.RequiredString("DATABASE_URL");
  c.db_pool_size = static_cast<size_t>(reader.Int("CHAT_STICKER_DB_POOL_SIZE", 2, 1, 32));
  // system.md writes URLs as base + "/" + file, so the reference's base has no trailing '/';
  // accept either spelling and keep one '/' (the form IsAllowedStickerUrl compares against).
  std::string base = reader.String("CHAT_STICKER_BASE_URL", "/stickers");
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  c.base_url = base == "/" ? base : base + "/";
  if (!contracts::IsValidStickerBaseUrl(c.base_url)) {
    reader.AddProblem(
        "CHAT_STICKER_BASE_URL must be an http(s) URL or an absolute path, e.g. /stickers");
  }
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::sticker_service

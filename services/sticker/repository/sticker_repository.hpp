// SQL of sticker-service (system.md §5.2 tables 5-6): the packs and one pack's stickers, as the
// stored rows (relative paths; the handler turns them into URLs). Each call is one libs/pg
// statement and one CLIENT span (`SELECT sticker_products`, `SELECT stickers`).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"

namespace chat::sticker_service {

struct ProductRow {
  std::string id;
  std::string name;
  std::string thumbnail;  // relative to the sticker root: "<pack>/thumb.svg"
};

struct StickerRow {
  std::string id;
  std::string image_file;  // relative to the pack's directory: "happy.svg"
};

class StickerRepository {
 public:
  explicit StickerRepository(std::unique_ptr<pg::Pool> pool);

  // One eager connection attempt. Errors: unavailable, invalid_argument (bad DSN).
  static core::Result<std::unique_ptr<StickerRepository>> Connect(
      const StickerConfig& config, const telemetry::Telemetry& telemetry);

  // Every pack, by name (then id, so equal names keep a stable order).
  core::Result<std::vector<ProductRow>> Products(const telemetry::SpanContext& parent);
  // The pack's stickers by sort order (then id); nullopt when no such pack exists, so an unknown
  // pack and an empty one are told apart in one round trip.
  core::Result<std::optional<std::vector<StickerRow>>> Stickers(
      const telemetry::SpanContext& parent, std::string_view product);

 private:
  std::unique_ptr<pg::Pool> pool_;
};

}  // namespace chat::sticker_service

#include "repository/sticker_repository.hpp"

#include <utility>

#include "chat/pg/statement.hpp"

namespace chat::sticker_service {
namespace {

constexpr pg::Statement kProducts{
    "sticker_products_list", "SELECT id, name, thumbnail FROM sticker_products ORDER BY name, id",
    "SELECT", "sticker_products"};
// The pack row LEFT JOINed to its stickers: no row = unknown pack; one row with NULL sticker
// columns = a pack without stickers.
constexpr pg::Statement kStickers{
    "stickers_of_product",
    "SELECT s.id, s.image_file FROM sticker_products p LEFT JOIN stickers s ON s.product_id = "
    "p.id WHERE p.id = $1 ORDER BY s.sort_order, s.id",
    "SELECT", "stickers"};

}  // namespace

StickerRepository::StickerRepository(std::unique_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

core::Result<std::unique_ptr<StickerRepository>> StickerRepository::Connect(
    const StickerConfig& config, const telemetry::Telemetry& telemetry) {
  pg::PoolOptions options;
  options.dsn = config.database_url;
  options.size = config.db_pool_size;
  options.connect_eagerly = true;
  options.application_name = "sticker-service";
  CHAT_ASSIGN_OR_RETURN(auto pool, pg::Pool::Create(std::move(options), telemetry));
  return std::make_unique<StickerRepository>(std::move(pool));
}

core::Result<std::vector<ProductRow>> StickerRepository::Products(
    const telemetry::SpanContext& parent) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kProducts));
  std::vector<ProductRow> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) {
    out.push_back(
        {std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1)), std::string(rows.Text(i, 2))});
  }
  return out;
}

core::Result<std::optional<std::vector<StickerRow>>> StickerRepository::Stickers(
    const telemetry::SpanContext& parent, std::string_view product) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kStickers, {product}));
  if (rows.RowCount() == 0) return std::optional<std::vector<StickerRow>>();
  std::vector<StickerRow> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) {
    if (rows.IsNull(i, 0)) continue;  // the pack exists but has no stickers
    out.push_back({std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1))});
  }
  return std::optional<std::vector<StickerRow>>(std::move(out));
}

}  // namespace chat::sticker_service

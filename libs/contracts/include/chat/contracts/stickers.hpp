// sticker-service wire types (system.md §3.3.7): the sticker packs (stickers.products) and one
// pack's stickers (stickers.product.{product}). Both replies are bare JSON arrays; the URLs are
// built by the service from its STICKER_BASE_URL and the stored relative file, so a client never
// sees a URL the database chose.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// A pack id or sticker id is 1-64 bytes of [a-z0-9-] (the column is varchar(64), and a pack id
// is the {product} token of stickers.product.{product}, so it must be a plain subject token).
inline constexpr std::size_t kMaxStickerIdBytes = 64;

// invalid_argument naming `what` ("sticker pack id", "sticker id") unless `id` is well formed.
core::Status ValidateStickerId(std::string_view id, std::string_view what = "sticker id");

// One pack: {"id","name","thumbnailUrl"}.
struct StickerProduct {
  std::string id;
  std::string name;
  std::string thumbnail_url;
  friend bool operator==(const StickerProduct&, const StickerProduct&) = default;
};

// stickers.products reply: every pack, by name.
struct StickerProductList {
  std::vector<StickerProduct> products;
  friend bool operator==(const StickerProductList&, const StickerProductList&) = default;
};

// One sticker: {"id","imageUrl"}.
struct Sticker {
  std::string id;
  std::string image_url;
  friend bool operator==(const Sticker&, const Sticker&) = default;
};

// stickers.product.{product} reply: the pack's stickers by sort order.
struct StickerList {
  std::vector<Sticker> stickers;
  friend bool operator==(const StickerList&, const StickerList&) = default;
};

std::string ToJson(const StickerProductList& v);
std::string ToJson(const StickerList& v);

template <>
core::Result<StickerProductList> FromJson<StickerProductList>(std::string_view json);
template <>
core::Result<StickerList> FromJson<StickerList>(std::string_view json);

}  // namespace chat::contracts

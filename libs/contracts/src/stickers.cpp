#include "chat/contracts/stickers.hpp"

#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

core::Status ValidateStickerId(std::string_view id, std::string_view what) {
  if (id.empty() || id.size() > kMaxStickerIdBytes) {
    return core::InvalidArgument(std::string(what) + " must be 1-64 bytes");
  }
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return core::InvalidArgument(std::string(what) + " may contain only a-z, 0-9 and '-'");
    }
  }
  return core::Status();
}

namespace {

void IdField(Reader& r, std::string& out, std::string_view what) {
  r.Str("id", out, Need::kNonEmpty, kMaxStickerIdBytes);
  if (r.ok()) r.Check("id", ValidateStickerId(out, what));
}

core::Status DecodeProduct(const Json& j, const std::string& path, StickerProduct& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  IdField(r, v.id, "sticker pack id");
  r.Str("name", v.name, Need::kNonEmpty);
  r.Str("thumbnailUrl", v.thumbnail_url, Need::kNonEmpty, internal::kMaxUrlBytes);
  return r.status();
}

core::Status DecodeSticker(const Json& j, const std::string& path, Sticker& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  IdField(r, v.id, "sticker id");
  r.Str("imageUrl", v.image_url, Need::kNonEmpty, internal::kMaxUrlBytes);
  return r.status();
}

}  // namespace

std::string ToJson(const StickerProductList& v) {
  Json a = Json::array();
  for (const auto& p : v.products) {
    Json j = Json::object();
    j["id"] = p.id;
    j["name"] = p.name;
    j["thumbnailUrl"] = p.thumbnail_url;
    a.push_back(std::move(j));
  }
  return internal::Dump(a);
}

std::string ToJson(const StickerList& v) {
  Json a = Json::array();
  for (const auto& s : v.stickers) {
    Json j = Json::object();
    j["id"] = s.id;
    j["imageUrl"] = s.image_url;
    a.push_back(std::move(j));
  }
  return internal::Dump(a);
}

template <>
core::Result<StickerProductList> FromJson<StickerProductList>(std::string_view json) {
  return internal::DecodeTop<StickerProductList>(
      json, "StickerProductList",
      [](const Json& j, const std::string& path, StickerProductList& v) {
        return internal::DecodeArray(j, path, v.products, DecodeProduct);
      });
}

template <>
core::Result<StickerList> FromJson<StickerList>(std::string_view json) {
  return internal::DecodeTop<StickerList>(
      json, "StickerList", [](const Json& j, const std::string& path, StickerList& v) {
        return internal::DecodeArray(j, path, v.stickers, DecodeSticker);
      });
}

}  // namespace chat::contracts

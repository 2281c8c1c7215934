#include "sticker_catalogue.hpp"

#include <utility>

#include "chat/contracts/replies.hpp"
#include "chat/contracts/stickers.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::fanout {

namespace subjects = contracts::subjects;

StickerCatalogue::StickerCatalogue(Options options, const core::Clock& clock)
    : options_(options), clock_(clock) {}

std::size_t StickerCatalogue::size() const {
  std::lock_guard lock(mu_);
  return urls_ ? urls_->size() : 0;
}

core::Result<std::shared_ptr<const StickerCatalogue::UrlSet>> StickerCatalogue::Fetch(
    runtime::RequestContext& ctx) const {
  CHAT_ASSIGN_OR_RETURN(natsx::Message products_msg,
                        ctx.Request(subjects::kStickerProducts, {}, "", options_.timeout));
  CHAT_ASSIGN_OR_RETURN(
      auto products, contracts::FromReply<contracts::StickerProductList>(products_msg.payload()));
  if (products.products.size() > kMaxPacks) {
    ctx.log().Warn(ctx.span_context(), "sticker catalogue truncated",
                   {{"chat.sticker.packs", static_cast<int64_t>(products.products.size())}});
    products.products.resize(kMaxPacks);
  }
  auto urls = std::make_shared<UrlSet>();
  for (const auto& pack : products.products) {
    CHAT_ASSIGN_OR_RETURN(natsx::Message pack_msg,
                          ctx.Request(subjects::kStickerProduct, {pack.id}, "", options_.timeout));
    CHAT_ASSIGN_OR_RETURN(auto stickers,
                          contracts::FromReply<contracts::StickerList>(pack_msg.payload()));
    for (auto& s : stickers.stickers) urls->insert(std::move(s.image_url));
  }
  return std::shared_ptr<const UrlSet>(std::move(urls));
}

void StickerCatalogue::Reload(runtime::RequestContext& ctx,
                              std::optional<std::chrono::steady_clock::time_point> seen) {
  std::lock_guard load(load_mu_);
  {
    std::lock_guard lock(mu_);
    if (tried_at_ != seen) return;  // another handler loaded (or tried) while we waited
    tried_at_ = clock_.SteadyNow();
  }
  auto fetched = Fetch(ctx);
  if (!fetched.ok()) {
    // The previous set (if any) stays in use; the next reload is due after miss_reload.
    ctx.span().AddEvent("sticker_catalogue_unavailable");
    ctx.log().Warn(ctx.span_context(), "sticker catalogue could not be loaded",
                   {{"error.type", std::string(core::ErrorCodeName(fetched.status().code()))}});
    return;
  }
  ctx.span().AddEvent("sticker_catalogue_loaded",
                      {{"chat.sticker.count", static_cast<int64_t>((*fetched)->size())}});
  std::lock_guard lock(mu_);
  urls_ = std::move(*fetched);
  loaded_at_ = tried_at_;
}

core::Result<bool> StickerCatalogue::Contains(std::string_view url, runtime::RequestContext& ctx) {
  const auto now = clock_.SteadyNow();
  std::shared_ptr<const UrlSet> urls;
  std::optional<std::chrono::steady_clock::time_point> tried;
  bool stale = false;
  {
    std::lock_guard lock(mu_);
    urls = urls_;
    tried = tried_at_;
    stale = !loaded_at_ || now - *loaded_at_ >= options_.ttl;
  }
  // Reload when the set is missing or old, or when this URL is not in it (a pack added since the
  // last load becomes usable before the ttl) — but never sooner than miss_reload after the last
  // try: while sticker-service is down, stickers are refused at once instead of each waiting for
  // the request timeout.
  const bool may_retry = !tried || now - *tried >= options_.miss_reload;
  const bool known = urls != nullptr && urls->count(std::string(url)) > 0;
  if (may_retry && (urls == nullptr || stale || !known)) {
    Reload(ctx, tried);
    std::lock_guard lock(mu_);
    urls = urls_;
  }
  if (urls == nullptr) return core::Unavailable("the sticker catalogue is unavailable");
  return urls->count(std::string(url)) > 0;
}

}  // namespace chat::fanout

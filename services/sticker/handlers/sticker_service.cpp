#include "handlers/sticker_service.hpp"

#include <optional>
#include <utility>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::sticker_service {
namespace {

namespace subjects = contracts::subjects;
using runtime::Dispatcher;
using runtime::RequestContext;

core::Status CheckIgnoredBody(RequestContext& ctx) {
  if (ctx.payload().size() > kMaxIgnoredBodyBytes) {
    return core::InvalidArgument("request body exceeds " + std::to_string(kMaxIgnoredBodyBytes) +
                                 " bytes; sticker requests take none");
  }
  return core::Status();
}

}  // namespace

StickerService::StickerService(StickerConfig config, runtime::Bus& bus, const core::Clock& clock)
    : config_(std::move(config)),
      metrics_(StickerMetrics::Create(*bus.telemetry().metrics)),
      dispatcher_(std::make_unique<Dispatcher>(bus, clock)) {}

StickerService::~StickerService() { dispatcher_.reset(); }

core::Result<std::unique_ptr<StickerService>> StickerService::Create(const StickerConfig& config,
                                                                     runtime::Bus& bus,
                                                                     const core::Clock& clock) {
  std::unique_ptr<StickerService> s(new StickerService(config, bus, clock));
  CHAT_ASSIGN_OR_RETURN(s->repo_, StickerRepository::Connect(config, bus.telemetry()));
  CHAT_RETURN_IF_ERROR(s->Register());
  return s;
}

core::Status StickerService::Register() {
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<runtime::IgnoredBody>(
      subjects::kStickerProducts, {.metrics = &metrics_->products},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return HandleProducts(ctx); }));
  return dispatcher_->Serve<runtime::IgnoredBody>(
      subjects::kStickerProduct, {.metrics = &metrics_->stickers},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return HandleProduct(ctx); });
}

std::optional<std::string> StickerService::Url(RequestContext& ctx, std::string_view id,
                                               const std::string& relative) const {
  std::string url = config_.base_url + relative;
  if (contracts::IsAllowedStickerUrl(url, config_.base_url)) return url;
  ctx.span().AddEvent("sticker_skipped");
  // The stored path is not logged: it is whatever a bad row holds. The id names the row.
  ctx.log().Error(ctx.span_context(), "sticker row with an unusable image path skipped",
                  {{"chat.sticker.id", std::string(id)}});
  return std::nullopt;
}

core::Result<contracts::StickerProductList> StickerService::HandleProducts(RequestContext& ctx) {
  CHAT_RETURN_IF_ERROR(CheckIgnoredBody(ctx));
  CHAT_ASSIGN_OR_RETURN(std::vector<ProductRow> rows, repo_->Products(ctx.span_context()));
  contracts::StickerProductList reply;
  reply.products.reserve(rows.size());
  for (auto& row : rows) {
    auto url = Url(ctx, row.id, row.thumbnail);
    if (!url) continue;
    reply.products.push_back({std::move(row.id), std::move(row.name), std::move(*url)});
  }
  return reply;
}

core::Result<contracts::StickerList> StickerService::HandleProduct(RequestContext& ctx) {
  CHAT_RETURN_IF_ERROR(CheckIgnoredBody(ctx));
  const std::string product(ctx.Arg("product"));
  CHAT_RETURN_IF_ERROR(contracts::ValidateStickerId(product, "sticker pack id"));
  CHAT_ASSIGN_OR_RETURN(auto rows, repo_->Stickers(ctx.span_context(), product));
  if (!rows) {
    // The reference answered [] here; a client that asks for a pack that does not exist made a
    // mistake, and `[]` would read as an empty pack. Counted with the other bad input.
    ctx.SetResult("invalid");
    return core::NotFound("unknown sticker pack");
  }
  contracts::StickerList reply;
  reply.stickers.reserve(rows->size());
  for (auto& row : *rows) {
    // Sticker files live in their pack's directory (system.md §5.2: "<product>/<file>").
    auto url = Url(ctx, row.id, product + "/" + row.image_file);
    if (!url) continue;
    reply.stickers.push_back({std::move(row.id), std::move(*url)});
  }
  return reply;
}

void StickerService::Drain(std::chrono::milliseconds timeout) { dispatcher_->Drain(timeout); }

}  // namespace chat::sticker_service

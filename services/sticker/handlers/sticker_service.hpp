// sticker-service (system.md §3.3.7, §6.9): the sticker packs (stickers.products) and one pack's
// stickers (stickers.product.{product}) from the seeded catalogue tables. Read only and
// stateless. Every URL in a reply is built here from the configured base and a stored relative
// path, so a reply only ever points at our own images (fanout-service admits a sticker message
// only under the same base).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/stickers.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "repository/sticker_repository.hpp"

namespace chat::sticker_service {

// Both requests take no body (system.md: "empty"); a body is ignored up to this size and
// refused beyond it, so nobody pushes megabytes through a catalogue read.
inline constexpr std::size_t kMaxIgnoredBodyBytes = 1024;

class StickerService final : public runtime::Service {
 public:
  // Connects the pool, then serves the two routes. `bus` and `clock` must outlive it.
  static core::Result<std::unique_ptr<StickerService>> Create(const StickerConfig& config,
                                                              runtime::Bus& bus,
                                                              const core::Clock& clock);
  ~StickerService() override;
  StickerService(const StickerService&) = delete;
  StickerService& operator=(const StickerService&) = delete;
  StickerService(StickerService&&) = delete;
  StickerService& operator=(StickerService&&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }

 private:
  StickerService(StickerConfig config, runtime::Bus& bus, const core::Clock& clock);
  core::Status Register();

  core::Result<contracts::StickerProductList> HandleProducts(runtime::RequestContext& ctx);
  core::Result<contracts::StickerList> HandleProduct(runtime::RequestContext& ctx);

  // base + `relative` when that is an image under the base; otherwise the row is skipped: an
  // ERROR line and a `sticker_skipped` span event name it (the 0006 constraints make this a
  // defect, not a user error, so the rest of the reply is still served).
  std::optional<std::string> Url(runtime::RequestContext& ctx, std::string_view id,
                                 const std::string& relative) const;

  StickerConfig config_;
  std::unique_ptr<StickerMetrics> metrics_;
  std::unique_ptr<StickerRepository> repo_;

  // Last member: destroyed first, so no handler runs while the rest is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

}  // namespace chat::sticker_service

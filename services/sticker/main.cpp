// sticker-service: the sticker catalogue (README.md). Wiring only.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/sticker_service.hpp"

int main() {
  using chat::sticker_service::StickerConfig;
  return chat::runtime::ServiceMain<StickerConfig>(
      {"sticker-service", 9409}, [](chat::runtime::ServiceContext& ctx, StickerConfig& config) {
        return chat::sticker_service::StickerService::Create(config, ctx.bus(), ctx.clock());
      });
}

// translation-service: streams translations of chat messages (README.md). Wiring only.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/translation_service.hpp"

int main() {
  using chat::translation_service::TranslationConfig;
  return chat::runtime::ServiceMain<TranslationConfig>(
      {"translation-service", 9408},
      [](chat::runtime::ServiceContext& ctx, TranslationConfig& config) {
        return chat::translation_service::TranslationService::Create(config, ctx.bus(),
                                                                     ctx.clock());
      });
}

// kb-service: the knowledge base app's pages and editing presence (README.md). Wiring only.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/kb_service.hpp"

int main() {
  using chat::kb_service::KbConfig;
  return chat::runtime::ServiceMain<KbConfig>(
      {"kb-service", 9414}, [](chat::runtime::ServiceContext& ctx, KbConfig& config) {
        return chat::kb_service::KbService::Create(config, ctx.bus(), ctx.clock());
      });
}

// app-registry-service: the app catalogue and per-room installations (README.md). Wiring only.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/app_registry_service.hpp"

int main() {
  using chat::app_registry_service::AppRegistryConfig;
  return chat::runtime::ServiceMain<AppRegistryConfig>(
      {"app-registry-service", 9411},
      [](chat::runtime::ServiceContext& ctx, AppRegistryConfig& config) {
        return chat::app_registry_service::AppRegistryService::Create(config, ctx.bus(),
                                                                      ctx.clock());
      });
}

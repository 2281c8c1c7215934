// history-service: paged room, thread and DM-discovery history (README.md). Wiring only.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/history_service.hpp"

int main() {
  using chat::history_service::HistoryConfig;
  return chat::runtime::ServiceMain<HistoryConfig>(
      {"history-service", 9404}, [](chat::runtime::ServiceContext& ctx, HistoryConfig& config) {
        return chat::history_service::HistoryService::Create(config, ctx.bus(), ctx.clock());
      });
}

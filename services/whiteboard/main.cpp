// whiteboard-service: shared drawing boards per room (README.md). Wiring only.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/whiteboard_service.hpp"

int main() {
  using chat::whiteboard_service::WhiteboardConfig;
  return chat::runtime::ServiceMain<WhiteboardConfig>(
      {"whiteboard-service", 9413},
      [](chat::runtime::ServiceContext& ctx, WhiteboardConfig& config) {
        return chat::whiteboard_service::WhiteboardService::Create(config, ctx.bus(), ctx.clock());
      });
}

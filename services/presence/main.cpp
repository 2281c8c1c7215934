// presence-service: heartbeats, status updates, per-room presence diffs and queries.
// Wiring only; the logic lives in chat_presence_service (README.md).
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "presence_service.hpp"

int main() {
  using chat::presence_service::PresenceConfig;
  return chat::runtime::ServiceMain<PresenceConfig>(
      {"presence-service", 9406}, [](chat::runtime::ServiceContext& ctx, PresenceConfig& config) {
        return chat::presence_service::PresenceService::Create(config, ctx.bus(), ctx.telemetry(),
                                                               ctx.clock(), &ctx.shutdown());
      });
}

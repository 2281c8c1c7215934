// room-service: live room membership (ROOMS KV + room.changed deltas) and private-room
// management (Postgres). Wiring only; the logic lives in chat_room_service (README.md).
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "service.hpp"

int main() {
  using chat::room_service::RoomConfig;
  return chat::runtime::ServiceMain<RoomConfig>(
      {"room-service", 9405}, [](chat::runtime::ServiceContext& ctx, RoomConfig& config) {
        return chat::room_service::RoomService::Create(config, ctx.bus(), ctx.telemetry(),
                                                       ctx.clock(), &ctx.shutdown());
      });
}

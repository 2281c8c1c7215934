// room-service: live room membership (ROOMS KV + room.changed deltas) and private-room
// management (Postgres). Wiring only; the logic lives in chat_room_service (README.md).
#include <cstdio>
#include <memory>

#include "chat/core/env.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "service.hpp"

int main() {
  // Our settings are validated before ServiceMain builds anything (exit 2, one sentence).
  chat::core::ProcessEnv env;
  auto config = chat::room_service::RoomConfig::FromEnv(env);
  if (!config.ok()) {
    std::fprintf(stderr, "room-service: %s\n", config.status().message().c_str());
    return 2;
  }
  return chat::runtime::ServiceMain(
      {"room-service", 9405},
      [&](chat::runtime::ServiceContext& ctx)
          -> chat::core::Result<std::unique_ptr<chat::runtime::Service>> {
        CHAT_ASSIGN_OR_RETURN(auto service, chat::room_service::RoomService::Create(
                                                *config, ctx.nats(), ctx.telemetry(), ctx.clock(),
                                                &ctx.shutdown()));
        return std::unique_ptr<chat::runtime::Service>(std::move(service));
      });
}

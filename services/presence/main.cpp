// presence-service: heartbeats, status updates, per-room presence diffs and queries.
// Wiring only; the logic lives in chat_presence_service (README.md).
#include <cstdio>
#include <memory>

#include "chat/core/env.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "presence_service.hpp"

int main() {
  // Our settings are validated before ServiceMain builds anything (exit 2, one sentence).
  chat::core::ProcessEnv env;
  auto config = chat::presence_service::PresenceConfig::FromEnv(env);
  if (!config.ok()) {
    std::fprintf(stderr, "presence-service: %s\n", config.status().message().c_str());
    return 2;
  }
  return chat::runtime::ServiceMain(
      {"presence-service", 9406},
      [&](chat::runtime::ServiceContext& ctx)
          -> chat::core::Result<std::unique_ptr<chat::runtime::Service>> {
        CHAT_ASSIGN_OR_RETURN(auto service, chat::presence_service::PresenceService::Create(
                                                *config, ctx.nats(), ctx.telemetry(),
                                                ctx.clock(), &ctx.shutdown()));
        return std::unique_ptr<chat::runtime::Service>(std::move(service));
      });
}

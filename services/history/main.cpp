// history-service: paged room, thread and DM-discovery history (README.md). Wiring only.
#include <cstdio>
#include <memory>

#include "chat/core/env.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/history_service.hpp"

int main() {
  // Our settings are validated before ServiceMain builds anything (exit 2, one sentence).
  chat::core::ProcessEnv env;
  auto config = chat::history_service::HistoryConfig::FromEnv(env);
  if (!config.ok()) {
    std::fprintf(stderr, "history-service: %s\n", config.status().message().c_str());
    return 2;
  }
  return chat::runtime::ServiceMain(
      {"history-service", 9404},
      [&](chat::runtime::ServiceContext& ctx)
          -> chat::core::Result<std::unique_ptr<chat::runtime::Service>> {
        CHAT_ASSIGN_OR_RETURN(auto service, chat::history_service::HistoryService::Create(
                                                *config, ctx.nats(), ctx.clock()));
        return std::unique_ptr<chat::runtime::Service>(std::move(service));
      });
}

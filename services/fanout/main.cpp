// fanout-service: ingest, notify, admin/app fan-out and msg.get (README.md). Wiring only; the
// logic lives in chat_fanout_service.
#include <cstdio>
#include <memory>

#include "chat/core/env.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "service.hpp"

int main() {
  // Our settings are validated before ServiceMain builds anything (exit 2, one sentence).
  chat::core::ProcessEnv env;
  auto config = chat::fanout::FanoutConfig::FromEnv(env);
  if (!config.ok()) {
    std::fprintf(stderr, "fanout-service: %s\n", config.status().message().c_str());
    return 2;
  }
  return chat::runtime::ServiceMain(
      {"fanout-service", 9402},
      [&](chat::runtime::ServiceContext& ctx)
          -> chat::core::Result<std::unique_ptr<chat::runtime::Service>> {
        CHAT_ASSIGN_OR_RETURN(auto svc,
                              chat::fanout::FanoutService::Create(*config, ctx.nats(), ctx.clock()));
        return std::unique_ptr<chat::runtime::Service>(std::move(svc));
      });
}

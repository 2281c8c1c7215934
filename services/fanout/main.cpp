// fanout-service: ingest, notify, admin/app fan-out and msg.get (README.md). Wiring only; the
// logic lives in chat_fanout_service.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "service.hpp"

int main() {
  using chat::fanout::FanoutConfig;
  return chat::runtime::ServiceMain<FanoutConfig>(
      {"fanout-service", 9402}, [](chat::runtime::ServiceContext& ctx, FanoutConfig& config) {
        return chat::fanout::FanoutService::Create(config, ctx.bus(), ctx.clock());
      });
}

// poll-service: the poll app backend (README.md). Wiring only.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/poll_service.hpp"

int main() {
  using chat::poll_service::PollConfig;
  return chat::runtime::ServiceMain<PollConfig>(
      {"poll-service", 9412}, [](chat::runtime::ServiceContext& ctx, PollConfig& config) {
        return chat::poll_service::PollService::Create(config, ctx.bus(), ctx.clock());
      });
}

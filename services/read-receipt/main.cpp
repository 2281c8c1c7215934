// read-receipt-service: read positions per user and room, unread counts (README.md). Wiring only.
#include <cstdio>
#include <memory>

#include "chat/core/env.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/read_receipt_service.hpp"

int main() {
  // Our settings are validated before ServiceMain builds anything (exit 2, one sentence).
  chat::core::ProcessEnv env;
  auto config = chat::read_receipt_service::ReadReceiptConfig::FromEnv(env);
  if (!config.ok()) {
    std::fprintf(stderr, "read-receipt-service: %s\n", config.status().message().c_str());
    return 2;
  }
  return chat::runtime::ServiceMain(
      {"read-receipt-service", 9407},
      [&](chat::runtime::ServiceContext& ctx)
          -> chat::core::Result<std::unique_ptr<chat::runtime::Service>> {
        CHAT_ASSIGN_OR_RETURN(auto service,
                              chat::read_receipt_service::ReadReceiptService::Create(
                                  *config, ctx.nats(), ctx.clock()));
        return std::unique_ptr<chat::runtime::Service>(std::move(service));
      });
}

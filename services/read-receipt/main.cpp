// read-receipt-service: read positions per user and room, unread counts (README.md). Wiring only.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/read_receipt_service.hpp"

int main() {
  using chat::read_receipt_service::ReadReceiptConfig;
  return chat::runtime::ServiceMain<ReadReceiptConfig>(
      {"read-receipt-service", 9407},
      [](chat::runtime::ServiceContext& ctx, ReadReceiptConfig& config) {
        return chat::read_receipt_service::ReadReceiptService::Create(config, ctx.bus(),
                                                                      ctx.clock());
      });
}

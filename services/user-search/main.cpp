// user-search-service: the user directory search through the IdP's admin API (README.md).
// Wiring only.
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/user_search_service.hpp"

int main() {
  using chat::user_search_service::UserSearchConfig;
  return chat::runtime::ServiceMain<UserSearchConfig>(
      {"user-search-service", 9410},
      [](chat::runtime::ServiceContext& ctx, UserSearchConfig& config) {
        return chat::user_search_service::UserSearchService::Create(config, ctx.bus(), ctx.clock());
      });
}

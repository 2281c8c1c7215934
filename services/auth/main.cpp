// auth-service: issues short-lived NATS user JWTs for browser users (docs/decisions.md §4).
// Wiring only; the logic lives in chat_auth_service (README.md).
#include <cstdio>
#include <memory>

#include "chat/contracts/grant_audit.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "http_api.hpp"

namespace {

class AuthService final : public chat::runtime::Service {
 public:
  explicit AuthService(std::unique_ptr<chat::auth_service::AuthServer> server)
      : server_(std::move(server)) {}
  void Drain(std::chrono::milliseconds /*timeout*/) override { server_->Stop(); }

 private:
  std::unique_ptr<chat::auth_service::AuthServer> server_;
};

}  // namespace

int main() {
  // Never mint a grant that reaches past its own templates (a stream filter, a bucket, another
  // service's subscription): the catalogue is compiled in, so this only fails on a bad build.
  if (auto overlaps = chat::contracts::AuditGrants(); !overlaps.empty()) {
    for (const auto& o : overlaps) {
      std::fprintf(stderr, "auth-service: unsafe grant: %s\n",
                   chat::contracts::Describe(o).c_str());
    }
    return 2;
  }
  using chat::auth_service::AuthConfig;
  return chat::runtime::ServiceMain<AuthConfig>(
      {"auth-service", 9401, /*needs_nats=*/false},
      [](chat::runtime::ServiceContext& ctx,
         AuthConfig& config) -> chat::core::Result<std::unique_ptr<AuthService>> {
        CHAT_ASSIGN_OR_RETURN(auto server, chat::auth_service::AuthServer::Create(
                                               config, ctx.telemetry(), ctx.clock()));
        CHAT_RETURN_IF_ERROR(server->Start());
        std::printf("{\"event\":\"listening\",\"port\":%d}\n", server->port());
        std::fflush(stdout);
        ctx.logger().Info("auth-service listening", {{"server.port", server->port()}});
        chat::auth_service::AuthServer* raw = server.get();
        ctx.AddReadinessCheck("jwks", [raw] {
          return raw->Ready() ? chat::core::Status::Ok()
                              : chat::core::Unavailable("no JWKS key cached yet");
        });
        return std::make_unique<AuthService>(std::move(server));
      });
}

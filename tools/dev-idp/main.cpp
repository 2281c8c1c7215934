// dev-idp: the embedded development OpenID Connect issuer (docs/decisions.md §4). Production
// points auth-service at Keycloak instead; nothing else changes.
//
//   dev-idp                               serve (configuration from CHAT_IDP_* and OTEL_*)
//   dev-idp rotate-keys [--state-dir D]   add a signing key to the state dir (next start uses
//                                         it; a running server rotates via POST /admin/rotate-keys)
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "chat/core/env.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "key_store.hpp"
#include "server.hpp"

namespace {

using chat::devidp::IdpConfig;
using chat::devidp::IdpServer;

class IdpService final : public chat::runtime::Service {
 public:
  explicit IdpService(std::unique_ptr<IdpServer> server) : server_(std::move(server)) {}
  void Drain(std::chrono::milliseconds /*timeout*/) override { server_->Stop(); }

 private:
  std::unique_ptr<IdpServer> server_;
};

int RotateKeys(int argc, char** argv) {
  chat::core::ProcessEnv env;
  std::string dir = env.Get("CHAT_IDP_STATE_DIR").value_or("var/idp");
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: dev-idp rotate-keys [--state-dir DIR]\n");
      return 2;
    }
  }
  auto opened = chat::devidp::KeyStore::Open(dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "dev-idp: %s\n", opened.status().message().c_str());
    return 1;
  }
  auto kid = opened->store->Rotate();
  if (!kid.ok()) {
    std::fprintf(stderr, "dev-idp: %s\n", kid.status().message().c_str());
    return 1;
  }
  std::printf("{\"event\":\"rotated\",\"kid\":\"%s\",\"published\":%zu}\n", kid->c_str(),
              opened->store->PublishedKeys().size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "rotate-keys") == 0) return RotateKeys(argc, argv);
  if (argc >= 2) {
    std::fprintf(stderr, "usage: dev-idp [rotate-keys [--state-dir DIR]]\n");
    return 2;
  }
  return chat::runtime::ServiceMain<IdpConfig>(
      {"dev-idp", 9420, /*needs_nats=*/false},
      [](chat::runtime::ServiceContext& ctx,
         IdpConfig& config) -> chat::core::Result<std::unique_ptr<IdpService>> {
        CHAT_ASSIGN_OR_RETURN(auto server, IdpServer::Create(config, ctx.telemetry(), ctx.clock()));
        CHAT_RETURN_IF_ERROR(server->Start());
        std::printf("{\"event\":\"listening\",\"port\":%d,\"issuer\":\"%s\"}\n", server->port(),
                    server->issuer().c_str());
        std::fflush(stdout);
        ctx.logger().Info("dev-idp listening", {{"server.port", server->port()}});
        IdpServer* raw = server.get();
        ctx.AddReadinessCheck("http", [raw] {
          return raw->port() > 0 ? chat::core::Status::Ok()
                                 : chat::core::Unavailable("http listener not bound");
        });
        return std::make_unique<IdpService>(std::move(server));
      });
}

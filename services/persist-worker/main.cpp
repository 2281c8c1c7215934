// persist-worker: applies CHAT_MESSAGES to Postgres (docs/system.md §6.3). Wiring only; the
// logic lives in chat_persist_worker_service (README.md).
#include <cstdio>
#include <memory>

#include "chat/core/env.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "persist_worker.hpp"

namespace {

class PersistService final : public chat::runtime::Service {
 public:
  explicit PersistService(std::unique_ptr<chat::persist_worker::PersistWorker> worker)
      : worker_(std::move(worker)) {}
  void Drain(std::chrono::milliseconds timeout) override { worker_->Drain(timeout); }

 private:
  std::unique_ptr<chat::persist_worker::PersistWorker> worker_;
};

}  // namespace

int main() {
  // Our settings are validated before ServiceMain builds anything (exit 2, one sentence).
  chat::core::ProcessEnv env;
  auto config = chat::persist_worker::PersistConfig::FromEnv(env);
  if (!config.ok()) {
    std::fprintf(stderr, "persist-worker: %s\n", config.status().message().c_str());
    return 2;
  }
  chat::runtime::ServiceInfo info{"persist-worker", 9403};
  return chat::runtime::ServiceMain(
      info, [&](chat::runtime::ServiceContext& ctx)
                -> chat::core::Result<std::unique_ptr<chat::runtime::Service>> {
        // The parent-vs-link threshold is a telemetry setting; without this the worker kept
        // natsx's default whatever CHAT_TRACE_LINK_AGE_SECONDS said.
        config->trace_link_age = ctx.sdk().config().trace_link_age;
        CHAT_ASSIGN_OR_RETURN(auto worker, chat::persist_worker::PersistWorker::Create(
                                               *config, ctx.nats(), ctx.telemetry(), ctx.clock()));
        CHAT_RETURN_IF_ERROR(worker->Start());
        return std::unique_ptr<chat::runtime::Service>(new PersistService(std::move(worker)));
      });
}

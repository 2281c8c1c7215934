// persist-worker: applies CHAT_MESSAGES to Postgres (docs/system.md §6.3). Wiring only; the
// logic lives in chat_persist_worker_service (README.md).
#include <memory>

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
  using chat::persist_worker::PersistConfig;
  return chat::runtime::ServiceMain<PersistConfig>(
      {"persist-worker", 9403},
      [](chat::runtime::ServiceContext& ctx,
         PersistConfig& config) -> chat::core::Result<std::unique_ptr<PersistService>> {
        // The parent-vs-link threshold is a telemetry setting; without this the worker kept
        // the JetStream default whatever CHAT_TRACE_LINK_AGE_SECONDS said.
        config.trace_link_age = ctx.trace_link_age();
        CHAT_ASSIGN_OR_RETURN(auto worker, chat::persist_worker::PersistWorker::Create(
                                               config, ctx.bus(), ctx.telemetry(), ctx.clock()));
        CHAT_RETURN_IF_ERROR(worker->Start());
        return std::make_unique<PersistService>(std::move(worker));
      });
}

// Reconnect listeners (docs/system.md §3.8/§6.5/§6.6): the registry of callbacks a service uses
// to rebuild its in-memory views after a reconnect, and the one worker thread that runs them off
// libnats' threads, coalescing reconnects that arrive while a run is under way.
#include <algorithm>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"

namespace chat::natsx {

namespace semconv = telemetry::semconv;

uint64_t Connection::AddReconnectListener(std::function<void()> listener) {
  std::lock_guard lock(listeners_mu_);
  uint64_t id = next_listener_id_++;
  listeners_.emplace_back(id, std::make_shared<std::function<void()>>(std::move(listener)));
  if (!reconnect_worker_.joinable() && !worker_stop_) {
    reconnect_worker_ = std::thread([this] { RunReconnectListeners(); });
  }
  return id;
}

void Connection::RemoveReconnectListener(uint64_t id) {
  std::unique_lock lock(listeners_mu_);
  std::erase_if(listeners_, [&](const auto& l) { return l.first == id; });
  // From inside the listener itself waiting would deadlock; it is not re-run after returning.
  if (std::this_thread::get_id() == reconnect_worker_.get_id()) return;
  listeners_cv_.wait(lock, [&] { return running_listener_ != id; });
}

void Connection::RunReconnectListeners() {
  std::unique_lock lock(listeners_mu_);
  for (;;) {
    listeners_cv_.wait(lock, [&] { return worker_stop_ || reconnect_pending_; });
    if (worker_stop_) return;
    reconnect_pending_ = false;
    // A snapshot so listeners can add/remove listeners without invalidating the iteration.
    auto snapshot = listeners_;
    for (const auto& entry : snapshot) {
      const auto& [id, fn] = entry;
      if (worker_stop_) return;
      // Compares with entry.first: clang 14 cannot capture a structured binding in a lambda.
      bool still_registered = std::any_of(listeners_.begin(), listeners_.end(),
                                          [&](const auto& l) { return l.first == entry.first; });
      if (!still_registered) continue;
      running_listener_ = id;
      lock.unlock();
      try {
        (*fn)();
      } catch (const std::exception& e) {
        telemetry_.logger->Error("nats reconnect listener threw",
                                 {{semconv::kMessagingClientId, std::string_view(options_.name)},
                                  {"error", std::string_view(e.what())}});
      } catch (...) {
        telemetry_.logger->Error("nats reconnect listener threw",
                                 {{semconv::kMessagingClientId, std::string_view(options_.name)},
                                  {"error", std::string_view("unknown exception")}});
      }
      lock.lock();
      running_listener_ = 0;
      listeners_cv_.notify_all();
    }
  }
}

void Connection::StopReconnectWorker() {
  {
    std::lock_guard lock(listeners_mu_);
    worker_stop_ = true;
    listeners_cv_.notify_all();
  }
  if (!reconnect_worker_.joinable()) return;
  if (reconnect_worker_.get_id() != std::this_thread::get_id()) {
    reconnect_worker_.join();
  } else {
    reconnect_worker_.detach();  // destroyed from inside a listener: it returns right after
  }
}

}  // namespace chat::natsx

// read-receipt-service (system.md §3.3.5, §6.7 with docs/adr/0001): monotonic read positions per
// user and room in READ_STATE KV, flushed to Postgres periodically and at shutdown; read.state
// answers the room's current members (from membership::RoomMembers) and gives the caller an unread
// count. State: an in-memory map (loaded from read_receipts and READ_STATE at start), the
// dirty-key set, and RoomMembers (ROOMS mirrored and fed by room.changed.{room}).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "chat/contracts/receipts.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/membership/reconnect_rebuilder.hpp"
#include "chat/membership/room_members.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/kv.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "repository/receipt_repository.hpp"

namespace chat::read_receipt_service {

// READ_STATE keys are "{user}.{room}" and split on the first dot (system.md §4.2).
std::string ReadStateKey(std::string_view user, std::string_view room);
std::optional<std::pair<std::string, std::string>> SplitReadStateKey(std::string_view key);

class ReadReceiptService final : public runtime::Service {
 public:
  // Connects the pool, creates READ_STATE, loads positions from read_receipts and READ_STATE,
  // starts RoomMembers (binds or creates ROOMS, subscribes to room.changed, hydrates), then serves
  // read.update / read.state and starts the flusher. `bus` and `clock` must outlive it.
  static core::Result<std::unique_ptr<ReadReceiptService>> Create(const ReadReceiptConfig& config,
                                                                  runtime::Bus& bus,
                                                                  const core::Clock& clock);
  ~ReadReceiptService() override;
  ReadReceiptService(const ReadReceiptService&) = delete;
  ReadReceiptService& operator=(const ReadReceiptService&) = delete;

  // Stops the routes and the flusher, then flushes once more.
  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }

  // Upserts every dirty position now (the flusher calls this); the failed keys are re-queued.
  core::Status Flush();
  size_t dirty_count() const;
  // Re-binds the buckets and re-hydrates membership after every NATS reconnect (§3.8).
  const membership::ReconnectRebuilder& rebuilder() const { return members_->rebuilder(); }

 private:
  using Key = std::pair<std::string, std::string>;  // (user, room)

  ReadReceiptService(ReadReceiptConfig config, runtime::Bus& bus, const core::Clock& clock);
  core::Status LoadState();
  core::Status Register();
  void FlushLoop();
  void StopFlusher();
  // Bucket settings with the configured bounds (issue 11 item 6).
  runtime::KeyValueConfig ReadStateBucket() const;
  void UpdateDirtyGauge();  // requires state_mu_

  core::Status HandleUpdate(const contracts::ReadUpdate& req, runtime::RequestContext& ctx);
  core::Result<contracts::ReadStateReply> HandleState(runtime::RequestContext& ctx);

  ReadReceiptConfig config_;
  const telemetry::Telemetry& telemetry_;
  std::unique_ptr<ReadReceiptMetrics> metrics_;
  std::unique_ptr<ReceiptRepository> repo_;
  std::unique_ptr<runtime::JetStream> js_;
  std::unique_ptr<runtime::KeyValue> read_state_;
  // Outlives the dispatcher (its room.changed route); stopped first in Drain and the destructor,
  // so no reconnect rebuild (which re-creates READ_STATE too) runs during teardown.
  std::unique_ptr<membership::RoomMembers> members_;

  std::mutex update_mu_;  // serialises check-then-put of read.update (monotonicity)
  mutable std::mutex state_mu_;
  std::map<Key, std::int64_t> positions_;
  std::set<Key> dirty_;

  std::mutex flush_serial_mu_;  // one flush at a time (timer vs. shutdown)
  std::mutex flusher_mu_;
  std::condition_variable flusher_cv_;
  bool stop_ = false;
  std::thread flusher_;

  // Last member: destroyed first, so no handler runs while the rest is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

}  // namespace chat::read_receipt_service

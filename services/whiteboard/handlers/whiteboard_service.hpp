// whiteboard-service (system.md §3.3.10 "Whiteboard", §6.13; requests per docs/adr/0001 on
// app.whiteboard.{room}.{action}.{user}): list, create, load, delta and delete shared boards of a
// room, broadcasting app.whiteboard.{room}.sync with only the changed elements. Deltas merge last
// writer wins per element by `version` inside one transaction that holds the board's row lock, so
// concurrent deltas from any number of threads and instances never lose an element; deltas that
// arrive at one instance while its transaction on that board runs are merged together in the
// next one (KeyedBatcher: group commit per board). Only current members of the room may call it,
// and only while the whiteboard app is installed there (room_apps, written by
// app-registry-service); DM rooms are refused. State: the MembershipMirror fed by
// room.changed.{room}.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/rooms.hpp"
#include "chat/contracts/whiteboard.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/membership/reconnect_rebuilder.hpp"
#include "chat/membership/room_index.hpp"
#include "chat/membership/room_members.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/kv.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "handlers/keyed_batcher.hpp"
#include "metrics.hpp"
#include "repository/board_repository.hpp"

namespace chat::whiteboard_service {

inline constexpr std::string_view kAppId = "whiteboard";

class WhiteboardService final : public runtime::Service {
 public:
  // Connects the pool, binds (or creates) ROOMS, subscribes to room.changed, hydrates the mirror,
  // then serves app.whiteboard.*.*.* in the whiteboard-workers group. `bus` and `clock` must
  // outlive it.
  static core::Result<std::unique_ptr<WhiteboardService>> Create(const WhiteboardConfig& config,
                                                                 runtime::Bus& bus,
                                                                 const core::Clock& clock);
  ~WhiteboardService() override;
  WhiteboardService(const WhiteboardService&) = delete;
  WhiteboardService& operator=(const WhiteboardService&) = delete;
  WhiteboardService(WhiteboardService&&) = delete;
  WhiteboardService& operator=(WhiteboardService&&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }
  const membership::ReconnectRebuilder& rebuilder() const { return members_->rebuilder(); }
  // Deltas to the board waiting for a batch on this instance (tests).
  size_t QueuedDeltas(std::string_view room, std::string_view board_id) const {
    return delta_batches_.Waiting(BatchKey(room, board_id));
  }

 private:
  WhiteboardService(WhiteboardConfig config, runtime::Bus& bus, const core::Clock& clock);
  core::Status Register();

  core::Result<runtime::RawReply> HandleRequest(const runtime::RawPayload& body,
                                                runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> List(std::string_view room, runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> CreateBoard(std::string_view room, std::string_view body,
                                              runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> Load(std::string_view room, std::string_view body,
                                       runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> Delta(std::string_view room, std::string_view body,
                                        runtime::RequestContext& ctx);
  static std::string BatchKey(std::string_view room, std::string_view board_id) {
    return std::string(room) + '\n' + std::string(board_id);  // neither may contain '\n'
  }
  // One delta waiting in its board's batch; the batch's leader fills in the outcome.
  struct PendingDelta {
    const std::vector<contracts::WhiteboardElement>* elements;
    core::Status status;
    std::vector<contracts::WhiteboardElement> changed;
    telemetry::SpanContext update_span;  // the batch's UPDATE (invalid when nothing was written)
  };
  // Merges a batch of deltas to one board in one transaction, child of `parent` (the leader's
  // request span); each delta is checked against the byte limit on its own.
  void MergeBatch(const telemetry::SpanContext& parent, std::string_view room,
                  std::string_view board_id, const std::vector<PendingDelta*>& batch);
  core::Result<runtime::RawReply> DeleteBoard(std::string_view room, std::string_view body,
                                              runtime::RequestContext& ctx);

  WhiteboardConfig config_;
  std::unique_ptr<WhiteboardMetrics> metrics_;
  std::unique_ptr<BoardRepository> repo_;
  KeyedBatcher<PendingDelta> delta_batches_;  // per (room, board)
  std::unique_ptr<runtime::JetStream> js_;

  std::unique_ptr<membership::RoomMembers> members_;  // outlives the dispatcher (its route)

  // Last member: destroyed first, so no handler runs while the rest is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

}  // namespace chat::whiteboard_service

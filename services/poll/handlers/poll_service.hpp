// poll-service (system.md §3.3.10 "Poll", §6.12, with docs/adr/0001 and issue 13's ★ items): one
// route on app.poll.{room}.{action}.{user} (queue group poll-workers) for create, list, vote,
// results and close; after create/vote/close it publishes app.poll.{room}.updated {"pollId"} as
// a child of the request's span (fanout delivers it to the room's members in the same trace).
// Only members of the room may call it (MembershipMirror of ROOMS + room.changed.{room}), and
// only while the poll app is installed there (room_apps, written by app-registry-service); DM
// rooms have no apps; the acting user is the subject's; one vote per user (changeable while
// open), out-of-range options refused, only the creator closes, a closed poll refuses votes.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/polls.hpp"
#include "chat/contracts/rooms.hpp"
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
#include "metrics.hpp"
#include "repository/poll_repository.hpp"

namespace chat::poll_service {

// list answers the room's newest polls, at most this many.
inline constexpr std::int64_t kMaxListedPolls = 100;

// A new poll id: 16 lowercase hex characters from getrandom(2) (64 random bits).
std::string NewPollId();

class PollService final : public runtime::Service {
 public:
  // Connects the pool, binds (or creates) ROOMS, subscribes to room.changed and hydrates the
  // mirror, then serves app.poll.{room}.{action}.{user}. `bus` and `clock` must outlive it.
  static core::Result<std::unique_ptr<PollService>> Create(const PollConfig& config,
                                                           runtime::Bus& bus,
                                                           const core::Clock& clock);
  ~PollService() override;
  PollService(const PollService&) = delete;
  PollService& operator=(const PollService&) = delete;
  PollService(PollService&&) = delete;
  PollService& operator=(PollService&&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }

 private:
  PollService(PollConfig config, runtime::Bus& bus, const core::Clock& clock);
  core::Status Register();

  // The whole request: the action's span attributes, the checks, then the action.
  core::Result<runtime::RawReply> Handle(const runtime::RawPayload& body,
                                         runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> HandleCreate(const contracts::PollRequest& req,
                                               runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> HandleList(runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> HandleVote(const contracts::PollRequest& req,
                                             runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> HandleResults(const contracts::PollRequest& req,
                                                runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> HandleClose(const contracts::PollRequest& req,
                                              runtime::RequestContext& ctx);
  // The poll of this room with the request's pollId (not_found when absent).
  core::Result<contracts::Poll> FindPoll(const contracts::PollRequest& req,
                                         runtime::RequestContext& ctx);
  // app.poll.{room}.updated {"pollId"}, as a child of the request's span; a failed publish is
  // absorbed (event `fallback`, WARN): the change itself is committed.
  void PublishUpdated(runtime::RequestContext& ctx, const std::string& poll_id);

  PollConfig config_;
  std::unique_ptr<PollMetrics> metrics_;
  std::unique_ptr<PollRepository> repo_;
  std::unique_ptr<runtime::JetStream> js_;

  std::unique_ptr<membership::RoomMembers> members_;  // outlives the dispatcher (its route)

  // Last members: destroyed first, so no handler runs while the rest is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

}  // namespace chat::poll_service

// RoomHandlers: the NATS routes of room-service (system.md §3.3.3 and §6.5 with the subjects of
// docs/adr/0001): live membership (join/leave on ROOMS KV + room.changed deltas), the member
// query answered from the in-memory mirror, and private-room management backed by Postgres.
// Every handler runs under runtime::Dispatcher, which owns identity, decoding, replies, RED
// metrics and the per-request log line; handlers add chat.* attributes and business events.
#pragma once

#include <string>
#include <string_view>

#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/membership/room_index.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/kv.hpp"
#include "metrics.hpp"
#include "repository/room_repository.hpp"

namespace chat::room_service {

class RoomHandlers {
 public:
  RoomHandlers(RoomRepository& repo, runtime::KeyValue& rooms_kv,
               membership::MembershipMirror& mirror, const RoomMetrics& metrics)
      : repo_(repo), kv_(rooms_kv), mirror_(mirror), metrics_(metrics) {}

  // room.changed.{room} (plain subscription, no queue group): keeps this instance's mirror.
  // Register it before hydrating so no delta is missed.
  core::Status RegisterDeltaRoute(runtime::Dispatcher& dispatcher);
  // Every other route (after hydration, so room.members answers from a full view).
  core::Status RegisterRoutes(runtime::Dispatcher& dispatcher, const RoomRouteMetrics& routes);

  // Route bodies (public for direct use in tests of edge cases).
  core::Status Join(const contracts::RoomMembershipRequest& req, runtime::RequestContext& ctx);
  core::Status Leave(const contracts::RoomMembershipRequest& req, runtime::RequestContext& ctx);
  core::Status Changed(const contracts::RoomChanged& delta, runtime::RequestContext& ctx);
  core::Result<contracts::RoomMembersReply> Members(runtime::RequestContext& ctx);
  core::Result<contracts::RoomInfo> Create(const contracts::RoomCreateRequest& req,
                                           runtime::RequestContext& ctx);
  core::Result<contracts::RoomListReply> List(runtime::RequestContext& ctx);
  core::Result<contracts::RoomInfo> Info(runtime::RequestContext& ctx);
  core::Result<contracts::OkReply> Invite(const contracts::RoomTargetRequest& req,
                                          runtime::RequestContext& ctx);
  core::Result<contracts::OkReply> Kick(const contracts::RoomTargetRequest& req,
                                        runtime::RequestContext& ctx);
  core::Result<contracts::OkReply> Depart(runtime::RequestContext& ctx);

  // room_active_rooms / room_memberships from the mirror.
  void UpdateGauges();

 private:
  // KV create {room}.{user} and announce the join; false when already a member (no event).
  core::Result<bool> AddLive(runtime::RequestContext& ctx, std::string_view room,
                             std::string_view user, contracts::RoomType type);
  // KV delete {room}.{user} and announce the leave; false when not a member (no event).
  core::Result<bool> RemoveLive(runtime::RequestContext& ctx, std::string_view room,
                                std::string_view user, contracts::RoomType type);
  // The caller must be owner or admin of a stored room: not_found / permission_denied.
  core::Status RequireManager(runtime::RequestContext& ctx, std::string_view room,
                              std::string_view user);
  // A system ChatMessage on chat.{room}; a failed publish is absorbed (WARN + fallback event):
  // the state change it reports is already committed.
  void PostSystemMessage(runtime::RequestContext& ctx, std::string_view room, std::string text);
  // Absorbed failure of a live-membership update after a committed DB change.
  void LiveUpdateFailed(runtime::RequestContext& ctx, const core::Status& status);

  RoomRepository& repo_;
  runtime::KeyValue& kv_;
  membership::MembershipMirror& mirror_;
  const RoomMetrics& metrics_;
};

// chat.room.type for a room key and its stored type: admin for __admin__, dm by prefix.
std::string_view RoomTypeAttribute(std::string_view room, contracts::RoomType type);

}  // namespace chat::room_service

// RoomMembers: a service's view of room membership, for the services that only read it (the app
// backends, issue 13; read-receipt-service). The view is room-service's ROOMS bucket mirrored in
// memory: bound (or created with the service's configured limits when it starts before
// room-service), followed through room.changed.{room} on the service's own dispatcher, and
// hydrated again after every reconnect, because deltas published while a client is disconnected
// are lost to it (system.md §3.8). It sits here, above runtime, because it wires the mirror and
// the rebuilder to runtime's Dispatcher and JetStream (docs/adr/0003).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/quotas.hpp"
#include "chat/core/result.hpp"
#include "chat/membership/reconnect_rebuilder.hpp"
#include "chat/membership/room_index.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/kv.hpp"

namespace chat::membership {

class RoomMembers {
 public:
  // Runs after a reconnect before ROOMS is re-bound and hydrated (a service's own buckets).
  using AlsoAfterReconnect = std::function<core::Status()>;

  // Deltas first, then the hydration (the mirror buffers deltas that race it). `bus`, `js` and
  // `dispatcher` must outlive the result, and the dispatcher must be destroyed before it: its
  // room.changed route calls into it.
  static core::Result<std::unique_ptr<RoomMembers>> Start(runtime::Bus& bus, runtime::JetStream& js,
                                                          runtime::Dispatcher& dispatcher,
                                                          contracts::quotas::BucketLimits limits,
                                                          AlsoAfterReconnect also = {});
  ~RoomMembers();
  RoomMembers(const RoomMembers&) = delete;
  RoomMembers& operator=(const RoomMembers&) = delete;
  RoomMembers(RoomMembers&&) = delete;
  RoomMembers& operator=(RoomMembers&&) = delete;

  // Stops rebuilding after reconnects (on drain); the view stays as it is.
  void Stop();

  // Whether `user` is a current member of `room`; the admin channel's members are kept under
  // its own membership key (contracts::kAdminMembershipRoom).
  bool IsMember(std::string_view room, std::string_view user) const;
  // The refusals every room app route starts with (issue 13), in this order: a malformed room
  // key (invalid_argument); a DM room (failed_precondition "apps are not available in direct
  // messages", span attribute chat.room.type=dm); a caller who is not a current member
  // (permission_denied `not_member`). OK when the caller may use the room's apps.
  core::Status RequireAppUser(runtime::RequestContext& ctx, std::string_view room,
                              std::string_view not_member) const;
  // The current members of `room`, sorted, with the same admin-channel mapping as IsMember.
  std::vector<std::string> Members(std::string_view room) const;
  const RoomIndex& index() const { return mirror_.index(); }
  const ReconnectRebuilder& rebuilder() const { return *rebuilder_; }

 private:
  RoomMembers(runtime::JetStream& js, const telemetry::Telemetry& telemetry,
              contracts::quotas::BucketLimits limits, AlsoAfterReconnect also);
  runtime::KeyValueConfig RoomsBucket() const;
  core::Status BindRooms();
  core::Status Rebuild(telemetry::Span& span);

  runtime::JetStream& js_;
  contracts::quotas::BucketLimits limits_;
  AlsoAfterReconnect also_;
  std::unique_ptr<runtime::KeyValue> rooms_;
  MembershipMirror mirror_;
  std::unique_ptr<ReconnectRebuilder> rebuilder_;
};

}  // namespace chat::membership

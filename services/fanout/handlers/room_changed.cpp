// room.changed.{room}: membership deltas for the LRU (cached rooms only) and the room-type map
// (system.md §3.2.5: the only way fanout learns that a room is private).
#include "chat/contracts/attributes.hpp"
#include "service.hpp"

namespace chat::fanout {

namespace attr = contracts::attr;

core::Status FanoutService::RoomChanged(const contracts::RoomChanged& change,
                                        runtime::RequestContext& ctx) {
  const std::string_view room = ctx.Arg("room");
  ctx.span().SetAttribute(attr::kRoom, room);
  ctx.span().SetAttribute(attr::kUser, change.user_id);
  if (change.type != contracts::RoomType::kPublic) {
    // Never downgraded: a delta without `type` must not make a private room public.
    std::lock_guard<std::mutex> lock(types_mu_);
    room_types_[std::string(room)] = change.type;
  }
  if (change.action == contracts::RoomChangeAction::kJoin) {
    members_->ApplyJoin(room, change.user_id);
  } else {
    members_->ApplyLeave(room, change.user_id);
  }
  return core::Status::Ok();
}

}  // namespace chat::fanout

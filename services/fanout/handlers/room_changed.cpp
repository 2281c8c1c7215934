// room.changed.{room}: membership deltas for the LRU (cached rooms only) and the room-type map
// (system.md §3.2.5); room.members replies teach the rest (handlers/members.cpp).
#include "chat/contracts/attributes.hpp"
#include "service.hpp"

namespace chat::fanout {

namespace attr = contracts::attr;

core::Status FanoutService::RoomChanged(const contracts::RoomChanged& change,
                                        runtime::RequestContext& ctx) {
  const std::string_view room = ctx.Arg("room");
  ctx.span().SetAttribute(attr::kUser, change.user_id);
  // room-service computes the delta's type from the database (a join or leave fails rather than
  // guess), so a public delta is trusted for a room not yet known; it never downgrades a room
  // already known as private.
  LearnRoomType(room, change.type);
  if (change.action == contracts::RoomChangeAction::kJoin) {
    members_->ApplyJoin(room, change.user_id);
  } else {
    members_->ApplyLeave(room, change.user_id);
  }
  return core::Status::Ok();
}

}  // namespace chat::fanout

#include "chat/membership/room_members.hpp"

#include <string>
#include <utility>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::membership {
namespace {

// The ROOMS key under which a room's members are listed: the admin channel has its own.
std::string_view MembershipKey(std::string_view room) {
  return contracts::IsAdminRoom(room) ? contracts::kAdminMembershipRoom : room;
}

}  // namespace

RoomMembers::RoomMembers(runtime::JetStream& js, const telemetry::Telemetry& telemetry,
                         contracts::quotas::BucketLimits limits, AlsoAfterReconnect also)
    : js_(js), limits_(limits), also_(std::move(also)), mirror_(telemetry) {}

RoomMembers::~RoomMembers() { Stop(); }

void RoomMembers::Stop() {
  if (rebuilder_) rebuilder_->Stop();
}

core::Result<std::unique_ptr<RoomMembers>> RoomMembers::Start(
    runtime::Bus& bus, runtime::JetStream& js, runtime::Dispatcher& dispatcher,
    contracts::quotas::BucketLimits limits, AlsoAfterReconnect also) {
  std::unique_ptr<RoomMembers> m(new RoomMembers(js, bus.telemetry(), limits, std::move(also)));
  CHAT_RETURN_IF_ERROR(m->BindRooms());
  CHAT_RETURN_IF_ERROR(dispatcher.Consume<contracts::RoomChanged>(
      contracts::subjects::kRoomChanged, {},
      [raw = m.get()](const contracts::RoomChanged& delta, runtime::RequestContext& ctx) {
        if (delta.room != ctx.Arg("room")) {
          return core::InvalidArgument("the event's room does not match its subject");
        }
        raw->mirror_.OnDelta(delta);
        return core::Status();
      }));
  CHAT_RETURN_IF_ERROR(
      m->mirror_.Hydrate(runtime::LiveKeys(*m->rooms_, {}), telemetry::SpanContext{}));
  m->rebuilder_ = std::make_unique<ReconnectRebuilder>(
      ReconnectHooks::Of(bus), bus.telemetry(), ReconnectRebuilder::Options{},
      [raw = m.get()](telemetry::Span& span) { return raw->Rebuild(span); });
  return m;
}

runtime::KeyValueConfig RoomMembers::RoomsBucket() const {
  runtime::KeyValueConfig c;
  c.bucket = std::string(contracts::jetstream::kBucketRooms);
  c.max_bytes = limits_.max_bytes;
  c.max_value_size = limits_.max_value_size;
  return c;
}

core::Status RoomMembers::BindRooms() {
  // ROOMS belongs to room-service; create it with the same settings when we start first.
  auto rooms = js_.BindKeyValue(std::string(contracts::jetstream::kBucketRooms));
  if (rooms.ok()) {
    rooms_ = std::move(*rooms);
    return core::Status();
  }
  CHAT_ASSIGN_OR_RETURN(rooms_, js_.CreateKeyValue(RoomsBucket()));
  return core::Status();
}

core::Status RoomMembers::Rebuild(telemetry::Span& span) {
  if (also_) CHAT_RETURN_IF_ERROR(also_());
  // The bucket handle is name-based: making sure the bucket exists is the whole re-bind.
  if (!js_.BindKeyValue(std::string(contracts::jetstream::kBucketRooms)).ok()) {
    CHAT_RETURN_IF_ERROR(js_.CreateKeyValue(RoomsBucket()).status());
  }
  return mirror_.Hydrate(runtime::LiveKeys(*rooms_, span.Context()), span.Context());
}

core::Status RoomMembers::RequireAppUser(runtime::RequestContext& ctx, std::string_view room,
                                         std::string_view not_member) const {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  if (contracts::IsDmRoom(room)) {
    ctx.span().SetAttribute(contracts::attr::kRoomType, "dm");
    return core::FailedPrecondition("apps are not available in direct messages");
  }
  if (!IsMember(room, ctx.user())) return core::PermissionDenied(std::string(not_member));
  return core::Status();
}

bool RoomMembers::IsMember(std::string_view room, std::string_view user) const {
  return mirror_.index().IsMember(MembershipKey(room), user);
}

std::vector<std::string> RoomMembers::Members(std::string_view room) const {
  return mirror_.index().Members(MembershipKey(room));
}

}  // namespace chat::membership

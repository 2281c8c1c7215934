#include "handlers/room_handlers.hpp"

#include <utility>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::room_service {

namespace {

namespace attr = contracts::attr;
namespace subjects = contracts::subjects;
using contracts::RoomType;
using runtime::RequestContext;

// Join refusals (span event access_denied + rejected{chat.reason}, result denied, span UNSET).
constexpr std::string_view kReasonInvalidRoom = "invalid_room";
constexpr std::string_view kReasonInvalidUser = "invalid_user";
constexpr std::string_view kReasonNotDmParticipant = "not_dm_participant";
constexpr std::string_view kReasonNotMember = "not_a_member";

void Deny(RequestContext& ctx, std::string_view reason) {
  ctx.span().AddEvent("access_denied", {{attr::kReason, reason}});
  ctx.Reject(reason);
}

contracts::RoomChanged Delta(std::string_view room, contracts::RoomChangeAction action,
                             std::string_view user, RoomType type) {
  contracts::RoomChanged d;
  d.room = std::string(room);
  d.action = action;
  d.user_id = std::string(user);
  d.type = type;
  return d;
}

}  // namespace

std::string_view RoomTypeAttribute(std::string_view room, RoomType type) {
  if (contracts::IsAdminRoom(room)) return "admin";
  if (contracts::IsDmRoom(room)) return "dm";
  return contracts::RoomTypeName(type);
}

// ---- registration ----

core::Status RoomHandlers::RegisterDeltaRoute(runtime::Dispatcher& dispatcher) {
  return dispatcher.Consume<contracts::RoomChanged>(
      subjects::kRoomChanged, {},
      [this](const contracts::RoomChanged& d, RequestContext& ctx) { return Changed(d, ctx); });
}

core::Status RoomHandlers::RegisterRoutes(runtime::Dispatcher& dispatcher,
                                          const RoomRouteMetrics& routes) {
  CHAT_RETURN_IF_ERROR(dispatcher.Consume<contracts::RoomMembershipRequest>(
      subjects::kRoomJoin, {.metrics = &routes.join},
      [this](const contracts::RoomMembershipRequest& r, RequestContext& ctx) {
        return Join(r, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher.Consume<contracts::RoomMembershipRequest>(
      subjects::kRoomLeave, {.metrics = &routes.leave},
      [this](const contracts::RoomMembershipRequest& r, RequestContext& ctx) {
        return Leave(r, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher.Serve<runtime::IgnoredBody>(
      subjects::kRoomMembers, {.metrics = &routes.members},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return Members(ctx); }));
  CHAT_RETURN_IF_ERROR(dispatcher.Serve<contracts::RoomCreateRequest>(
      subjects::kRoomCreate, {.metrics = &routes.create},
      [this](const contracts::RoomCreateRequest& r, RequestContext& ctx) {
        return Create(r, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher.Serve<contracts::RoomListRequest>(
      subjects::kRoomList, {.metrics = &routes.list},
      [this](const contracts::RoomListRequest&, RequestContext& ctx) { return List(ctx); }));
  CHAT_RETURN_IF_ERROR(dispatcher.Serve<runtime::IgnoredBody>(
      subjects::kRoomInfo, {.metrics = &routes.info},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return Info(ctx); }));
  CHAT_RETURN_IF_ERROR(dispatcher.Serve<contracts::RoomTargetRequest>(
      subjects::kRoomInvite, {.metrics = &routes.invite},
      [this](const contracts::RoomTargetRequest& r, RequestContext& ctx) {
        return Invite(r, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher.Serve<contracts::RoomTargetRequest>(
      subjects::kRoomKick, {.metrics = &routes.kick},
      [this](const contracts::RoomTargetRequest& r, RequestContext& ctx) { return Kick(r, ctx); }));
  return dispatcher.Serve<contracts::RoomDepartRequest>(
      subjects::kRoomDepart, {.metrics = &routes.depart},
      [this](const contracts::RoomDepartRequest&, RequestContext& ctx) { return Depart(ctx); });
}

// ---- live membership ----

void RoomHandlers::UpdateGauges() {
  metrics_.active_rooms.Default().Set(static_cast<double>(mirror_.index().ActiveRooms()));
  metrics_.memberships.Default().Set(static_cast<double>(mirror_.index().Memberships()));
}

core::Result<bool> RoomHandlers::AddLive(RequestContext& ctx, std::string_view room,
                                         std::string_view user, RoomType type) {
  auto created = kv_.Create(membership::RoomsKey(room, user), "{}", ctx.span_context());
  if (!created.ok()) {
    if (created.status().code() == core::ErrorCode::kAlreadyExists) return false;
    return created.status();
  }
  contracts::RoomChanged delta = Delta(room, contracts::RoomChangeAction::kJoin, user, type);
  // Applied at once so this instance's room.members sees it before its own delta comes back.
  mirror_.OnDelta(delta);
  UpdateGauges();
  CHAT_RETURN_IF_ERROR(ctx.Publish(subjects::kRoomChanged, {room}, contracts::ToJson(delta)));
  return true;
}

core::Result<bool> RoomHandlers::RemoveLive(RequestContext& ctx, std::string_view room,
                                            std::string_view user, RoomType type) {
  const std::string key = membership::RoomsKey(room, user);
  // KV delete does not report absence, so a get tells a leave from a no-op.
  auto existing = kv_.Get(key, ctx.span_context());
  if (!existing.ok()) {
    if (existing.status().code() == core::ErrorCode::kNotFound) return false;
    return existing.status();
  }
  CHAT_RETURN_IF_ERROR(kv_.Delete(key, ctx.span_context()));
  contracts::RoomChanged delta = Delta(room, contracts::RoomChangeAction::kLeave, user, type);
  mirror_.OnDelta(delta);
  UpdateGauges();
  CHAT_RETURN_IF_ERROR(ctx.Publish(subjects::kRoomChanged, {room}, contracts::ToJson(delta)));
  return true;
}

void RoomHandlers::LiveUpdateFailed(RequestContext& ctx, const core::Status& status) {
  ctx.span().AddEvent("fallback", {{attr::kReason, "live_membership_not_updated"}});
  ctx.log().Warn(ctx.span_context(), "live membership update failed after a committed change",
                 {{telemetry::semconv::kErrorType, core::ErrorCodeName(status.code())},
                  {telemetry::semconv::kExceptionMessage, status.message()}});
}

void RoomHandlers::PostSystemMessage(RequestContext& ctx, std::string_view room, std::string text) {
  contracts::ChatMessage m;
  m.user = std::string(contracts::kSystemUser);
  m.text = std::move(text);
  m.timestamp = ctx.clock().NowUnixMillis();
  m.room = std::string(room);
  m.action = contracts::MessageAction::kSystem;
  core::Status st = ctx.Publish(subjects::kChatRoom, {room}, contracts::ToJson(m));
  if (!st.ok()) {
    ctx.span().AddEvent("fallback", {{attr::kReason, "system_message_not_published"}});
    ctx.log().Warn(
        ctx.span_context(), "system message not published",
        {{attr::kRoom, room}, {telemetry::semconv::kErrorType, core::ErrorCodeName(st.code())}});
  }
}

// ---- join / leave ----

core::Status RoomHandlers::Join(const contracts::RoomMembershipRequest&, RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  const std::string user(ctx.user());
  if (!contracts::ValidateRoomKey(room).ok()) {
    Deny(ctx, kReasonInvalidRoom);
    return core::Status();
  }
  if (!contracts::ValidateUsername(user).ok()) {
    Deny(ctx, kReasonInvalidUser);
    return core::Status();
  }
  RoomType type = RoomType::kPublic;
  if (contracts::IsDmRoom(room)) {
    type = RoomType::kDm;
    ctx.span().SetAttribute(attr::kRoomType, RoomTypeAttribute(room, type));
    // ADR 0001: DM membership is the two names in the key; nobody joins the other party.
    if (!contracts::IsDmParticipant(room, user)) {
      Deny(ctx, kReasonNotDmParticipant);
      return core::Status();
    }
  } else {
    // Fail closed: a private room's authorisation is unknown while the database is down.
    CHAT_ASSIGN_OR_RETURN(RoomAccess access, repo_.Access(ctx.span_context(), room, user));
    if (access.stored) type = access.type;
    ctx.span().SetAttribute(attr::kRoomType, RoomTypeAttribute(room, type));
    if (access.stored && type != RoomType::kPublic && !access.member) {
      Deny(ctx, kReasonNotMember);
      return core::Status();
    }
  }
  CHAT_ASSIGN_OR_RETURN(bool added, AddLive(ctx, room, user, type));
  if (!added) {
    ctx.SetResult("noop");
    return core::Status();
  }
  ctx.log().Info(ctx.span_context(), "user joined room",
                 {{attr::kRoom, room}, {attr::kUser, user}});
  return core::Status();
}

core::Status RoomHandlers::Leave(const contracts::RoomMembershipRequest&, RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  const std::string user(ctx.user());
  if (!contracts::ValidateRoomKey(room).ok()) {
    Deny(ctx, kReasonInvalidRoom);
    return core::Status();
  }
  RoomType type = RoomType::kPublic;
  if (contracts::IsDmRoom(room)) {
    type = RoomType::kDm;
  } else {
    // The delta's type tells fanout/presence how to deliver; never announce a private room as
    // public, so a database failure fails the leave (counted error) instead of guessing.
    CHAT_ASSIGN_OR_RETURN(auto stored, repo_.TypeOf(ctx.span_context(), room));
    if (stored) type = *stored;
  }
  ctx.span().SetAttribute(attr::kRoomType, RoomTypeAttribute(room, type));
  CHAT_ASSIGN_OR_RETURN(bool removed, RemoveLive(ctx, room, user, type));
  if (!removed) {
    ctx.SetResult("noop");
    return core::Status();
  }
  ctx.log().Info(ctx.span_context(), "user left room", {{attr::kRoom, room}, {attr::kUser, user}});
  return core::Status();
}

core::Status RoomHandlers::Changed(const contracts::RoomChanged& delta, RequestContext& ctx) {
  if (delta.room != ctx.Arg("room")) {
    ctx.Reject("room_mismatch");
    return core::Status();
  }
  mirror_.OnDelta(delta);
  UpdateGauges();
  return core::Status();
}

core::Result<contracts::RoomMembersReply> RoomHandlers::Members(RequestContext& ctx) {
  const std::string_view room = ctx.Arg("room");
  contracts::RoomMembersReply reply;
  reply.users = mirror_.index().Members(room);
  // The type lets fanout decide between room.notify and per-member delivery; fanout treats a
  // room it cannot classify as restricted, so a database failure omits the type (fail closed)
  // instead of failing the member list, which ingest needs even while Postgres is down.
  if (contracts::IsDmRoom(room)) {
    reply.type = RoomType::kDm;
  } else if (contracts::IsAdminRoom(room) || room == contracts::kAdminMembershipRoom) {
    reply.type = RoomType::kPrivate;
  } else {
    auto stored = repo_.TypeOf(ctx.span_context(), room);
    if (stored.ok()) {
      reply.type = stored->value_or(RoomType::kPublic);
    } else {
      ctx.span().AddEvent("fallback", {{attr::kReason, "room_type_unknown"}});
      ctx.log().Warn(
          ctx.span_context(), "room type unknown, members sent without it",
          {{attr::kRoom, room},
           {telemetry::semconv::kErrorType, core::ErrorCodeName(stored.status().code())}});
    }
  }
  if (reply.type) ctx.span().SetAttribute(attr::kRoomType, RoomTypeAttribute(room, *reply.type));
  return reply;
}

// ---- private-room management ----

core::Result<contracts::RoomInfo> RoomHandlers::Create(const contracts::RoomCreateRequest& req,
                                                       RequestContext& ctx) {
  const std::string user(ctx.user());
  ctx.span().SetAttribute(attr::kRoom, req.name);
  ctx.span().SetAttribute(attr::kRoomType, "private");
  contracts::RoomInfo info;
  info.name = req.name;
  info.display_name = req.display_name.empty() ? req.name : req.display_name;
  info.creator = user;
  info.type = RoomType::kPrivate;
  info.member_count = 1;
  CHAT_RETURN_IF_ERROR(
      repo_.CreateRoom(ctx.span_context(), info.name, info.display_name, info.creator));
  ctx.log().Info(ctx.span_context(), "room created",
                 {{attr::kRoom, info.name}, {attr::kUser, user}});
  auto live = AddLive(ctx, info.name, user, RoomType::kPrivate);
  if (!live.ok()) LiveUpdateFailed(ctx, live.status());
  PostSystemMessage(ctx, info.name, user + " created the room");
  return info;
}

core::Result<contracts::RoomListReply> RoomHandlers::List(RequestContext& ctx) {
  contracts::RoomListReply reply;
  CHAT_ASSIGN_OR_RETURN(reply.rooms, repo_.ListFor(ctx.span_context(), ctx.user()));
  return reply;
}

core::Result<contracts::RoomInfo> RoomHandlers::Info(RequestContext& ctx) {
  const std::string_view room = ctx.Arg("room");
  const std::string_view user = ctx.user();
  CHAT_ASSIGN_OR_RETURN(auto info, repo_.Info(ctx.span_context(), room));
  if (!info) return core::NotFound("room not found");
  ctx.span().SetAttribute(attr::kRoomType, RoomTypeAttribute(room, info->type));
  if (info->type != RoomType::kPublic) {
    bool member = false;
    for (const auto& m : info->members) member = member || m.username == user;
    if (!member) return core::PermissionDenied("only members may see a private room");
  }
  return std::move(*info);
}

core::Status RoomHandlers::RequireManager(RequestContext& ctx, std::string_view room,
                                          std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(auto role, repo_.RoleOf(ctx.span_context(), room, user));
  if (role == contracts::RoomRole::kOwner || role == contracts::RoomRole::kAdmin) {
    return core::Status();
  }
  if (!role) {
    CHAT_ASSIGN_OR_RETURN(auto stored, repo_.TypeOf(ctx.span_context(), room));
    if (!stored) return core::NotFound("room not found");
  }
  return core::PermissionDenied("only the room's owner or an admin may do this");
}

core::Result<contracts::OkReply> RoomHandlers::Invite(const contracts::RoomTargetRequest& req,
                                                      RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  const std::string user(ctx.user());
  ctx.span().SetAttribute(attr::kRoomType, "private");
  ctx.span().SetAttribute(attr::kTargetUser, req.target);
  CHAT_RETURN_IF_ERROR(RequireManager(ctx, room, user));
  CHAT_ASSIGN_OR_RETURN(bool inserted, repo_.AddMember(ctx.span_context(), room, req.target, user));
  if (!inserted) ctx.span().AddEvent("already_member");
  ctx.log().Info(ctx.span_context(), "member invited",
                 {{attr::kRoom, room}, {attr::kUser, user}, {attr::kTargetUser, req.target}});
  auto live = AddLive(ctx, room, req.target, RoomType::kPrivate);
  if (!live.ok()) LiveUpdateFailed(ctx, live.status());
  PostSystemMessage(ctx, room, req.target + " was invited by " + user);
  return contracts::OkReply{};
}

core::Result<contracts::OkReply> RoomHandlers::Kick(const contracts::RoomTargetRequest& req,
                                                    RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  const std::string user(ctx.user());
  ctx.span().SetAttribute(attr::kRoomType, "private");
  ctx.span().SetAttribute(attr::kTargetUser, req.target);
  CHAT_RETURN_IF_ERROR(RequireManager(ctx, room, user));
  CHAT_ASSIGN_OR_RETURN(auto target_role, repo_.RoleOf(ctx.span_context(), room, req.target));
  if (!target_role) return core::NotFound("the target is not a member of the room");
  if (*target_role == contracts::RoomRole::kOwner) {
    return core::PermissionDenied("the room's owner cannot be removed");
  }
  CHAT_RETURN_IF_ERROR(repo_.RemoveMember(ctx.span_context(), room, req.target).status());
  ctx.log().Info(ctx.span_context(), "member removed",
                 {{attr::kRoom, room}, {attr::kUser, user}, {attr::kTargetUser, req.target}});
  auto live = RemoveLive(ctx, room, req.target, RoomType::kPrivate);
  if (!live.ok()) LiveUpdateFailed(ctx, live.status());
  PostSystemMessage(ctx, room, req.target + " was removed by " + user);
  return contracts::OkReply{};
}

core::Result<contracts::OkReply> RoomHandlers::Depart(RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  const std::string user(ctx.user());
  ctx.span().SetAttribute(attr::kRoomType, "private");
  CHAT_ASSIGN_OR_RETURN(auto stored, repo_.TypeOf(ctx.span_context(), room));
  if (!stored) return core::NotFound("room not found");
  CHAT_ASSIGN_OR_RETURN(DepartOutcome out, repo_.Depart(ctx.span_context(), room, user));
  if (!out.was_member) {
    // Nothing to leave; no system message, so non-members cannot post into the room.
    ctx.span().AddEvent("not_a_member");
    return contracts::OkReply{};
  }
  if (out.room_deleted) {
    ctx.log().Info(ctx.span_context(), "room deleted after its last member left",
                   {{attr::kRoom, room}, {attr::kUser, user}});
    // The name becomes public again: nobody may stay live in the deleted private room.
    std::vector<std::string> live = mirror_.index().Members(room);
    bool self_listed = false;
    for (const auto& m : live) self_listed = self_listed || m == user;
    if (!self_listed) live.push_back(user);
    for (const auto& m : live) {
      auto removed = RemoveLive(ctx, room, m, RoomType::kPrivate);
      if (!removed.ok()) LiveUpdateFailed(ctx, removed.status());
    }
    return contracts::OkReply{true, true};
  }
  if (!out.new_owner.empty()) {
    ctx.log().Info(ctx.span_context(), "room ownership transferred",
                   {{attr::kRoom, room}, {attr::kUser, user}, {attr::kTargetUser, out.new_owner}});
  }
  ctx.log().Info(ctx.span_context(), "member departed", {{attr::kRoom, room}, {attr::kUser, user}});
  auto live = RemoveLive(ctx, room, user, RoomType::kPrivate);
  if (!live.ok()) LiveUpdateFailed(ctx, live.status());
  PostSystemMessage(ctx, room, user + " left the room");
  return contracts::OkReply{};
}

}  // namespace chat::room_service

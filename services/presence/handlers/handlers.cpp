// presence-service's NATS routes (system.md §3.3.4 with ADR 0001): heartbeat, disconnect and
// update carry the user as the subject's last token (Identity::kSubjectUser, QG
// presence-workers); presence.room.{room} takes the caller from the reply inbox and answers every
// instance (no QG); room.changed.{room} feeds the membership mirror on every instance.
#include <utility>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/subjects.hpp"
#include "presence_service.hpp"

namespace chat::presence_service {

namespace subjects = contracts::subjects;
namespace attr = contracts::attr;
using contracts::PresenceDiff;
using contracts::PresenceDiffAction;
using contracts::PresenceStatus;
using runtime::RequestContext;

core::Status PresenceService::RegisterRoutes() {
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<contracts::PresenceHeartbeat>(
      // Heartbeats arrive every 10 s per tab and are never traced (observability §4.5/§4.6):
      // metrics and logs only.
      subjects::kPresenceHeartbeat, {.traced = false},
      [this](const contracts::PresenceHeartbeat& req, RequestContext& ctx) {
        return OnHeartbeat(req, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<contracts::PresenceHeartbeat>(
      subjects::kPresenceDisconnect, {},
      [this](const contracts::PresenceHeartbeat& req, RequestContext& ctx) {
        return OnDisconnect(req, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<contracts::PresenceUpdate>(
      subjects::kPresenceUpdate, {},
      [this](const contracts::PresenceUpdate& req, RequestContext& ctx) {
        return OnUpdate(req, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<runtime::IgnoredBody>(
      subjects::kPresenceRoom, {.metrics = &query_metrics_},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return OnRoomQuery(ctx); }));
  return core::Status();
}

core::Status PresenceService::OnHeartbeat(const contracts::PresenceHeartbeat& req,
                                          RequestContext& ctx) {
  const std::string user(ctx.user());
  metrics_.heartbeats.Default().Add(1);
  const auto cap = static_cast<size_t>(config_.max_connections_per_user);
  if (!tracker_.Admits(user, req.conn_id, cap)) {
    // Issue 11 item 6: one user cannot fill PRESENCE_CONN (shared by everyone) with connection
    // ids. Known ids keep refreshing, so the user's live tabs stay online; nothing of anyone
    // else is touched. The dispatcher logs the refusal (WARN "message rejected", chat.reason).
    metrics_.rejected.With({kRejectTooManyConnections}).Add(1);
    ctx.Reject(kRejectTooManyConnections);
    return core::Status();
  }
  bool was_offline = !tracker_.HasAny(user);
  // Refreshes the key's TTL; the watcher of every instance sees it.
  auto put = conn_kv_->Put(ConnKey(user, req.conn_id), "{}", ctx.span_context());
  if (!put.ok()) return put.status();
  tracker_.Touch(user, req.conn_id, clock_.NowUnixNanos());
  RefreshGauges();
  if (!was_offline) return core::Status();

  ctx.span().SetAttribute(attr::kPresenceStatus,
                          contracts::PresenceStatusName(PresenceStatus::kOnline));
  CHAT_RETURN_IF_ERROR(PutStatus(user, PresenceStatus::kOnline, ctx.span_context()));
  ctx.log().Info(ctx.span_context(), "user came online", {{attr::kUser, user}});
  PresenceDiff diff{PresenceDiffAction::kOnline, user, PresenceStatus::kOnline};
  return PublishDiffToRooms(mirror_.index().RoomsOf(user), diff, ctx.span_context());
}

core::Status PresenceService::OnDisconnect(const contracts::PresenceHeartbeat& req,
                                           RequestContext& ctx) {
  const std::string user(ctx.user());
  metrics_.disconnects.Default().Add(1, &ctx.span_context());
  core::Status deleted = conn_kv_->Delete(ConnKey(user, req.conn_id), ctx.span_context());
  if (!deleted.ok() && deleted.code() != core::ErrorCode::kNotFound) return deleted;
  auto removal = tracker_.Remove(user, req.conn_id);
  RefreshGauges();
  if (!removal.now_empty) return core::Status();
  if (!removal.was_tracked) {
    // A repeated disconnect, or one for a connection that never sent a heartbeat here: the
    // compare-and-set below still makes the cleanup happen at most once.
    ctx.span().AddEvent("connection_unknown");
  }
  auto won = GoOffline(user, "disconnect", ctx.span());
  if (!won.ok()) return won.status();
  if (!*won) ctx.span().AddEvent("already_offline_elsewhere");
  return core::Status();
}

core::Status PresenceService::OnUpdate(const contracts::PresenceUpdate& req, RequestContext& ctx) {
  const std::string user(ctx.user());
  const std::string_view status = contracts::PresenceStatusName(req.status);
  ctx.span().SetAttribute(attr::kPresenceStatus, status);
  if (req.status != PresenceStatus::kOffline && !tracker_.HasAny(user)) {
    // system.md §6.6: a stale tab must not bring a user without connections back online.
    metrics_.rejected.With({kRejectNotConnected}).Add(1, &ctx.span_context());
    ctx.Reject(kRejectNotConnected);
    return core::Status();
  }
  CHAT_RETURN_IF_ERROR(PutStatus(user, req.status, ctx.span_context()));
  metrics_.updates.With({status}).Add(1, &ctx.span_context());
  ctx.log().Info(ctx.span_context(), "presence status changed",
                 {{attr::kUser, user}, {attr::kPresenceStatus, status}});
  PresenceDiff diff{PresenceDiffAction::kStatus, user, req.status};
  return PublishDiffToRooms(mirror_.index().RoomsOf(user), diff, ctx.span_context());
}

core::Status PresenceService::OnRoomChanged(const contracts::RoomChanged& delta,
                                            RequestContext& ctx) {
  ctx.span().SetAttribute(attr::kUser, delta.user_id);
  room_types_.Learn(delta.room, delta.type);
  ctx.span().SetAttribute(attr::kRoomType, room_types_.TypeName(delta.room));
  bool was_member = mirror_.index().IsMember(delta.room, delta.user_id);
  mirror_.OnDelta(delta);

  if (delta.action == contracts::RoomChangeAction::kLeave) {
    if (!was_member) return core::Status();
    PresenceDiff diff{PresenceDiffAction::kOffline, delta.user_id, std::nullopt};
    return PublishDiff(delta.room, diff, ctx.span_context());
  }
  if (was_member || !tracker_.HasAny(delta.user_id)) return core::Status();
  // The reference reset the status to online here; keeping away/busy is what the user chose.
  CHAT_ASSIGN_OR_RETURN(PresenceStatus status, StoredStatus(delta.user_id, ctx.span_context()));
  if (status == PresenceStatus::kOffline) {
    // Connected but showing as offline (set by the user): announce nothing.
    return core::Status();
  }
  ctx.span().SetAttribute(attr::kPresenceStatus, contracts::PresenceStatusName(status));
  PresenceDiff diff{PresenceDiffAction::kOnline, delta.user_id, status};
  return PublishDiff(delta.room, diff, ctx.span_context());
}

core::Result<contracts::PresenceRoomReply> PresenceService::OnRoomQuery(RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  const std::string user(ctx.user());
  std::string_view type = room_types_.TypeName(room);
  if (!type.empty()) ctx.span().SetAttribute(attr::kRoomType, type);
  if (room_types_.Visibility(room) != RoomVisibility::kPublic &&
      !mirror_.index().IsMember(room, user)) {
    return core::PermissionDenied("not a member of this room");
  }
  contracts::PresenceRoomReply reply;
  for (auto& member : mirror_.index().Members(room)) {
    PresenceStatus status = PresenceStatus::kOffline;
    if (tracker_.HasAny(member)) {
      auto stored = StoredStatus(member, ctx.span_context());
      if (!stored.ok()) {
        return stored.status();
      }
      status = *stored;
    }
    reply.members.push_back({std::move(member), status});
  }
  return reply;
}

}  // namespace chat::presence_service

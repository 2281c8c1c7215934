// Notify (chat.{room}[.thread.{thread_id}]), the admin channel (admin.{room}.{user}) and app events
// (app.{app}.{room}.{event}): system.md §3.2.3 step 3, §3.2.4, §3.3.1 with ADR 0001 — only
// public rooms use room.notify.{room}; private rooms, DMs, admin and app traffic go per member.
// fanout_duration_seconds{kind} measures each handler (the process span), with the span as
// exemplar.
#include <chrono>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/subjects.hpp"
#include "service.hpp"

namespace chat::fanout {

namespace attr = contracts::attr;
namespace subjects = contracts::subjects;

namespace {

// Records fanout_messages_total and fanout_duration_seconds for one routed message when the
// handler returns; `kind` is set once the room class is known.
class RouteTimer {
 public:
  RouteTimer(FanoutMetrics& m, const core::Clock& clock, runtime::RequestContext& ctx)
      : m_(m), clock_(clock), ctx_(ctx), start_(clock.SteadyNow()) {}
  ~RouteTimer() {
    if (kind_.empty()) return;
    std::chrono::duration<double> d = clock_.SteadyNow() - start_;
    m_.messages.With({kind_}).Add();
    m_.duration.With({kind_}).Record(d.count(), &ctx_.span_context());
  }
  RouteTimer(const RouteTimer&) = delete;
  RouteTimer& operator=(const RouteTimer&) = delete;
  void set_kind(std::string_view kind) {
    kind_ = kind;
    ctx_.span().SetAttribute(attr::kFanoutKind, kind);
  }

 private:
  FanoutMetrics& m_;
  const core::Clock& clock_;
  runtime::RequestContext& ctx_;
  std::chrono::steady_clock::time_point start_;
  std::string_view kind_{};
};

}  // namespace

core::Status FanoutService::Notify(const runtime::RawPayload& body, runtime::RequestContext& ctx) {
  RouteTimer timer(metrics_, clock_, ctx);
  telemetry::Span& span = ctx.span();
  const std::string_view room = ctx.Arg("room");
  const std::string_view thread = ctx.Arg("thread_id");
  if (!thread.empty()) span.SetAttribute(attr::kThreadId, thread);

  // An unparseable payload still produces a notification with empty fields (system.md §3.3.1):
  // the bytes were accepted upstream (or written by a backend) and msg.get must serve them.
  contracts::Notification n;
  n.room = std::string(room);
  n.thread_id = std::string(thread);
  auto msg = contracts::FromJson<contracts::ChatMessage>(body.bytes);
  if (msg.ok()) {
    n.action = msg->action;
    n.user = msg->user;
    n.timestamp = msg->timestamp;
    if (msg->action == contracts::MessageAction::kReact) {
      n.emoji = msg->emoji;
      n.target_user = msg->target_user;
    }
    span.SetAttribute(attr::kUser, msg->user);
    if (msg->action != contracts::MessageAction::kSystem) {
      span.SetAttribute(attr::kAction, contracts::MessageActionName(msg->action));
    }
    span.SetAttribute(attr::kMessageId, contracts::MessageId(msg->timestamp, msg->user));
  } else {
    span.AddEvent("unparseable_payload");
  }
  n.notify_id = NewNotifyId(room);  // a capability: never on a span or a log line

  auto put = msg_cache_->Put(n.notify_id, body.bytes, ctx.span_context());
  if (!put.ok()) {
    // The put MSG_CACHE span is ERROR; the notification still goes out (msg.get will answer
    // not_found for it).
    span.AddEvent("fallback", {{attr::kReason, "cache_write_failed"}});
    ctx.log().Error(ctx.span_context(), "message cache write failed",
                    {{attr::kRoom, room}, {"error.type", "kv_error"}});
  }
  const std::string payload = contracts::ToJson(n);

  RoomClass cls = Classify(room);
  MemberSnapshot members;
  if (cls == RoomClass::kUnknown) {
    // Fail closed (issue 11 item 2): a room whose type is unknown (fanout restarted, delta
    // missed) is never announced on room.notify.{room}, which every user may subscribe to. The
    // member lookup asks room-service, whose reply carries the type.
    CHAT_ASSIGN_OR_RETURN(members, Members(room, ctx));
    cls = Classify(room);
    if (cls == RoomClass::kUnknown) span.AddEvent("room_type_unknown");
  }
  if (cls == RoomClass::kPublic) {
    timer.set_kind(kKindRoom);
    CHAT_RETURN_IF_ERROR(ctx.Publish(subjects::kRoomNotify, {room}, payload));
    metrics_.deliveries.With({kKindRoom}).Add();
    return core::Status::Ok();
  }
  timer.set_kind(kKindPrivate);
  // Messages written to chat.__admin__ belong to the admin channel's members.
  const std::string membership_room =
      cls == RoomClass::kAdmin ? AdminMembershipRoom("chat") : std::string(room);
  if (!members || membership_room != room) {
    CHAT_ASSIGN_OR_RETURN(members, Members(membership_room, ctx));
  }
  DeliverToMembers(ctx, subjects::kDeliverNotify, *members, {std::string(room)}, payload,
                   kKindPrivate);
  return core::Status::Ok();
}

core::Status FanoutService::Admin(const runtime::RawPayload& body, runtime::RequestContext& ctx) {
  RouteTimer timer(metrics_, clock_, ctx);
  timer.set_kind(kKindAdmin);
  const std::string_view token = ctx.Arg("room");
  const std::string_view user = ctx.user();
  const std::string membership_room = AdminMembershipRoom(token);
  ctx.span().SetAttribute(attr::kRoom,
                          token == "chat" ? std::string(contracts::kAdminRoom) : membership_room);
  // The author is the subject's user (issue 11 item 3): a body naming anybody else is refused
  // here, and persist-worker refuses to store it under that name either.
  auto msg = contracts::FromJson<contracts::ChatMessage>(body.bytes);
  if (!msg.ok()) return Refuse(ctx, attr::ingest::kInvalid, "invalid_payload");
  ctx.span().SetAttribute(attr::kMessageId, contracts::MessageId(msg->timestamp, msg->user));
  if (msg->user != user) return Refuse(ctx, attr::ingest::kRejectedSender, "sender_mismatch");
  if (msg->room != contracts::kAdminRoom) {
    return Refuse(ctx, attr::ingest::kInvalid, "room_mismatch");
  }
  if (!msg->sticker_url.empty()) {
    if (std::string_view reason = CheckSticker(msg->sticker_url, ctx); !reason.empty()) {
      return Refuse(ctx, attr::ingest::kInvalid, reason);
    }
  }
  CHAT_ASSIGN_OR_RETURN(auto members, Members(membership_room, ctx));
  // Admin copies carry the full payload (system.md §3.2.4).
  DeliverToMembers(ctx, subjects::kDeliverAdmin, *members, {std::string(token)},
                   std::string(body.bytes), kKindAdmin);
  return core::Status::Ok();
}

core::Status FanoutService::AppEvent(const runtime::RawPayload& body,
                                     runtime::RequestContext& ctx) {
  // Requests to app backends (a reply subject) are not broadcasts: ignore them.
  if (!ctx.reply_to().empty()) {
    ctx.span().AddEvent("ignored_request");
    return core::Status::Ok();
  }
  RouteTimer timer(metrics_, clock_, ctx);
  timer.set_kind(kKindApp);
  const std::string_view app = ctx.Arg("app");
  const std::string_view room = ctx.Arg("room");
  const std::string_view event = ctx.Arg("event");
  CHAT_ASSIGN_OR_RETURN(auto members, Members(room, ctx));
  DeliverToMembers(ctx, subjects::kDeliverApp, *members,
                   {std::string(app), std::string(room), std::string(event)},
                   std::string(body.bytes), kKindApp);
  return core::Status::Ok();
}

}  // namespace chat::fanout

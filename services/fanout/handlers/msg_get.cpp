// msg.get: the cached ChatMessage bytes for a notifyId (system.md §3.2.3 step 4). The caller is
// the owner of the reply inbox (ADR 0001); private rooms, DMs and the admin channel require
// membership. The room comes from the notifyId we minted ({room}.{seq}.{instance}.{token}), never
// from the request's informational `room`.
#include <chrono>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "service.hpp"

namespace chat::fanout {

namespace attr = contracts::attr;

namespace {
constexpr size_t kMaxNotifyIdBytes = 512;

bool ValidNotifyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxNotifyIdBytes) return false;
  if (id.front() == '.' || id.back() == '.') return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '/' || c == '=' || c == '.';
    if (!ok) return false;
  }
  return id.find('.') != std::string_view::npos;
}
}  // namespace

core::Result<runtime::RawReply> FanoutService::MsgGet(const contracts::MsgGetRequest& req,
                                                      runtime::RequestContext& ctx) {
  const auto start = clock_.SteadyNow();
  telemetry::Span& span = ctx.span();
  auto finish = [&](std::string_view result) {
    span.SetAttribute(attr::kFetchResult, result);
    metrics_.fetches.With({result}).Add();
    std::chrono::duration<double> d = clock_.SteadyNow() - start;
    metrics_.fetch_duration.Default().Record(d.count(), &ctx.span_context());
  };
  if (!ValidNotifyId(req.notify_id)) {
    finish(kFetchInvalid);
    return core::InvalidArgument("notifyId is malformed");
  }
  const std::string room =
      UnescapeKeyPart(std::string_view(req.notify_id).substr(0, req.notify_id.find('.')));
  span.SetAttribute(attr::kRoom, room);

  // Membership first, so a non-member learns nothing about which ids exist.
  // Only a room known to be public skips the check: an unknown type is restricted (issue 11
  // item 2), and the member lookup below teaches fanout the type.
  RoomClass cls = Classify(room);
  if (cls != RoomClass::kPublic) {
    const std::string membership_room =
        cls == RoomClass::kAdmin ? AdminMembershipRoom("chat") : room;
    auto member = IsMember(membership_room, ctx.user(), ctx);
    if (!member.ok()) {
      finish(kFetchInvalid);
      return core::Unavailable("membership could not be checked");
    }
    if (!*member && !(cls == RoomClass::kUnknown && Classify(room) == RoomClass::kPublic)) {
      finish(kFetchInvalid);
      return core::PermissionDenied("not a member of this room");
    }
  }

  auto got = msg_cache_->Get(req.notify_id, ctx.span_context());
  if (!got.ok()) {
    if (got.status().code() == core::ErrorCode::kNotFound) {
      finish(kFetchNotFound);
      return core::NotFound("message not found or expired");
    }
    return core::Unavailable("message cache unavailable");  // get MSG_CACHE span is ERROR
  }
  auto msg = contracts::FromJson<contracts::ChatMessage>(got->value);
  if (msg.ok()) {
    span.SetAttribute(attr::kMessageId, contracts::MessageId(msg->timestamp, msg->user));
  }
  finish(kFetchFound);
  return runtime::RawReply{std::move(got->value)};
}

}  // namespace chat::fanout

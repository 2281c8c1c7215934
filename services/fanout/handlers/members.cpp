// Helpers shared by fanout's routes: membership lookups (DM keys, the LRU, room.members),
// queueing per-member copies, and the ingest refusal bookkeeping.
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "service.hpp"

namespace chat::fanout {

namespace attr = contracts::attr;

core::Result<MemberSnapshot> FanoutService::Members(std::string_view membership_room,
                                                    runtime::RequestContext& ctx) {
  if (contracts::IsDmRoom(membership_room)) {
    // A DM's members are the two names in its key (ADR 0001): no lookup needed.
    CHAT_ASSIGN_OR_RETURN(auto pair, contracts::DmParticipants(membership_room));
    return std::make_shared<const MemberSet>(MemberSet{pair.first, pair.second});
  }
  bool hit = false;
  auto members =
      members_->Get(membership_room, hit, [&]() -> core::Result<std::vector<std::string>> {
        CHAT_ASSIGN_OR_RETURN(
            auto reply, ctx.Request(contracts::subjects::kRoomMembers, {membership_room}, "{}",
                                    config_.members_timeout));
        CHAT_ASSIGN_OR_RETURN(auto list,
                              contracts::FromReply<contracts::RoomMembersReply>(reply.payload()));
        // The reply also says what kind of room it is: how fanout learns the type of a room created
        // before it started (issue 11 item 2). No type = room-service could not tell: stay unknown.
        if (list.type) LearnRoomType(membership_room, *list.type);
        return std::move(list.users);
      });
  metrics_.cache_lookups.With({hit ? "hit" : "miss"}).Add();
  ctx.span().SetAttribute(attr::kCacheResult, hit ? "hit" : "miss");
  if (!hit) ctx.span().AddEvent("cache_miss");
  return members;
}

core::Result<bool> FanoutService::IsMember(std::string_view membership_room, std::string_view user,
                                           runtime::RequestContext& ctx) {
  if (contracts::IsDmRoom(membership_room)) {
    return contracts::IsDmParticipant(membership_room, user);
  }
  CHAT_ASSIGN_OR_RETURN(auto members, Members(membership_room, ctx));
  return members->count(std::string(user)) > 0;
}

void FanoutService::DeliverToMembers(runtime::RequestContext& ctx,
                                     const core::SubjectTemplate& tmpl, const MemberSet& members,
                                     std::vector<std::string> tail, std::string payload,
                                     std::string_view kind) {
  telemetry::Span span = ctx.StartSpan("deliver_members");
  const auto recipients = static_cast<int64_t>(members.size());
  span.SetAttribute(attr::kFanoutRecipients, recipients);
  int64_t dropped = 0;
  if (!members.empty()) {
    DeliveryJob job;
    job.tmpl = &tmpl;
    job.members.assign(members.begin(), members.end());
    job.tail = std::move(tail);
    job.payload = std::move(payload);
    job.parent = span.Context();
    job.kind = kind;
    if (!pool_->TryEnqueue(std::move(job))) {
      dropped = recipients;
      metrics_.drops.With({kDropQueueFull}).Add(static_cast<double>(dropped));
      span.AddEvent("queue_full");
      ctx.log().Warn(span.Context(), "delivery queue full, copies dropped",
                     {{attr::kFanoutDropped, dropped}});
    }
  }
  span.SetAttribute(attr::kFanoutDropped, dropped);
}

core::Status FanoutService::Refuse(runtime::RequestContext& ctx, std::string_view result,
                                   std::string_view reason) const {
  ctx.span().SetAttribute(attr::kIngestResult, result);
  metrics_.ingest.With({result}).Add();
  ctx.Reject(reason, result);
  return core::Status::Ok();
}

}  // namespace chat::fanout

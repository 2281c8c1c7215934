// Ingest: deliver.{user}.send.{room}[.thread.{thread_id}] → chat.{room}[.thread.{thread_id}]
// (system.md §3.2.3 step 1). Order: rate limit, parse, sender, membership, sticker, republish of
// the unchanged bytes. Refusals are silent for the sender: counted, `rejected{reason}` event, WARN.
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/subjects.hpp"
#include "service.hpp"

namespace chat::fanout {

namespace attr = contracts::attr;

core::Status FanoutService::Ingest(const runtime::RawPayload& body, runtime::RequestContext& ctx) {
  telemetry::Span& span = ctx.span();
  const std::string_view user = ctx.user();
  const std::string_view room = ctx.Arg("room");
  const std::string_view thread = ctx.Arg("thread_id");
  if (!thread.empty()) span.SetAttribute(attr::kThreadId, thread);

  // (a) rate limit: counts every ingest publish, valid or not (system.md §4.2).
  RateDecision rate = limiter_->Check(user, ctx.span_context());
  if (rate.fallback) {
    span.AddEvent("kv_fallback",
                  {{attr::kReason, rate.circuit_open ? "circuit_open" : "kv_error"},
                   {"chat.fallback", RateLimitFallbackName(config_.rate_limit_fallback)}});
    ctx.log().Warn(ctx.span_context(), "rate limit store unavailable, fallback applied",
                   {{attr::kUser, user},
                    {"chat.fallback", RateLimitFallbackName(config_.rate_limit_fallback)}});
  }
  if (!rate.allowed) {
    span.AddEvent("rate_limited");
    return Refuse(ctx, attr::ingest::kRateLimited, "rate_limited");
  }

  // (b) parse and validate (contracts); the payload must address the subject's room/thread.
  auto msg = contracts::FromJson<contracts::ChatMessage>(body.bytes);
  if (!msg.ok()) return Refuse(ctx, attr::ingest::kInvalid, "invalid_payload");
  if (msg->action != contracts::MessageAction::kSystem) {
    span.SetAttribute(attr::kAction, contracts::MessageActionName(msg->action));
  }
  span.SetAttribute(attr::kMessageId, contracts::MessageId(msg->timestamp, msg->user));
  if (core::Status addressed = contracts::CheckMessageAgainstSubject(room, thread, *msg);
      !addressed.ok()) {
    return Refuse(ctx, attr::ingest::kInvalid,
                  addressed.message() == contracts::kPayloadRoomMismatch ? "room_mismatch"
                                                                         : "thread_mismatch");
  }

  // (c) the author is the subject's user (only that user's JWT may publish this subject).
  if (msg->user != user) return Refuse(ctx, attr::ingest::kRejectedSender, "sender_mismatch");
  // A sticker is an image under our sticker base URL, never an arbitrary URL that every member's
  // browser would fetch (issue 11 item 14).
  if (!msg->sticker_url.empty() &&
      !contracts::IsAllowedStickerUrl(msg->sticker_url, config_.sticker_base_url)) {
    return Refuse(ctx, attr::ingest::kInvalid, "sticker_url");
  }

  // (d) membership, fail-closed: a room.members failure means "not a member".
  if (msg->user != contracts::kSystemUser) {
    auto member = IsMember(room, user, ctx);
    if (!member.ok()) {
      return Refuse(ctx, attr::ingest::kRejectedMembership, "membership_unavailable");
    }
    if (!*member) return Refuse(ctx, attr::ingest::kRejectedMembership, "not_member");
  }
  // (d') ... and one sticker-service knows (issue 14). After the membership check, so only a
  // room's members can make fanout consult the catalogue.
  if (!msg->sticker_url.empty()) {
    if (std::string_view reason = CheckSticker(msg->sticker_url, ctx); !reason.empty()) {
      return Refuse(ctx, attr::ingest::kInvalid, reason);
    }
  }

  // (e) republish the exact bytes; CHAT_MESSAGES captures chat.* for persist-worker.
  core::Status published =
      thread.empty() ? ctx.Publish(contracts::subjects::kChatRoom, {room}, body.bytes)
                     : ctx.Publish(contracts::subjects::kChatThread, {room, thread}, body.bytes);
  if (!published.ok()) return published;  // ERROR span + failure log (dispatcher)
  span.SetAttribute(attr::kIngestResult, attr::ingest::kAccepted);
  metrics_.ingest.With({attr::ingest::kAccepted}).Add();
  return core::Status::Ok();
}

std::string_view FanoutService::CheckSticker(std::string_view url, runtime::RequestContext& ctx) {
  if (!contracts::IsAllowedStickerUrl(url, config_.sticker_base_url)) return "sticker_url";
  auto known = stickers_->Contains(url, ctx);
  // Fail closed: while no catalogue could be loaded, no sticker is known. Text is unaffected.
  if (!known.ok()) return "sticker_catalogue_unavailable";
  return *known ? std::string_view() : std::string_view("unknown_sticker");
}

}  // namespace chat::fanout

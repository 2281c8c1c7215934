// Watch: WatchRooms subscribes to the room notifications, the user's own notify and admin
// deliveries, fetches each message's content with msg.get (as the browser does, §5.2) and hands
// the rendered Delivery to the caller's callback; the Watch it returns owns those subscriptions.
#include <memory>
#include <set>
#include <string>

#include "chat/client/session.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::client {
namespace {

namespace attr = contracts::attr;
namespace subjects = contracts::subjects;

contracts::ChatMessage FromNotification(const contracts::Notification& n) {
  contracts::ChatMessage m;
  m.user = n.user;
  m.room = n.room;
  m.timestamp = n.timestamp;
  m.thread_id = n.thread_id;
  m.action = n.action;
  m.emoji = n.emoji;
  m.target_user = n.target_user;
  return m;
}

}  // namespace

core::Result<std::unique_ptr<Watch>> Session::WatchRooms(std::vector<std::string> rooms,
                                                         Callback callback, WatchOptions options) {
  for (const auto& r : rooms) CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(r));
  std::unique_ptr<Watch> watch(new Watch());
  Watch* w = watch.get();
  auto room_set = std::make_shared<std::set<std::string, std::less<>>>(rooms.begin(), rooms.end());
  auto cb = std::make_shared<Callback>(std::move(callback));
  std::chrono::milliseconds timeout = options_.request_timeout;
  bool fetch = options.fetch;

  // Notifications: msg.get for the content (5.2), except delete/react which carry everything.
  auto on_notification = [w, room_set, cb, timeout, fetch](std::string_view via) {
    return [w, room_set, cb, timeout, fetch, via = std::string(via)](
               const natsx::Message& m, natsx::MessageContext& ctx) -> core::Status {
      auto n = contracts::FromJson<contracts::Notification>(m.payload());
      if (!n.ok()) return n.status();  // undecodable: the process span records it
      if (room_set->find(n->room) == room_set->end()) return core::Status::Ok();
      w->notifications_.fetch_add(1);
      ctx.span().SetAttribute(attr::kMessageId, contracts::MessageId(n->timestamp, n->user));
      Delivery d;
      d.via = via;
      bool needs_fetch = fetch && n->action != contracts::MessageAction::kDelete &&
                         n->action != contracts::MessageAction::kReact;
      if (needs_fetch) {
        auto reply = ctx.connection().Request(
            subjects::kMsgGet, {},
            contracts::ToJson(contracts::MsgGetRequest{n->notify_id, n->room}), timeout,
            ctx.span_context());
        core::Result<contracts::ChatMessage> msg =
            reply.ok() ? contracts::FromReply<contracts::ChatMessage>(reply->payload())
                       : core::Result<contracts::ChatMessage>(reply.status());
        if (!msg.ok()) {
          // The browser ignores failed fetches (§7.5); we count them and fall back to the
          // notification's fields so the delivery itself is not lost.
          w->fetch_failures_.fetch_add(1);
          d.message = FromNotification(*n);
        } else {
          d.message = std::move(msg).value();
          d.fetched = true;
        }
      } else {
        d.message = FromNotification(*n);
      }
      (*cb)(d);
      ctx.span().AddEvent("message_rendered");
      return core::Status::Ok();
    };
  };

  for (const auto& room : rooms) {
    if (contracts::IsDmRoom(room) || contracts::IsAdminRoom(room)) continue;  // per-member only
    auto pattern = subjects::kRoomNotify.Format({room});
    if (!pattern.ok()) return pattern.status();
    natsx::SubscribeOptions so;
    so.templates = {subjects::kRoomNotify};
    so.pattern = *pattern;
    so.link_inbound = true;  // each recipient's handling is its own trace (§5.2)
    auto sub = conn_->Subscribe(std::move(so), on_notification("room"));
    if (!sub.ok()) return sub.status();
    w->subs_.push_back(std::move(sub).value());
  }
  {
    natsx::SubscribeOptions so;
    so.templates = {subjects::kDeliverNotify};
    so.pattern = "deliver." + user_ + ".notify.*";
    so.link_inbound = true;
    auto sub = conn_->Subscribe(std::move(so), on_notification("notify"));
    if (!sub.ok()) return sub.status();
    w->subs_.push_back(std::move(sub).value());
  }
  {
    natsx::SubscribeOptions so;
    so.templates = {subjects::kDeliverAdmin};
    so.pattern = "deliver." + user_ + ".admin.*";
    so.link_inbound = true;
    auto sub = conn_->Subscribe(
        std::move(so),
        [w, room_set, cb](const natsx::Message& m, natsx::MessageContext& ctx) -> core::Status {
          auto msg = contracts::FromJson<contracts::ChatMessage>(m.payload());
          if (!msg.ok()) return msg.status();
          if (room_set->find(msg->room) == room_set->end()) return core::Status::Ok();
          w->notifications_.fetch_add(1);
          ctx.span().SetAttribute(attr::kMessageId,
                                  contracts::MessageId(msg->timestamp, msg->user));
          Delivery d;
          d.via = "admin";
          d.fetched = true;
          d.message = std::move(msg).value();
          (*cb)(d);
          ctx.span().AddEvent("message_rendered");
          return core::Status::Ok();
        });
    if (!sub.ok()) return sub.status();
    w->subs_.push_back(std::move(sub).value());
  }
  CHAT_RETURN_IF_ERROR(conn_->Flush(options_.request_timeout));
  return watch;
}

Watch::~Watch() { subs_.clear(); }

}  // namespace chat::client
